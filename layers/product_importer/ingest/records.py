"""The records of a byte range, decoded: what the consumer validates (CONTRACT §1).

The range is read as a stream through the same :class:`RecordScanner` the splitter cut it with, so both
see the same records. Runs of well-formed records are decoded and split into cells by the C ``csv``
module a run at a time (at most about one MiB); a broken record (unterminated quote, too long) becomes one
row that fails as a whole. Memory stays flat: one run at a time, whatever the range's size.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import chain
from typing import NamedTuple

from product_importer.ingest.chunking import (
    BLOCK_SIZE,
    MAX_RECORD_BYTES,
    TOO_LONG,
    UNTERMINATED_QUOTE,
    BrokenRecord,
    ReadableStream,
    RecordScanner,
)
from product_importer.ingest.encoding import decode

EXCERPT_CHARS = 200
LINE_SHOWN = 80  # characters of a broken row's line that its message shows

BROKEN_MESSAGES = {
    # (at the end of the file, or still open where the row passes 1 MiB: a quote that never closes, or a
    # value longer than a row may be; a range's reading cannot tell which. Or closed on a later line by a
    # quote with text right after it: a stray quote that an inch mark further down "closed")
    UNTERMINATED_QUOTE: "unterminated quote: a quoted value opened on this line does not close where a value "
                        "can end: it is still open after 1 MiB (a row may be at most 1 MiB) or at the end of the "
                        "file, or a quote on a later line closes it with text right after (a stray quote, or an "
                        "inch mark like 27\"); close or remove the quote",
    TOO_LONG: f"the row is longer than {MAX_RECORD_BYTES // (1 << 20)} MiB; a row may be at most 1 MiB",
}


class BrokenRow(NamedTuple):
    """A record that fails as a whole: the message says why, ``excerpt`` how its line begins, ``cells`` the
    cells its first bytes show (for the row error's sku; None: none) and ``column`` the one where it broke
    (the quote that never closed; None: not known)."""

    message: str
    excerpt: str
    cells: list[str] | None = None
    column: int | None = None


@dataclass
class RecordBatch:
    """Consecutive records of a range: ``records[i]`` is row ``first_row + i``.

    A blank line is ``[]``; so is a broken record, with ``broken[i]`` saying why. ``lossy``: some cells
    hold undecodable bytes (invalid UTF-8, kept as surrogate escapes); ``has_nul``: some cell holds a NUL;
    ``excel_text``: some cell may be Excel's text formula ``="0012"``.
    This is what ``ingest.rows.parse_rows`` takes (``broken`` as ``{i: (message, excerpt)}``)."""

    first_row: int
    records: list[list[str]] = field(default_factory=list)
    broken: dict[int, BrokenRow] = field(default_factory=dict)
    lossy: bool = False
    has_nul: bool = False
    excel_text: bool = False

    @property
    def rows(self) -> range:
        return range(self.first_row, self.first_row + len(self.records))


def decoder(encoding: str) -> Callable[[bytes], tuple[str, bool]]:
    """bytes → (text, lossy) for chunk bytes (``utf-8`` or ``windows-1252``; UTF-16 is chunked transcoded)."""
    name = "utf-8" if encoding == "utf-16" else encoding
    return lambda data: decode(data, name)


def allow_records(max_record: int = MAX_RECORD_BYTES) -> None:
    """Let the csv module read fields as long as a record may be."""
    if csv.field_size_limit() <= max_record:
        csv.field_size_limit(max_record + 1)


def cells_of(text: str, delimiter: str) -> list[list[str]]:
    """The records of ``text`` (complete records), as the csv module reads them."""
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))


def read_records(
    stream: ReadableStream,
    *,
    start: int,
    end: int,
    delimiter: str,
    encoding: str,
    first_row: int,
    max_record: int = MAX_RECORD_BYTES,
    block_size: int = BLOCK_SIZE,
) -> Iterator[RecordBatch]:
    """Read ``stream`` (the bytes ``[start, end)`` of the object, ``start`` a record start) and yield
    its records in batches, one or more per block read."""
    allow_records(max_record)
    decode = decoder(encoding)
    scanner = RecordScanner(delimiter, start, max_record=max_record)
    row = first_row
    remaining = end - start
    while remaining > 0:
        block = stream.read(min(block_size, remaining))
        if not block:
            raise EOFError(f"the range ended {remaining} bytes early")
        remaining -= len(block)
        events = scanner.feed(block) if remaining else [*scanner.feed(block), *scanner.finish()]
        if events:
            batch = _batch(events, row, delimiter, decode)
            row += len(batch.records)
            yield batch


def _batch(events: list, first_row: int, delimiter: str, decode: Callable[[bytes], tuple[str, bool]]) -> RecordBatch:
    batch = RecordBatch(first_row)
    for event in events:
        if isinstance(event, BrokenRecord):
            text, _ = decode(event.head)
            excerpt = _excerpt(text)
            cells, column = _broken_cells(event, delimiter, decode)
            message = BROKEN_MESSAGES[event.reason]
            if column is not None:  # the value is the cell: the message shows where the line begins
                line = excerpt if len(excerpt) <= LINE_SHOWN else excerpt[: LINE_SHOWN - 1] + "…"
                message += f" (the line begins: {line})"
            batch.broken[len(batch.records)] = BrokenRow(message, excerpt, cells, column)
            batch.records.append([])
            continue
        data = event.data
        text, lossy = decode(data)
        records = cells_of(text, delimiter)
        if len(records) != event.count:  # the scanner and the csv module must agree: never guess
            raise AssertionError(f"{len(records)} records where the scanner found {event.count}")
        batch.records.extend(records)
        batch.lossy = batch.lossy or lossy
        batch.has_nul = batch.has_nul or b"\x00" in data
        batch.excel_text = batch.excel_text or b'="' in data
    return batch


def _broken_cells(event: BrokenRecord, delimiter: str,
                  decode: Callable[[bytes], tuple[str, bool]]) -> tuple[list[str] | None, int | None]:
    """The cells a broken record's first bytes show, and the one where it broke (CONTRACT §1: a row error
    names its column): for an unterminated quote, the cells before the quote and the quoted value's first
    line; for a row too long, the cells its first bytes hold whole (the column is not known)."""
    head = event.head
    if event.reason == UNTERMINATED_QUOTE:
        quote = event.at - event.start
        if quote >= len(head):  # opened too far in to keep the cells before it
            return None, None
        before, _ = decode(head[:quote])
        cells = next(csv.reader(io.StringIO(before, newline=""), delimiter=delimiter), None) or [""]
        opened, _ = decode(head[quote + 1 :])
        cells[-1] = _CUT_CHARACTER.sub("", opened.splitlines()[0]) if opened else ""
        return cells, len(cells) - 1
    text, _ = decode(head)
    first = next(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), None)
    return (first[:-1] or None) if first else None, None


_CUT_CHARACTER = re.compile("[\udc80-\udcff]{1,3}$")  # a multi-byte character the head's end cut in two


def _excerpt(text: str) -> str:
    line = text.splitlines()[0] if text else ""
    line = line[:EXCERPT_CHARS]
    if not line.isprintable():
        line = line.encode("utf-8", "surrogateescape").decode("utf-8", "replace").replace("\x00", "\ufffd")
    return line


_SENTINEL = "\ud800"  # a line no decoded record holds: swallowed only by a quote still open


def family_key(delimiter: str, encoding: str, family_of: Callable[[list[str]], str | None],
               max_record: int = MAX_RECORD_BYTES) -> Callable[[bytes], str | None]:
    """A record's bytes → its family (``family_of`` its cells: ``rows.family_key``), None for none.

    A record the consumer rejects as a whole (longer than ``max_record``, a quote that never closes, NUL
    or undecodable bytes) is in no family, as a blank line: it is a row error, no family's row."""
    decode = decoder(encoding)
    allow_records(max_record)

    def key(record: bytes) -> str | None:
        if len(record) > max_record or b"\x00" in record:
            return None
        text, lossy = decode(record)
        if lossy:
            return None
        records = list(csv.reader(chain(io.StringIO(text, newline=""), (_SENTINEL,)), delimiter=delimiter))
        if len(records) != 2 or records[1] != [_SENTINEL]:
            return None
        return family_of(records[0])

    return key
