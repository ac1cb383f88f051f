"""Parse and validate the data rows of one chunk (CONTRACT §1): the consumer's hot path.

Entry points (the seam is described in ``ingest.plan``):

- ``parse_chunk(data, plan, first_row, *, family_context=None) -> ParsedChunk``: the bytes of whole
  records (a chunk), decoded once with ``plan.data_encoding``, parsed by the C ``csv`` module. The
  first record is row ``first_row``; every record takes a number, empty lines too. A quote still open
  at the end of ``data`` is one row error ("unterminated quote") on the line where it opened, and
  reading goes on at the next line.
- ``parse_records(records, plan, *, family_context=None) -> ParsedChunk``: the same from ``Record``
  tuples, for ranges where the byte level cut records itself (record cap, broken quotes).
- ``read_records(data, plan, first_row) -> list[Record]``: how ``parse_chunk`` reads bytes into
  records, for the byte level to combine with its own.
- ``family_context(cells, plan)``: what a chunk that starts inside a family needs from its first row.

Validation runs column by column: each rule runs over a whole column with C-level ``map``/``min``/
``max``/set checks, and only a column that fails the fast check is walked cell by cell. A clean UTF-8
chunk pays nothing for encodings, blank rows or profiles: those paths only run when a cheap check
says the chunk needs them. Row errors are data, never exceptions: a row that cannot be read as a row
(wrong field count, invalid UTF-8, NUL, unterminated quote) gets one error; otherwise every failing
cell of the row gets its own. Blank and all-empty rows, and rows a profile skips, are counted in
``rows_skipped``, never errors.
"""

from __future__ import annotations

import csv
import io
import json.encoder
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import chain, compress, repeat
from operator import itemgetter
from typing import Any, cast

from product_importer.ingest.encoding import decode, has_undecodable, undecodable_as_cp1252
from product_importer.ingest.limits import (
    FIELDS,
    MAX_ATTRIBUTE_VALUE,
    MAX_ATTRIBUTES_BYTES,
    attribute_value_too_long,
    attributes_size,
    attributes_too_large,
)
from product_importer.ingest.plan import ATTRIBUTE, ENCODING_HINT, FilePlan, Record
from product_importer.ingest.profiles import active_words, lookup
from product_importer.ingest.rules import FamilyContext, RowRules
from product_importer.ingest.values import Converter, converters

ROW_FIELDS = ("row_no", "sku_key", *FIELDS, "attributes")  # the layout of a valid row tuple

MAX_ERROR_VALUE = 200
UNTERMINATED_QUOTE = "unterminated quote: a quoted value opened here never closes; close or remove the quote"

_json_string = cast(Callable[[str], str], json.encoder.encode_basestring)  # C; as json.dumps(ensure_ascii=False)


@dataclass(frozen=True, slots=True)
class RowError:
    """A data row that was not imported, and why (``column``: canonical field name, attribute name, or None)."""

    row: int
    sku: str | None
    column: str | None
    message: str
    value: str | None


@dataclass
class ParsedChunk:
    rows: list[tuple]  # valid rows laid out as ROW_FIELDS, in row order
    errors: list[RowError]  # by row
    rows_seen: int  # rows imported or failed: len(rows) + rows that have errors
    rows_skipped: int = 0  # blank rows and rows the profile skips (not in rows_seen)
    warnings: list[str] = field(default_factory=list)  # for the import's warnings (deduplicate them)

    @property
    def rows_failed(self) -> int:
        return self.rows_seen - len(self.rows)


def parse_chunk(
    data: bytes, plan: FilePlan, first_row: int, *, family_context: FamilyContext | None = None
) -> ParsedChunk:
    """Parse the bytes of whole records; the first is data row ``first_row``."""
    text, lossy = decode(data, plan.data_encoding)
    records, unterminated = _read(text, plan.delimiter)
    preset: dict[int, tuple[str, list[str] | None]] = {}
    if unterminated:
        records, preset = _resync(text, plan.delimiter)
    numbers = range(first_row, first_row + len(records))
    return _compiled(plan).parse(records, numbers, preset, lossy, "\x00" in text, family_context)


def parse_records(
    records: Iterable[Record], plan: FilePlan, *, family_context: FamilyContext | None = None
) -> ParsedChunk:
    """Parse records the byte level read (see ``Record``); they come in row order."""
    cells: list[list[str]] = []
    numbers: list[int] = []
    preset: dict[int, tuple[str, list[str] | None]] = {}
    lossy = has_nul = False
    for i, record in enumerate(records):
        numbers.append(record.row_no)
        if record.error is not None:
            preset[i] = (record.error, record.cells)
            cells.append([])
            continue
        row = record.cells or []
        cells.append(row)
        joined = "".join(row)
        has_nul = has_nul or "\x00" in joined
        lossy = lossy or (plan.data_encoding == "utf-8" and not joined.isascii() and has_undecodable(joined))
    return _compiled(plan).parse(cells, numbers, preset, lossy, has_nul, family_context)


def read_records(data: bytes, plan: FilePlan, first_row: int) -> list[Record]:
    """The records ``parse_chunk`` reads from ``data`` (undecodable UTF-8 as surrogate escapes)."""
    text, _ = decode(data, plan.data_encoding)
    records, unterminated = _read(text, plan.delimiter)
    preset: dict[int, tuple[str, list[str] | None]] = {}
    if unterminated:
        records, preset = _resync(text, plan.delimiter)
    out = []
    for i, record in enumerate(records):
        if i in preset:
            message, cells = preset[i]
            out.append(Record(first_row + i, cells, message))
        else:
            out.append(Record(first_row + i, record))
    return out


def family_key(cells: Sequence[str], plan: FilePlan) -> str | None:
    """The family a record belongs to (Shopify: its Handle), or None."""
    column = plan.family_column
    if column is None or column >= len(cells):
        return None
    return cells[column].strip() or None


def family_context(cells: Sequence[str], plan: FilePlan) -> dict[str, Any] | None:
    """From a family's first record: what a chunk that starts inside the family must be told (small JSON)."""
    rules = _compiled(plan).rules
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


def _resync(text: str, delimiter: str) -> tuple[list[list[str]], dict[int, tuple[str, list[str] | None]]]:
    """Read ``text`` whose quote never closes: the record where it opened is an error on its first line,
    and reading goes on at the next line (CONTRACT §1). Rare, so plain Python."""
    lines = list(io.StringIO(text, newline=""))
    records: list[list[str]] = []
    preset: dict[int, tuple[str, list[str] | None]] = {}
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
        preset[len(records) - 1] = (UNTERMINATED_QUOTE, shown)
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


# ---- validating records ---------------------------------------------------------------------------------


@lru_cache(maxsize=64)
def _compiled(plan: FilePlan) -> _Compiled:
    return _Compiled(plan)


class _Compiled:
    """Everything about validating rows that depends only on the plan, worked out once."""

    def __init__(self, plan: FilePlan) -> None:
        self.plan = plan
        self.width = len(plan.names)
        index = plan.field_index
        self.sku_index = index["sku"]
        self.labels: list[str | None] = [
            target if target in FIELDS else (name or None) for name, target in zip(plan.names, plan.targets, strict=True)
        ]
        profile = lookup(plan.profile)
        rules = converters(plan.delimiter in ";\t", active_words(profile))
        # A field fed by several columns, per row (Shopify: Status, then Published), reads a derived
        # cell appended to each record: the first non-empty of those columns.
        self.derived: list[tuple[int, ...]] = []
        for name, columns in plan.fallbacks:
            index[name] = self.width + len(self.derived)
            self.derived.append(columns)
            self.labels.append(name)
        self.converters: list[tuple[str, int, Converter]] = [
            (name, index[name], rules[name]) for name in FIELDS if name in index
        ]
        self.attribute_indexes = tuple(i for i, t in enumerate(plan.targets) if t == ATTRIBUTE)
        # The JSON object of a row's attributes, compact, keys in column order: '{"Color":%s,"Size":%s}'.
        members = ",".join(_json_string(plan.names[i]).replace("%", "%%") + ":%s" for i in self.attribute_indexes)
        self.attributes_template = "{" + members + "}"
        self.rules = RowRules.for_plan(plan)

    def parse(
        self,
        records: list[list[str]],
        numbers: Sequence[int],
        preset: Mapping[int, tuple[str, list[str] | None]],
        lossy: bool,
        has_nul: bool,
        context: FamilyContext | None,
    ) -> ParsedChunk:
        width = self.width
        broken: list[RowError] = []
        warnings: list[str] = []
        skipped = 0
        clean = (
            not preset and not lossy and not has_nul
            and (not records or min(map(len, records)) == width == max(map(len, records)))
        )
        if not clean:
            kept: list[list[str]] = []
            kept_numbers: list[int] = []
            for i, record in enumerate(records):
                number = numbers[i]
                if i in preset:
                    message, cells = preset[i]
                    broken.append(self._preset_error(number, message, cells))
                    continue
                joined = "".join(record)
                if not joined or joined.isspace():
                    skipped += 1
                    continue
                if len(record) != width:
                    broken.append(self._error(record, number, None, _field_count(width, len(record)), None))
                    continue
                if lossy and has_undecodable(joined):
                    column = next(c for c, cell in enumerate(record) if has_undecodable(cell))
                    as_cp1252 = undecodable_as_cp1252(record[column])
                    message = "not valid UTF-8 text"
                    if as_cp1252 is not None:
                        message += f" (as Windows-1252 it reads {as_cp1252[:60]!r})"
                        if ENCODING_HINT not in warnings:
                            warnings.append(ENCODING_HINT)
                    broken.append(self._cell_error(record, number, column, message))
                    continue
                if has_nul and "\x00" in joined:
                    column = next(c for c, cell in enumerate(record) if "\x00" in cell)
                    message = "contains a NUL character (invisible in most editors): remove it"
                    broken.append(self._cell_error(record, number, column, message))
                    continue
                kept.append(record)
                kept_numbers.append(number)
            records, numbers = kept, kept_numbers
        if self.rules is not None:
            records, numbers, dropped = self.rules.apply(records, numbers, context)
            skipped += dropped
        for columns in self.derived:
            for record in records:
                record.append(next((v for c in columns if (v := record[c]).strip()), ""))
        rows, errors, failed, blank = self.validate(records, numbers)
        if broken:
            errors.extend(broken)
            errors.sort(key=_by_row)
        return ParsedChunk(rows, errors, len(rows) + failed + len(broken), skipped + blank, warnings)

    def validate(
        self, records: list[list[str]], numbers: Sequence[int]
    ) -> tuple[list[tuple], list[RowError], int, int]:
        """Rows of the right width -> (valid row tuples, errors, rows failed, blank rows skipped)."""
        if not records:
            return [], [], 0, 0
        columns = list(zip(*records, strict=True))
        values: dict[str, Any] = {}
        failures: list[tuple[int, str | None, int | None, str]] = []  # (record, label, column, message)
        for name, index, convert in self.converters:
            converted, bad = convert(columns[index])
            values[name] = converted
            failures.extend((i, name, index, message) for i, message in bad)
        for index in self.attribute_indexes:
            if max(map(len, columns[index])) > MAX_ATTRIBUTE_VALUE:
                failures.extend(
                    (i, self.labels[index], index, attribute_value_too_long(len(cell)))
                    for i, cell in enumerate(columns[index])
                    if len(cell) > MAX_ATTRIBUTE_VALUE
                )
        attributes = self._attributes(columns)
        if self.attribute_indexes and max(map(len, attributes)) * 4 > MAX_ATTRIBUTES_BYTES:
            for i, encoded in enumerate(attributes):
                if len(encoded) * 4 > MAX_ATTRIBUTES_BYTES and (size := attributes_size(encoded)) > MAX_ATTRIBUTES_BYTES:
                    failures.append((i, "attributes", None, attributes_too_large(size)))

        skus = values["sku"]
        rows_in_order = zip(
            numbers,
            map(str.lower, skus),
            skus,
            *(values.get(name, repeat(None)) for name in FIELDS[1:]),
            attributes,
            strict=False,  # absent fields are endless repeat(None)
        )
        if not failures:
            return list(rows_in_order), [], 0, 0
        failed = {i for i, _, _, _ in failures}
        blank = {i for i in failed if not "".join(records[i]).strip()}
        failures.sort(key=itemgetter(0))  # by row; within a row, in FIELDS order
        errors = [
            self._cell_error(records[i], numbers[i], column, message, label=label)
            for i, label, column, message in failures
            if i not in blank
        ]
        rows = list(compress(rows_in_order, (i not in failed for i in range(len(records)))))
        return rows, errors, len(failed) - len(blank), len(blank)

    def _attributes(self, columns: list[tuple[str, ...]]) -> Any:
        if not self.attribute_indexes:
            return repeat(None)
        template = self.attributes_template
        encoded = [list(map(_json_string, columns[i])) for i in self.attribute_indexes]
        return [template % values for values in zip(*encoded, strict=True)]

    def _preset_error(self, row: int, message: str, cells: list[str] | None) -> RowError:
        if not cells:
            return RowError(row, None, None, message, None)
        column = len(cells) - 1
        label = self.labels[column] if column < self.width else None
        return self._error(cells, row, label, message, cells[column])

    def _cell_error(
        self, record: list[str], row: int, column: int | None, message: str, label: str | None = None
    ) -> RowError:
        if label is None and column is not None and column < len(self.labels):
            label = self.labels[column]
        value = record[column] if column is not None and column < len(record) else None
        return self._error(record, row, label, message, value)

    def _error(self, record: list[str], row: int, column: str | None, message: str, value: str | None) -> RowError:
        sku = record[self.sku_index].strip() if self.sku_index < len(record) else ""
        return RowError(row, _excerpt(sku) or None, column, message, None if value is None else _excerpt(value))


def _field_count(width: int, found: int) -> str:
    if found > width:
        return (f"expected {width} fields, found {found}: a value with the delimiter in it needs quotes "
                "around it")
    return f"expected {width} fields, found {found}"


def _by_row(error: RowError) -> int:
    return error.row


def _excerpt(value: str) -> str:
    """A cell as it can be shown and stored: at most 200 characters, undecodable bytes and NUL as U+FFFD."""
    value = value[:MAX_ERROR_VALUE]
    if not value.isprintable():
        value = value.encode("utf-8", "surrogateescape").decode("utf-8", "replace").replace("\x00", "\ufffd")
    return value
