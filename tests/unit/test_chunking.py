"""split_ranges: row-aligned byte ranges that agree with the csv module, whatever the block size."""

from __future__ import annotations

import csv
import io
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st
from product_importer.ingest import ByteRange, parse_chunk, resolve_header, split_ranges

from tests.csv_samples import catalog, csv_records, csv_soup

HEADER = resolve_header(b"sku,name,color")


def ranges_of(
    data: bytes, *, rows_per_chunk: int, block_size: int = 1 << 20, start: int = 0, delimiter: str = ","
):
    """Split ``data[start:]`` the way the splitter sees an object: a stream positioned at ``start``."""
    stream = io.BytesIO(data)
    stream.seek(start)
    return list(
        split_ranges(
            stream, start=start, delimiter=delimiter, rows_per_chunk=rows_per_chunk, block_size=block_size
        )
    )


def csv_records_of(region: bytes, delimiter: str = ",") -> list[list[str]]:
    """The oracle: non-blank records as Python's csv module reads them."""
    text = region.decode("utf-8", "surrogateescape")
    return [r for r in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter) if r]


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


# ---- examples ------------------------------------------------------------------------------------------


def test_ranges_hold_rows_per_chunk_rows_and_the_last_one_the_rest():
    data = b"a,1\nb,2\nc,3\nd,4\ne,5\n"

    ranges = ranges_of(data, rows_per_chunk=2)

    assert ranges == [
        ByteRange(chunk_no=0, start=0, end=8, first_row=1, rows=2),
        ByteRange(chunk_no=1, start=8, end=16, first_row=3, rows=2),
        ByteRange(chunk_no=2, start=16, end=20, first_row=5, rows=1),
    ]


def test_ranges_start_at_the_given_offset():
    data = b"sku,name\r\na,1\r\nb,2\r\n"

    ranges = ranges_of(data, rows_per_chunk=1, start=10)

    assert [(r.start, r.end, r.first_row) for r in ranges] == [(10, 15, 1), (15, 20, 2)]


def test_no_data_rows_means_no_ranges():
    assert ranges_of(b"", rows_per_chunk=10) == []
    assert ranges_of(b"\n\r\n\r\n", rows_per_chunk=10) == []


def test_a_missing_final_newline_still_ends_the_last_row():
    ranges = ranges_of(b"a,1\nb,2", rows_per_chunk=1)

    assert [(r.start, r.end, r.rows) for r in ranges] == [(0, 4, 1), (4, 7, 1)]


@pytest.mark.parametrize("newline", [b"\n", b"\r\n", b"\r"])
def test_every_line_break_ends_a_row(newline: bytes):
    data = newline.join([b"a,1", b"b,2", b"c,3"]) + newline

    ranges = ranges_of(data, rows_per_chunk=1, block_size=1)

    assert [r.rows for r in ranges] == [1, 1, 1]
    assert [data[r.start : r.end] for r in ranges] == [b"a,1" + newline, b"b,2" + newline, b"c,3" + newline]


def test_blank_lines_take_no_row_number_and_go_with_the_chunk_before_them():
    data = b"\n\na,1\n\n\nb,2\r\n\r\nc,3\n\n"

    ranges = ranges_of(data, rows_per_chunk=1)

    assert [(data[r.start : r.end], r.first_row) for r in ranges] == [
        (b"\n\na,1\n\n\n", 1),
        (b"b,2\r\n\r\n", 2),
        (b"c,3\n\n", 3),
    ]


def test_a_quoted_line_break_does_not_end_a_row():
    data = b'a,"line one\nline two\r\nline three"\nb,"x"\n'

    ranges = ranges_of(data, rows_per_chunk=1, block_size=3)

    assert [data[r.start : r.end] for r in ranges] == [b'a,"line one\nline two\r\nline three"\n', b'b,"x"\n']


def test_a_quote_inside_an_unquoted_field_is_a_literal_character():
    data = b'M-27,Monitor 27" IPS\nM-28,"Monitor 28"" IPS"\nM-29,x\n'

    ranges = ranges_of(data, rows_per_chunk=1, block_size=4)

    assert [r.rows for r in ranges] == [1, 1, 1]
    assert data[ranges[0].start : ranges[0].end] == b'M-27,Monitor 27" IPS\n'


def test_a_closing_quote_followed_by_text_leaves_the_quotes():
    data = b'a,"quoted"tail "x\nb,2\n'  # as in csv: field is 'quotedtail "x', the line break ends the row

    assert [r.rows for r in ranges_of(data, rows_per_chunk=1)] == [1, 1]
    assert csv_records_of(data) == [["a", 'quotedtail "x'], ["b", "2"]]


def test_an_unterminated_quote_makes_the_rest_one_last_row():
    data = b'a,1\nb,"never closed\nc,3\nd,4\n'

    ranges = ranges_of(data, rows_per_chunk=1)

    assert [(r.start, r.end, r.rows) for r in ranges] == [(0, 4, 1), (4, len(data), 1)]


def test_a_crlf_split_across_reads_is_one_line_break():
    data = b"a,1\r\nb,2\r\nc,3\r\n"

    ranges = ranges_of(data, rows_per_chunk=1, block_size=4)  # blocks end right after each \r

    assert [data[r.start : r.end] for r in ranges] == [b"a,1\r\n", b"b,2\r\n", b"c,3\r\n"]


@pytest.mark.parametrize("delimiter", [";", "\t"])
def test_the_quote_rule_follows_the_delimiter(delimiter: str):
    d = delimiter.encode()
    data = b"a" + d + b'"x\ny"' + d + b"1\n" + b"b" + d + b'2"\n'

    ranges = ranges_of(data, rows_per_chunk=1, delimiter=delimiter)

    assert [r.rows for r in ranges] == [1, 1]
    assert len(csv_records_of(data, delimiter)) == 2


def test_a_non_seekable_stream_with_short_reads_is_read_once_to_the_end():
    data = catalog(50)
    body = OnlyRead(data, most=7)

    ranges = list(split_ranges(body, start=0, delimiter=",", rows_per_chunk=10))

    assert body.bytes_read == len(data)
    assert ranges == ranges_of(data, rows_per_chunk=10)


def test_ranges_come_out_before_the_stream_is_finished():
    data = catalog(1000)
    body = OnlyRead(data, most=4096)

    first = next(split_ranges(body, start=0, delimiter=",", rows_per_chunk=10, block_size=4096))

    assert first.rows == 10
    assert body.bytes_read < len(data) // 4


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError):
        ranges_of(b"a\n", rows_per_chunk=0)
    with pytest.raises(ValueError):
        ranges_of(b"a\n", rows_per_chunk=1, delimiter='"')


# ---- properties ----------------------------------------------------------------------------------------


def check_ranges(
    region: bytes, rows_per_chunk: int, block_size: int, delimiter: str = ","
) -> list[ByteRange]:
    """Split ``region`` (data starting at offset 3) and check every invariant of the ranges."""
    offset = 3
    data = b"h\r\n" + region
    ranges = ranges_of(
        data, rows_per_chunk=rows_per_chunk, block_size=block_size, start=offset, delimiter=delimiter
    )

    records = csv_records_of(region, delimiter)
    assert sum(r.rows for r in ranges) == len(records)
    if records:  # contiguous, exactly covering the region
        assert ranges[0].start == offset
        assert ranges[-1].end == len(data)
    assert all(a.end == b.start for a, b in pairwise(ranges))
    assert [r.chunk_no for r in ranges] == list(range(len(ranges)))
    assert all(r.rows == rows_per_chunk for r in ranges[:-1])
    assert all(0 < r.rows <= rows_per_chunk for r in ranges)
    assert [r.first_row for r in ranges] == [1 + sum(r.rows for r in ranges[:i]) for i in range(len(ranges))]
    # never splits a record: the records of the pieces are the records of the whole
    pieces = [rec for r in ranges for rec in csv_records_of(data[r.start : r.end], delimiter)]
    assert pieces == records
    assert [len(csv_records_of(data[r.start : r.end], delimiter)) for r in ranges] == [r.rows for r in ranges]
    # the block size changes nothing
    assert ranges == ranges_of(
        data, rows_per_chunk=rows_per_chunk, block_size=len(data) + 1, start=offset, delimiter=delimiter
    )
    return ranges


@given(region=csv_soup(), rows_per_chunk=st.integers(1, 5), block_size=st.integers(1, 64))
def test_ranges_agree_with_the_csv_module_on_any_bytes(region: bytes, rows_per_chunk: int, block_size: int):
    check_ranges(region, rows_per_chunk, block_size)


@given(
    delimiter=st.sampled_from([",", ";", "\t"]),
    data=st.data(),
    rows_per_chunk=st.integers(1, 6),
    block_size=st.integers(1, 64),
)
def test_ranges_agree_with_the_csv_module_on_nasty_records(delimiter, data, rows_per_chunk, block_size):
    region = data.draw(csv_records(delimiter=delimiter, width=3))
    check_ranges(region, rows_per_chunk, block_size, delimiter)


@given(region=csv_soup(), rows_per_chunk=st.integers(1, 5), block_size=st.integers(1, 64))
def test_parsing_chunk_by_chunk_equals_parsing_the_whole(region: bytes, rows_per_chunk: int, block_size: int):
    ranges = check_ranges(region, rows_per_chunk, block_size)
    data = b"h\r\n" + region

    chunks = [parse_chunk(data[r.start : r.end], HEADER, r.first_row) for r in ranges]
    whole = parse_chunk(region, HEADER, 1)

    assert [row for c in chunks for row in c.rows] == whole.rows
    assert [error for c in chunks for error in c.errors] == whole.errors
    # every record of a range is imported, failed or skipped (blank rows, CONTRACT §1)
    assert [c.rows_seen + c.rows_skipped for c in chunks] == [r.rows for r in ranges]
    assert whole.rows_seen + whole.rows_skipped == sum(r.rows for r in ranges)


@given(data=st.data(), rows_per_chunk=st.integers(1, 6), block_size=st.integers(1, 64))
def test_parsing_chunk_by_chunk_equals_parsing_the_whole_on_nasty_records(data, rows_per_chunk, block_size):
    region = data.draw(csv_records(width=3))
    ranges = check_ranges(region, rows_per_chunk, block_size)
    whole_data = b"h\r\n" + region

    chunks = [parse_chunk(whole_data[r.start : r.end], HEADER, r.first_row) for r in ranges]
    whole = parse_chunk(region, HEADER, 1)

    assert [row for c in chunks for row in c.rows] == whole.rows
    assert [error for c in chunks for error in c.errors] == whole.errors
    assert len(whole.rows) + len({e.row for e in whole.errors}) == whole.rows_seen
    assert sum(c.rows_skipped for c in chunks) == whole.rows_skipped
    assert [row[0] for row in whole.rows] == sorted(row[0] for row in whole.rows)


def test_a_larger_catalog_splits_the_same_with_any_block_size():
    data = catalog(2000, newline="\r\n")

    by_block = {size: ranges_of(data, rows_per_chunk=300, block_size=size) for size in (17, 4096, 1 << 20)}

    assert by_block[17] == by_block[4096] == by_block[1 << 20]
    assert sum(r.rows for r in by_block[17]) == 2001  # the header is a row here: start=0
