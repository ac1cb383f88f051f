"""Parse and validate the data rows of one chunk (CONTRACT §1): the consumer's hot path.

Entry points (the seam is described in ``ingest.plan``):

- ``parse_chunk(data, plan, first_row, *, family_context=None) -> ParsedChunk``: the bytes of whole
  records (a chunk), read by the consumer's record scanner (``ingest.records``, decoded with
  ``plan.data_encoding``). The first record is row ``first_row``; every record takes a number, empty
  lines too. A broken quote is one row error ("unterminated quote") on the line where it opened, and
  reading goes on at the next line (CONTRACT §1).
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

import io
from collections.abc import Iterable, Iterator, Mapping, Sequence, Set
from typing import Any

from product_importer.ingest.encoding import has_undecodable
from product_importer.ingest.plan import FilePlan, Record
from product_importer.ingest.records import RecordBatch
from product_importer.ingest.records import read_records as scan_records
from product_importer.ingest.rules import FamilyContext
from product_importer.ingest.validate import ROW_FIELDS, Broken, ParsedChunk, RowError, validator

__all__ = [
    "ROW_FIELDS",
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


def parse_chunk(
    data: bytes, plan: FilePlan, first_row: int, *, family_context: FamilyContext | None = None
) -> ParsedChunk:
    """Parse the bytes of whole records; the first is data row ``first_row``. Read by the consumer's record
    scanner (``ingest.records.read_records``), batch by batch as the consumer reads a range, so a broken
    quote costs the same one row here as in an import (CONTRACT §1)."""
    parts = []
    context = family_context
    for batch in _scanned(data, plan, first_row):
        parts.append(parse_rows(batch.records, plan, batch.first_row, broken=batch.broken, lossy=batch.lossy,
                                has_nul=batch.has_nul, excel_text=batch.excel_text, family_context=context))
        context = parts[-1].family_tail
    return ParsedChunk.combine(parts)


def _scanned(data: bytes, plan: FilePlan, first_row: int) -> Iterator[RecordBatch]:
    return scan_records(io.BytesIO(data), start=0, end=len(data), delimiter=plan.delimiter,
                        encoding=plan.data_encoding, first_row=first_row)


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
    """The records ``parse_chunk`` reads from ``data`` (undecodable UTF-8 as surrogate escapes); a record
    the reading rejects carries its message and the cells its line shows."""
    out = []
    for batch in _scanned(data, plan, first_row):
        for i, cells in enumerate(batch.records):
            broken = batch.broken.get(i)
            out.append(Record(batch.first_row + i, cells) if broken is None
                       else Record(batch.first_row + i, broken.cells, broken.message))
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
