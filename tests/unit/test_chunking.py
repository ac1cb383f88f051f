"""The record scanner and the splitter's cuts: records as the csv module reads them, a broken quote costing
one row, chunks bounded by rows and bytes, the same cuts whatever the block size or checkpoint."""

from __future__ import annotations

import csv
import io
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from product_importer.ingest.chunking import (
    TOO_LONG,
    UNTERMINATED_QUOTE,
    BrokenRecord,
    ByteRange,
    RecordScanner,
    SplitPosition,
    split_ranges,
)
from product_importer.ingest.records import family_key

from tests.csv_reference import reference_records
from tests.csv_samples import catalog, csv_records, csv_soup


def scan(data: bytes, *, block_size: int = 1 << 20, max_record: int = 1 << 20, delimiter: str = ",",
         start: int = 0) -> list[tuple[int, int, str]]:
    """The scanner's records of ``data[start:]`` as (start, end, kind), checking every run's index."""
    scanner = RecordScanner(delimiter, start, max_record=max_record)
    events = []
    for i in range(start, len(data), block_size):
        events += scanner.feed(data[i : i + block_size])
    events += scanner.finish()
    found: list[tuple[int, int, str]] = []
    for event in events:
        if isinstance(event, BrokenRecord):
            assert data[event.start : event.start + len(event.head)] == event.head
            found.append((event.start, event.end, event.reason))
            continue
        assert event.data == data[event.start : event.end]
        ends = event.ends(event.start, event.end)
        assert len(ends) == event.count == event.count_between(event.start, event.end)
        starts = [event.start, *ends[:-1]]
        for i, begin in enumerate(starts):  # every record end can be found from every record start
            for k in (1, 2, len(ends) - i):
                if 1 <= k <= len(ends) - i:
                    assert event.end_of(begin, k) == ends[i + k - 1]
            for limit in (begin, ends[i] - 1, ends[i], ends[-1], ends[-1] + 5):
                within = event.last_end_within(begin, limit)
                before = [e for e in ends[i:] if e <= limit]
                assert within == ((before[-1], len(before)) if before else None)
        found.extend((a, b, "ok") for a, b in zip(starts, ends, strict=True))
    return found


def oracle(data: bytes, **options) -> list[tuple[int, int, str]]:
    return reference_records(data, options.get("delimiter", ","), options.get("max_record", 1 << 20))


def csv_records_of(region: bytes, delimiter: str = ",") -> list[list[str]]:
    text = region.decode("utf-8", "surrogateescape")
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))


def ranges_of(data: bytes, *, rows_per_chunk: int, block_size: int = 1 << 20, start: int = 0,
              delimiter: str = ",", **options) -> list[ByteRange]:
    stream = io.BytesIO(data)
    stream.seek(start)
    return list(split_ranges(stream, start=start, delimiter=delimiter, rows_per_chunk=rows_per_chunk,
                             block_size=block_size, **options))


class OnlyRead:
    """A non-seekable body that returns short reads, like a streaming HTTP response."""

    def __init__(self, data: bytes, most: int = 5) -> None:
        self.data, self.pos, self.most, self.bytes_read = data, 0, most, 0

    def read(self, size: int = -1) -> bytes:
        size = min(size, self.most)
        chunk = self.data[self.pos : self.pos + size]
        self.pos += len(chunk)
        self.bytes_read += len(chunk)
        return chunk


# ---- records -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("newline", [b"\n", b"\r\n", b"\r"])
def test_every_line_break_ends_a_record_and_a_blank_line_is_a_record(newline: bytes):
    data = newline.join([b"a,1", b"", b"b,2", b"c,3"]) + newline

    records = scan(data, block_size=1)

    assert [data[a:b] for a, b, _ in records] == [b"a,1" + newline, newline, b"b,2" + newline, b"c,3" + newline]


def test_quoted_line_breaks_and_doubled_quotes_stay_in_their_record():
    data = b'a,"line one\nline two\r\nthree ""x"""\nb,"x"\n'

    assert [data[a:b] for a, b, _ in scan(data, block_size=3)] == [
        b'a,"line one\nline two\r\nthree ""x"""\n', b'b,"x"\n']


def test_a_quote_inside_an_unquoted_field_is_a_literal_character():
    data = b'M-27,Monitor 27" IPS\nM-28,"Monitor 28"" IPS"\nM-29,27",x\n'

    records = scan(data)

    assert len(records) == 3
    assert csv_records_of(data[records[2][0] : records[2][1]]) == [["M-29", '27"', "x"]]


def test_a_stray_quote_costs_one_row_and_reading_goes_on_at_the_next_line():
    good = b"".join(b"G-%05d,Good product,9.99\n" % n for n in range(1, 3001))
    data = b"A1,fine,1\n" + b'A2,"oops,2\n' + good

    records = scan(data, max_record=64 << 10)

    assert len(records) == 3002
    assert records[1] == (10, 21, UNTERMINATED_QUOTE)
    assert all(kind == "ok" for _, _, kind in records[2:])


@pytest.mark.parametrize("block_size", [1, 7, 1 << 20])
def test_a_stray_quote_that_a_later_inch_mark_closes_costs_one_row(block_size: int):
    # csv would read S-1's description on to the quote of 27" 300 lines later and swallow every line between
    rows = [b"S-0,Before,1,fine", b'S-1,Stray,1,"12 inch screen']
    rows += [b"S-%d,Row %d,%d,plain" % (i, i, i) for i in range(2, 302)]
    rows += [b'S-302,Monitor,5,27" IPS panel', b"S-303,After,5,ok"]
    data = b"\n".join(rows) + b"\n"

    records = scan(data, block_size=block_size)

    assert [kind for _, _, kind in records] == ["ok", UNTERMINATED_QUOTE, *["ok"] * 302]
    assert [data[a:b] for a, b, _ in records[1:3]] == [rows[1] + b"\n", rows[2] + b"\n"]
    assert csv_records_of(data[records[-2][0] : records[-2][1]]) == [["S-302", "Monitor", "5", '27" IPS panel']]


def test_a_stray_quote_closed_by_the_opening_quote_of_a_later_field_costs_one_row():
    data = b'a,1,x\nb,"oops,2\nc,3,x\nd,4,x\ne,5,x\nf,6,"Quoted, properly"\ng,7,x\n'

    records = scan(data, block_size=3)

    assert [kind for _, _, kind in records] == ["ok", UNTERMINATED_QUOTE, "ok", "ok", "ok", "ok", "ok"]
    assert csv_records_of(data[records[5][0] : records[5][1]]) == [["f", "6", "Quoted, properly"]]


def test_spaces_after_a_quoted_line_break_value_before_the_delimiter_are_no_stray_quote():
    data = b'a,"two\nlines"  ,1\nb,"x\ny"  \nc,3,4\n'

    records = scan(data, block_size=4)

    assert [kind for _, _, kind in records] == ["ok", "ok", "ok"]
    assert csv_records_of(data[records[0][0] : records[0][1]]) == [["a", "two\nlines  ", "1"]]


def test_a_quoted_field_closed_on_its_own_line_by_a_stray_character_stays_one_lenient_record():
    # no line break inside the quotes: nothing can have been swallowed, and csv's reading stands
    data = b'a,"x"trailing,1\nb,"two\nlines",2\n'

    records = scan(data, block_size=2)

    assert [kind for _, _, kind in records] == ["ok", "ok"]
    assert csv_records_of(data[records[0][0] : records[0][1]]) == [["a", "xtrailing", "1"]]


def test_an_unterminated_quote_at_the_end_of_the_file_is_a_row_error_and_the_lines_after_it_are_rows():
    data = b'a,1\nb,"never closed\nc,3\nd,4'

    assert scan(data, block_size=2) == [(0, 4, "ok"), (4, 20, UNTERMINATED_QUOTE), (20, 24, "ok"), (24, 27, "ok")]


def test_the_line_where_the_quote_opened_is_the_one_that_is_skipped():
    data = b'a,"x\ny",b,"open\nrest of it\nnext,1\n'  # the record's first quote closes on line 2

    records = scan(data, max_record=24)

    assert records[0] == (0, 16, UNTERMINATED_QUOTE)  # lines 1-2, up to the end of the line of "open
    assert [data[a:b] for a, b, _ in records[1:]] == [b"rest of it\n", b"next,1\n"]


def test_a_record_longer_than_the_limit_is_one_row_error_whatever_its_quotes():
    long_line = b"x," + b"y" * 100 + b"\n"

    records = scan(b"a,1\n" + long_line + b"b,2\n", max_record=50, block_size=7)

    assert [kind for _, _, kind in records] == ["ok", TOO_LONG, "ok"]
    assert records[1] == (4, 4 + len(long_line), TOO_LONG)


@pytest.mark.parametrize("newline", [b"\n", b"\r\n", b"\r"])
@pytest.mark.parametrize("block_size", [1, 2, 3, 1 << 20])
def test_the_limit_counts_the_record_not_its_line_break(newline: bytes, block_size: int):
    """CONTRACT §1: a record longer than 1 MiB is a row error. A record of exactly the limit was one with
    LF, and one byte less was one with CRLF: the line ending decided."""
    data = b"abc" + newline + b"d" + newline

    assert scan(data, max_record=3, block_size=block_size)[0] == (0, 3 + len(newline), "ok")
    assert scan(data, max_record=2, block_size=block_size)[0] == (0, 3 + len(newline), TOO_LONG)
    assert scan(b"abc", max_record=3, block_size=block_size) == [(0, 3, "ok")]  # at the end of the file


def test_memory_stays_bounded_while_a_broken_record_is_skipped():
    scanner = RecordScanner(",", 0, max_record=1000)
    events = scanner.feed(b'a,"' + b"x" * 5000)
    for _ in range(100):
        events += scanner.feed(b"y" * 10_000)
        assert len(scanner._buf) < 2 * 10_000
    events += scanner.feed(b"\nb,1\n") + scanner.finish()

    assert [(type(e).__name__, e.count) for e in events] == [("BrokenRecord", 1), ("Records", 1)]


@settings(max_examples=300)
@given(data=csv_soup(), block_size=st.integers(1, 64), max_record=st.sampled_from([3, 8, 25, 1 << 20]))
def test_the_scanner_agrees_with_the_reference_on_any_bytes(data: bytes, block_size: int, max_record: int):
    assert scan(data, block_size=block_size, max_record=max_record) == oracle(data, max_record=max_record)


@settings(max_examples=300)
@given(delimiter=st.sampled_from([",", ";", "\t"]), draw=st.data(), block_size=st.integers(1, 64),
       max_record=st.sampled_from([16, 40, 1 << 20]))
def test_the_scanner_agrees_with_the_reference_on_nasty_records(delimiter, draw, block_size, max_record):
    data = draw.draw(csv_records(delimiter=delimiter, width=3))

    assert scan(data, block_size=block_size, max_record=max_record, delimiter=delimiter) == oracle(
        data, max_record=max_record, delimiter=delimiter)


@given(draw=st.data(), start=st.integers(0, 3))
def test_the_records_are_the_csv_modules_when_nothing_is_broken(draw, start: int):
    data = b"h\r\n"[:start] + draw.draw(csv_records(width=3))
    records = scan(data, start=start, block_size=5)
    if any(kind != "ok" for _, _, kind in records):
        return

    pieces = [rec for a, b, _ in records for rec in csv_records_of(data[a:b])]

    assert pieces == csv_records_of(data[start:])
    assert all(len(csv_records_of(data[a:b])) == 1 for a, b, _ in records)


_LONG = st.sampled_from([b"a" * 40, b'"' + b"q, \n" * 10 + b'"', b"x" * 30 + b'" 27"', b",", b"\n", b"\r\n", b'""'])


@settings(max_examples=200)
@given(pieces=st.lists(_LONG, max_size=40), block_size=st.integers(1, 200))
def test_long_stretches_between_quotes_take_the_fast_path_and_stay_exact(pieces: list[bytes], block_size: int):
    data = b"".join(pieces)

    assert scan(data, block_size=block_size) == oracle(data)


# ---- cuts ----------------------------------------------------------------------------------------------


def test_ranges_hold_rows_per_chunk_records_and_the_last_one_the_rest():
    data = b"a,1\nb,2\nc,3\nd,4\ne,5\n"

    assert ranges_of(data, rows_per_chunk=2) == [
        ByteRange(chunk_no=0, start=0, end=8, first_row=1, rows=2),
        ByteRange(chunk_no=1, start=8, end=16, first_row=3, rows=2),
        ByteRange(chunk_no=2, start=16, end=20, first_row=5, rows=1),
    ]


def test_blank_lines_are_rows_with_numbers():
    data = b"a,1\n\n\nb,2\r\n\r\nc,3\n"

    ranges = ranges_of(data, rows_per_chunk=2)

    assert [(data[r.start : r.end], r.first_row, r.rows) for r in ranges] == [
        (b"a,1\n\n", 1, 2), (b"\nb,2\r\n", 3, 2), (b"\r\nc,3\n", 5, 2)]


def test_chunks_are_bounded_by_bytes_as_well_as_rows():
    data = b"".join(b"r%03d," % n + b"x" * 90 + b"\n" for n in range(100))  # 96-byte records

    ranges = ranges_of(data, rows_per_chunk=1000, bytes_per_chunk=1000)

    assert [r.rows for r in ranges] == [10] * 10
    assert all(r.end - r.start <= 1000 for r in ranges)


def test_a_record_larger_than_a_chunk_is_a_chunk_of_its_own():
    data = b"a,1\n" + b"b," + b"y" * 300 + b"\n" + b"c,3\n"

    ranges = ranges_of(data, rows_per_chunk=10, bytes_per_chunk=100)

    assert [(r.rows, r.end - r.start) for r in ranges] == [(1, 4), (1, 303), (1, 4)]


def test_ranges_start_at_the_given_offset_and_come_out_before_the_stream_ends():
    data = catalog(1000)
    header_end = data.index(b"\n") + 1
    body = OnlyRead(data[header_end:], most=4096)

    first = next(split_ranges(body, start=header_end, delimiter=",", rows_per_chunk=10, block_size=4096))

    assert (first.start, first.rows, first.first_row) == (header_end, 10, 1)
    assert body.bytes_read < len(data) // 4


def test_no_data_means_no_ranges_and_bad_arguments_are_refused():
    assert ranges_of(b"", rows_per_chunk=10) == []
    with pytest.raises(ValueError):
        ranges_of(b"a\n", rows_per_chunk=0)
    with pytest.raises(ValueError):
        ranges_of(b"a\n", rows_per_chunk=1, delimiter='"')


def check_ranges(region: bytes, rows_per_chunk: int, bytes_per_chunk: int, block_size: int, max_record: int,
                 delimiter: str = ",") -> list[ByteRange]:
    """Split ``region`` (data at offset 3) and check every invariant of the ranges."""
    offset = 3
    data = b"h\r\n" + region
    options = {"rows_per_chunk": rows_per_chunk, "bytes_per_chunk": bytes_per_chunk, "max_record": max_record,
               "start": offset, "delimiter": delimiter}
    ranges = ranges_of(data, block_size=block_size, **options)
    records = [(a + offset, b + offset) for a, b, _ in oracle(region, max_record=max_record, delimiter=delimiter)]
    ends = {b for _, b in records}

    assert sum(r.rows for r in ranges) == len(records)
    if records:
        assert (ranges[0].start, ranges[-1].end) == (offset, len(data))
    assert all(a.end == b.start for a, b in pairwise(ranges))
    assert [r.chunk_no for r in ranges] == list(range(len(ranges)))
    assert [r.first_row for r in ranges] == [1 + sum(r.rows for r in ranges[:i]) for i in range(len(ranges))]
    for r in ranges:
        assert r.end in ends  # never inside a record
        assert r.rows == sum(1 for a, b in records if r.start <= a < r.end)
        assert 0 < r.rows <= rows_per_chunk
        assert r.end - r.start <= bytes_per_chunk or r.rows == 1
    for r in ranges[:-1]:  # a chunk ends only where the next record would break a limit
        following = next(b for a, b in records if a == r.end)
        assert r.rows == rows_per_chunk or following - r.start > bytes_per_chunk
    # the block size changes nothing, and a split resumed at any cut cuts the rest the same
    assert ranges == ranges_of(data, block_size=len(data) + 1, **options)
    for r in ranges[1:3]:
        resumed = ranges_of(data, block_size=block_size, resume=SplitPosition(r.chunk_no, r.start, r.first_row),
                            **{**options, "start": r.start})
        assert resumed == [x for x in ranges if x.chunk_no >= r.chunk_no]
    return ranges


@settings(max_examples=300)
@given(region=csv_soup(), rows_per_chunk=st.integers(1, 5), bytes_per_chunk=st.integers(1, 40),
       block_size=st.integers(1, 64), max_record=st.sampled_from([6, 20, 1 << 20]))
def test_cuts_hold_every_invariant_on_any_bytes(region, rows_per_chunk, bytes_per_chunk, block_size, max_record):
    check_ranges(region, rows_per_chunk, bytes_per_chunk, block_size, max_record)


@settings(max_examples=200)
@given(delimiter=st.sampled_from([",", ";", "\t"]), draw=st.data(), rows_per_chunk=st.integers(1, 6),
       bytes_per_chunk=st.integers(5, 80), block_size=st.integers(1, 64))
def test_cuts_hold_every_invariant_on_nasty_records(delimiter, draw, rows_per_chunk, bytes_per_chunk, block_size):
    region = draw.draw(csv_records(delimiter=delimiter, width=3))
    check_ranges(region, rows_per_chunk, bytes_per_chunk, block_size, 1 << 20, delimiter)


def test_a_larger_catalog_splits_the_same_with_any_block_size():
    data = catalog(2000, newline="\r\n")

    by_block = {size: ranges_of(data, rows_per_chunk=300, bytes_per_chunk=30_000, block_size=size)
                for size in (17, 4096, 1 << 20)}

    assert by_block[17] == by_block[4096] == by_block[1 << 20]
    assert sum(r.rows for r in by_block[17]) == 2001  # the header is a row here: start=0


# ---- families (Shopify: rows sharing a Handle) ------------------------------------------------------------


def _first_cell(cells: list[str]) -> str | None:
    return cells[0].strip() or None if cells else None


def families_csv(sizes: list[int]) -> bytes:
    lines = []
    for family, size in enumerate(sizes):
        for variant in range(size):
            lines.append(f"h{family},v{variant},x\n")
    return "".join(lines).encode()


def family_of(data: bytes, r: ByteRange) -> list[str]:
    return [rec[0] for rec in csv_records_of(data[r.start : r.end])]


@given(sizes=st.lists(st.integers(1, 7), max_size=25), rows_per_chunk=st.integers(1, 9),
       block_size=st.integers(3, 50))
def test_a_family_is_never_split_unless_it_fills_a_chunk(sizes: list[int], rows_per_chunk: int, block_size: int):
    data = families_csv(sizes)
    key = family_key(",", "utf-8", _first_cell)

    ranges = ranges_of(data, rows_per_chunk=rows_per_chunk, block_size=block_size, family_key=key)

    assert sum(r.rows for r in ranges) == sum(sizes)
    assert all(a.end == b.start for a, b in pairwise(ranges))
    for prev, nxt in pairwise(ranges):
        last, first = family_of(data, prev)[-1], family_of(data, nxt)[0]
        if last == first:  # split: only because the family alone is longer than a chunk
            assert sizes[int(first[1:])] > rows_per_chunk
            assert nxt.context is not None
            context = data[nxt.context[0] : nxt.context[1]]
            assert context == f"{first},v0,x\n".encode()  # the family's first record
        else:
            assert nxt.context is None
    assert ranges == ranges_of(data, rows_per_chunk=rows_per_chunk, block_size=len(data) + 1, family_key=key)


def test_a_family_longer_than_a_chunk_gives_every_later_chunk_its_first_row():
    data = families_csv([2, 7, 1])
    key = family_key(",", "utf-8", _first_cell)

    ranges = ranges_of(data, rows_per_chunk=3, family_key=key)

    assert [family_of(data, r) for r in ranges] == [["h0", "h0"], ["h1"] * 3, ["h1"] * 3, ["h1", "h2"]]
    first_h1 = data.index(b"h1,v0")
    assert [r.context for r in ranges] == [None, None, (first_h1, first_h1 + 8), (first_h1, first_h1 + 8)]


@pytest.mark.parametrize("line_end", [b"\n", b"\r\n"])
def test_a_file_whose_every_line_opens_a_quote_is_scanned_in_linear_work(monkeypatch: pytest.MonkeyPatch,
                                                                         line_end: bytes) -> None:
    """CONTRACT §1: one bad line costs one row, and no file wedges the system. Found by a tester: every broken
    line indexed the whole window ahead (up to 1 MiB), so 60,000 lines that each open a quote (1.9 MB) took 24
    minutes to split, and every other import waited. Counted, not timed: the bytes the scanner indexes."""
    from product_importer.ingest import chunking

    lines = 3000
    data = b"".join(b'AO-%d,"name %d,desc %d' % (i, i, i) + line_end for i in range(lines))
    indexed = []
    real = chunking._index_of
    monkeypatch.setattr(chunking, "_index_of", lambda buf, end, *a: indexed.append(end) or real(buf, end, *a))

    scanner = RecordScanner(",", 0)
    events = [*scanner.feed(data), *scanner.finish()]

    assert [type(e).__name__ for e in events] == ["BrokenRecord"] * lines  # each line its own row error
    assert [e.start for e in events] == [i for i in range(len(data)) if i == 0 or data[i - 1:i] == b"\n"]
    assert sum(indexed) <= 2 * chunking.PROBE_BYTES * lines + 8 * len(data)  # (it was ~1,500 × the file)
