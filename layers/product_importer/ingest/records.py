"""The records of a byte range, decoded: what the consumer validates (CONTRACT §1).

The range is read as a stream through the same :class:`RecordScanner` the splitter cut it with, so both
see the same records. Runs of well-formed records are decoded and split into cells by the C ``csv``
module a run at a time (at most about one MiB); a broken record (unterminated quote, too long) becomes one
row that fails as a whole. Memory stays flat: one run at a time, whatever the range's size.
"""

from __future__ import annotations

import csv
import io
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

BROKEN_MESSAGES = {
    UNTERMINATED_QUOTE: "unterminated quote: a quoted value opened on this line never closes; close or remove the quote",
    TOO_LONG: f"the row is longer than {MAX_RECORD_BYTES // (1 << 20)} MiB; a row may be at most 1 MiB",
}


class BrokenRow(NamedTuple):
    """A record that fails as a whole: the message says why, ``excerpt`` how its line begins."""

    message: str
    excerpt: str


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
            batch.broken[len(batch.records)] = BrokenRow(BROKEN_MESSAGES[event.reason], _excerpt(text))
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
