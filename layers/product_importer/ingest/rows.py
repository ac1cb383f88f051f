"""Parse and validate the data rows of one chunk (CONTRACT §1): the consumer's hot path.

Entry points (the seam is described in ``ingest.plan``):

- ``parse_chunk(data, plan, first_row, *, family_context=None) -> ParsedChunk``: the bytes of whole
  records (a chunk), decoded once with ``plan.data_encoding``, parsed by the C ``csv`` module. The
  first record is row ``first_row``; every record takes a number, empty lines too. A quote still open
  at the end of ``data`` is one row error ("unterminated quote") on the line where it opened, and
  reading goes on at the next line.
- ``parse_rows(records, plan, first_row, *, broken, lossy, has_nul, family_context)``: records the
  byte level already split into cells, in its batches.
- ``parse_records(records, plan, *, family_context=None)``: the same from ``Record`` tuples.
- ``read_records(data, plan, first_row) -> list[Record]``: how ``parse_chunk`` reads bytes.
- ``family_key(cells, plan)``, ``family_context(cells, plan)``: a record's family, and what a chunk that
  starts inside that family needs from its first row.

Validation itself is ``ingest.validate``. Blank and all-empty rows, and rows a profile skips, are
counted in ``rows_skipped``, never errors.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence, Set
from itertools import chain
from typing import Any

from product_importer.ingest.encoding import UTF16, decode, has_undecodable
from product_importer.ingest.plan import FilePlan, Record
from product_importer.ingest.rules import FamilyContext
from product_importer.ingest.validate import ROW_FIELDS, Broken, ParsedChunk, RowError, validator

__all__ = [
    "ROW_FIELDS",
    "UNTERMINATED_QUOTE",
    "ParsedChunk",
    "RowError",
    "family_context",
    "family_key",
    "family_values",
    "has_families",
    "parent_names",
    "parse_chunk",
    "parse_records",
    "parse_rows",
    "read_records",
]

UNTERMINATED_QUOTE = "unterminated quote: a quoted value opened here never closes; close or remove the quote"


def parse_chunk(
    data: bytes, plan: FilePlan, first_row: int, *, family_context: FamilyContext | None = None
) -> ParsedChunk:
    """Parse the bytes of whole records; the first is data row ``first_row``.

    Bytes with quotes are read by the consumer's record scanner (``ingest.records.read_records``), so a
    broken quote costs the same one row here as in an import (CONTRACT §1), also one that a quote lines
    later closes without a delimiter after it (the csv module would read on to it and swallow the lines
    between). UTF-16 bytes (two bytes a character) and bytes without quotes go to the csv module whole."""
    if plan.data_encoding != UTF16 and b'"' in data:
        return _parse_scanned(data, plan, first_row, family_context)
    text, lossy = decode(data, plan.data_encoding)
    records, unterminated = _read(text, plan.delimiter)
    preset: dict[int, Broken] = {}
    if unterminated:
        records, preset = _resync(text, plan.delimiter)
    numbers = range(first_row, first_row + len(records))
    return validator(plan).parse(records, numbers, preset, lossy, "\x00" in text, family_context,
                                 excel_text='="' in text)


def _parse_scanned(data: bytes, plan: FilePlan, first_row: int, context: FamilyContext | None) -> ParsedChunk:
    """``parse_chunk`` through the record scanner, batch by batch as the consumer reads a range."""
    from product_importer.ingest.records import read_records as scan_records

    parts = []
    for batch in scan_records(io.BytesIO(data), start=0, end=len(data), delimiter=plan.delimiter,
                              encoding=plan.data_encoding, first_row=first_row):
        parts.append(parse_rows(batch.records, plan, batch.first_row, broken=batch.broken, lossy=batch.lossy,
                                has_nul=batch.has_nul, excel_text=batch.excel_text, family_context=context))
        context = parts[-1].family_tail
    return ParsedChunk.combine(parts)


def parse_rows(
    records: list[list[str]],
    plan: FilePlan,
    first_row: int,
    *,
    broken: Mapping[int, tuple[str, str | None] | tuple[str, str | None, list[str] | None, int | None]]
    | None = None,
    lossy: bool | None = None,
    has_nul: bool | None = None,
    excel_text: bool | None = None,
    family_context: FamilyContext | None = None,
) -> ParsedChunk:
    """Parse consecutive records the byte level read and split into cells; ``records[i]`` is row
    ``first_row + i`` (a blank line is ``[]``). The lists in ``records`` may be changed in place.

    ``broken[i] = (message, excerpt)`` or ``(message, excerpt, cells, column)``: the byte level rejected
    record ``i`` as a whole (its entry in ``records`` is ``[]``): the row fails with that message and shows
    the excerpt as its value; ``cells``, the cells it read of the record (None: none), give the row error
    its sku, and ``column`` (an index in them, None: not known) its column and value.
    ``lossy``: some cells may hold undecodable UTF-8 bytes as surrogate escapes; ``has_nul``: some
    cell may hold a NUL (``b"\\x00" in data`` is the cheap way to know); ``excel_text``: some cell may be
    Excel's text formula ``="0012"`` (``b'="' in data``); None: look.
    """
    if lossy is None:
        lossy = plan.data_encoding == "utf-8" and any(
            has_undecodable(cell) for record in records for cell in record if not cell.isascii()
        )
    if has_nul is None:
        has_nul = any("\x00" in "".join(record) for record in records)
    if excel_text is None:
        excel_text = any('="' in "".join(record) for record in records)
    preset: dict[int, Broken] = {
        i: (found[0], None, found[1]) if len(found) == 2 else (found[0], found[2], found[1], found[3])
        for i, found in (broken or {}).items()
    }
    numbers = range(first_row, first_row + len(records))
    return validator(plan).parse(records, numbers, preset, lossy, has_nul, family_context, excel_text=excel_text)


def parse_records(
    records: Iterable[Record], plan: FilePlan, *, family_context: FamilyContext | None = None
) -> ParsedChunk:
    """Parse records the byte level read (see ``Record``); they come in row order."""
    cells: list[list[str]] = []
    numbers: list[int] = []
    preset: dict[int, Broken] = {}
    lossy = has_nul = False
    for i, record in enumerate(records):
        numbers.append(record.row_no)
        if record.error is not None:
            preset[i] = (record.error, record.cells, None)
            cells.append([])
            continue
        row = record.cells or []
        cells.append(row)
        joined = "".join(row)
        has_nul = has_nul or "\x00" in joined
        lossy = lossy or (plan.data_encoding == "utf-8" and not joined.isascii() and has_undecodable(joined))
    return validator(plan).parse(cells, numbers, preset, lossy, has_nul, family_context)


def read_records(data: bytes, plan: FilePlan, first_row: int) -> list[Record]:
    """The records ``parse_chunk`` reads from ``data`` (undecodable UTF-8 as surrogate escapes)."""
    text, _ = decode(data, plan.data_encoding)
    records, unterminated = _read(text, plan.delimiter)
    preset: dict[int, Broken] = {}
    if unterminated:
        records, preset = _resync(text, plan.delimiter)
    out = []
    for i, record in enumerate(records):
        if i in preset:
            message, cells = preset[i][:2]
            out.append(Record(first_row + i, cells, message))
        else:
            out.append(Record(first_row + i, record))
    return out


def family_key(cells: Sequence[str], plan: FilePlan) -> str | None:
    """The family a record belongs to (Shopify: its Handle; WooCommerce: its parent, or itself when it is
    one), or None."""
    checks = validator(plan)
    if checks.rules is None or checks.repeats_header(cells):  # a repeated header is skipped: in no family
        return None
    return checks.rules.family_of(cells)


def parent_names(records: list[list[str]], plan: FilePlan, wanted: Set[str] | None) -> dict[str, list[str]]:
    """Of the parents ``wanted`` (``ParsedChunk.missing_parents``; None: every row that may be a parent),
    ``[name, stock]`` as these records give them
    (WooCommerce: a variation takes its parent's name, and its stock when it says ``parent``; CONTRACT §1);
    ``{}`` for a profile without parents."""
    rules = validator(plan).rules
    return rules.parent_names(records, wanted) if rules is not None else {}


def family_values(records: list[list[str]], plan: FilePlan, wanted: Set[str]) -> dict[str, dict[str, str]]:
    """Of the families ``wanted`` (``ParsedChunk.missing_families``), the inheritable cells of their first
    row among these records (Shopify: rows sharing a Handle are one family, CONTRACT §1)."""
    rules = validator(plan).rules
    return rules.family_values(records, wanted) if rules is not None else {}


def has_families(plan: FilePlan) -> bool:
    """Whether the splitter must keep families of rows together (``family_key``) in this file."""
    rules = validator(plan).rules
    return rules is not None and rules.has_families


def family_context(cells: Sequence[str], plan: FilePlan) -> dict[str, Any] | None:
    """From a family's first record: what a chunk that starts inside the family must be told (small JSON)."""
    rules = validator(plan).rules
    return rules.context_of(cells) if rules is not None else None


# ---- reading records ------------------------------------------------------------------------------------


_SENTINEL = "\ud800"  # a line no decoded file holds (a lone high surrogate): it shows whether a quote is open


def _read(text: str, delimiter: str) -> tuple[list[list[str]], bool]:
    """``(records, unterminated)``: the csv module's records; ``unterminated``: the last one's quote never closes.

    A sentinel line follows the text: it comes back as a record of its own unless a quote is still
    open, which swallows it.
    """
    if csv.field_size_limit() <= len(text):  # a record cannot be longer than its chunk
        csv.field_size_limit(len(text) + 1)
    # Lines split at LF, CRLF and a lone CR only (not at the other characters str.splitlines knows).
    records = list(csv.reader(chain(io.StringIO(text, newline=""), (_SENTINEL,)), delimiter=delimiter))
    if records and records[-1] == [_SENTINEL]:
        records.pop()
        return records, False
    return records, True


def _resync(text: str, delimiter: str) -> tuple[list[list[str]], dict[int, Broken]]:
    """Read ``text`` whose quote never closes: the record where it opened is an error on its first line,
    and reading goes on at the next line (CONTRACT §1). Rare, so plain Python."""
    lines = list(io.StringIO(text, newline=""))
    records: list[list[str]] = []
    preset: dict[int, Broken] = {}
    start = 0
    while start < len(lines):
        source = _Lines(lines, start)
        reader = csv.reader(source, delimiter=delimiter)
        begun = start
        for record in reader:
            if source.past_end:  # the reader had to ask past the end to finish this record: still open
                break
            records.append(record)
            begun = start + reader.line_num
        else:
            break
        records.append([])
        shown = next(csv.reader([lines[begun].rstrip("\r\n")], delimiter=delimiter), [])
        preset[len(records) - 1] = (UNTERMINATED_QUOTE, shown, None)
        start = begun + 1
    return records, preset


class _Lines:
    """``lines[start:]`` for a csv reader; notes when the reader asks past the end."""

    def __init__(self, lines: list[str], start: int) -> None:
        self.lines = lines
        self.pos = start
        self.past_end = False

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        if self.pos >= len(self.lines):
            self.past_end = True
            raise StopIteration
        self.pos += 1
        return self.lines[self.pos - 1]
