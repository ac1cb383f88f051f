"""Validating a chunk's records against the plan (CONTRACT §1): rows out, row errors out.

Validation runs column by column: each rule (``ingest.values``) runs over a whole column with C-level
``map``/``min``/``max``/set checks, and only a column that fails the fast check is walked cell by cell.
A clean chunk pays nothing for blank rows, encodings or profiles: the per-record pass runs only when a
cheap check (widths, a lossy decode, a NUL, a rejected record) says the chunk needs it. A blank row
is found where it fails (an empty sku), so it costs nothing either. Row errors are data, never
exceptions: a row that cannot be read as a row (wrong field count, invalid UTF-8, NUL, rejected by the
reading) gets one error; otherwise every failing cell of the row gets its own.
"""

from __future__ import annotations

import csv
import json.encoder
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import compress, repeat
from operator import itemgetter
from typing import Any, cast

from product_importer.ingest.columns import shown
from product_importer.ingest.encoding import CP1252, UTF16, has_undecodable, undecodable_as_cp1252
from product_importer.ingest.limits import (
    FIELDS,
    MAX_ATTRIBUTE_VALUE,
    MAX_ATTRIBUTES_BYTES,
    attribute_value_too_long,
    attributes_size,
    attributes_too_large,
)
from product_importer.ingest.plan import ATTRIBUTE, ENCODING_HINT, FilePlan
from product_importer.ingest.profiles import active_words, fold_name, lookup
from product_importer.ingest.rules import FamilyContext, RowRules
from product_importer.ingest.values import (
    DECIMAL_COMMA_DELIMITERS,
    SPREADSHEET_ERRORS,
    Converter,
    converters,
    quantity,
    shows_decimal_points,
    spreadsheet_error,
)

ROW_FIELDS = ("row_no", "sku_key", *FIELDS, "attributes")  # the layout of a valid row tuple
MAX_ERROR_VALUE = 200
# A record the reading rejected as a whole: (message, its cells as far as known, an excerpt of its text, the
# column where it broke: by default its last known cell; None with cells: not known).
Broken = tuple[str, list[str] | None, str | None] | tuple[str, list[str] | None, str | None, int | None]

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
    # The family open at the end (its first row's inheritable cells): pass it as ``family_context`` to
    # the parse of the records that follow, when a range is parsed in several batches. None: no family.
    family_tail: dict[str, Any] | None = None
    # The parent references (``sku`` lower case, or ``id:N``) of variations that failed because their parent's
    # row is not in the records read: the caller may find those names elsewhere in the file
    # (``RowRules.parent_names``) and parse again with them as ``{"parents": …}`` in the family context.
    missing_parents: frozenset[str] = frozenset()
    # The families (Shopify Handles) whose first row is not in the records read (``RowRules.family_values``
    # finds it elsewhere; parse again with ``{"families": …}`` in the family context).
    missing_families: frozenset[str] = frozenset()

    @property
    def rows_failed(self) -> int:
        return self.rows_seen - len(self.rows)

    @classmethod
    def combine(cls, parts: Iterable[ParsedChunk]) -> ParsedChunk:
        """Consecutive parses (batches of one range, in row order) as one."""
        combined = cls([], [], 0)
        for part in parts:
            combined.rows.extend(part.rows)
            combined.errors.extend(part.errors)
            combined.rows_seen += part.rows_seen
            combined.rows_skipped += part.rows_skipped
            combined.warnings.extend(w for w in part.warnings if w not in combined.warnings)
            combined.family_tail = part.family_tail
            combined.missing_parents |= part.missing_parents
            combined.missing_families |= part.missing_families
        return combined



@lru_cache(maxsize=64)
def validator(plan: FilePlan) -> RowValidator:
    """The validator of a plan, built once per plan and process."""
    return RowValidator(plan)


class RowValidator:
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
        rules = converters(plan.delimiter, active_words(profile), decimal_comma=profile.decimal_comma)
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
        # In a decimal-comma file, a price column with decimal points makes 1,000 in quantity ambiguous too
        self.price_points: tuple[int, Converter] | None = None
        if "price" in index and "quantity" in index and (
                plan.delimiter in DECIMAL_COMMA_DELIMITERS or profile.decimal_comma):
            self.price_points = (index["price"], quantity(plan.delimiter, decimal_comma=profile.decimal_comma,
                                                          thousands_comma=True))
        self.attribute_indexes = tuple(i for i, t in enumerate(plan.targets) if t == ATTRIBUTE)
        # The JSON object of a row's attributes, compact, keys in column order: '{"Color":%s,"Size":%s}'.
        members = ",".join(_json_string(plan.names[i]).replace("%", "%%") + ":%s" for i in self.attribute_indexes)
        self.attributes_template = "{" + members + "}"
        self.rules = RowRules.for_plan(plan)
        # columns with no name in the header (ignored): a value under one is worth a warning
        self.unnamed = tuple(i for i, name in enumerate(plan.names) if not name.strip())
        # A row that repeats the header (two exports or sheets pasted into one file) is no product: found
        # by its sku cell first (one C-level pass), then by every named cell (names compared as headers are).
        self.header_keys = tuple(fold_name(name) for name in plan.names)
        sku_header = plan.names[self.sku_index].lower()
        self.header_sku = frozenset({sku_header, "\ufeff" + sku_header})

    def parse(
        self,
        records: list[list[str]],
        numbers: Sequence[int],
        preset: Mapping[int, Broken],
        lossy: bool,
        has_nul: bool,
        context: FamilyContext | None,
        *,
        excel_text: bool = False,
    ) -> ParsedChunk:
        """``excel_text``: some cell may be Excel's text formula (``="0012"``, what Excel writes to keep
        leading zeros): such cells read as the text in the quotes, as the spreadsheet showed it (CONTRACT
        §1: read the file the way the spreadsheet that wrote it meant it)."""
        width = self.width
        broken: list[RowError] = []
        warnings: list[str] = []
        skipped = 0
        family_tail: dict[str, Any] | None = None
        missing_parents: frozenset[str] = frozenset()
        missing_families: frozenset[str] = frozenset()
        if excel_text:  # first: a row of ="" cells is blank, a profile's rules see the text (an empty Variant SKU)
            records = [[read_excel_text(cell) if '="' in cell else cell for cell in record] for record in records]
        repeated = self._repeated_headers(records, preset)
        clean = (
            not preset and not lossy and not has_nul and not repeated
            and (not records or min(map(len, records)) == width == max(map(len, records)))
        )
        if not clean:
            kept: list[list[str]] = []
            kept_numbers: list[int] = []
            for i, record in enumerate(records):
                number = numbers[i]
                if i in preset:
                    broken.append(self._preset_error(number, *preset[i]))
                    continue
                if i in repeated:
                    skipped += 1
                    warnings.append(f"row {number} repeats the header (files or sheets pasted together?): it was "
                                    "skipped")
                    continue
                joined = "".join(record)
                if not joined or joined.isspace():
                    skipped += 1
                    continue
                if len(record) != width:
                    if lossy and self.plan.encoding == UTF16 and has_undecodable(joined) and all(
                            c.isspace() or "\udc80" <= c <= "\udcff" for c in joined):
                        broken.append(RowError(number, None, None, STRAY_UTF16, None))  # (a cut-off file's tail)
                        continue
                    broken.append(self._error(record, number, None,
                                              _field_count(width, record, self.plan.delimiter), None))
                    continue
                if lossy and has_undecodable(joined):
                    column = next(c for c, cell in enumerate(record) if has_undecodable(cell))
                    if self.plan.encoding == UTF16:  # (transcoded: a unit that was no UTF-16)
                        broken.append(self._cell_error(record, number, column, NOT_UTF16))
                        continue
                    if self.plan.encoding == CP1252:
                        broken.append(self._cell_error(record, number, column, not_cp1252(record[column])))
                        continue
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
            applied = self.rules.apply(records, numbers, context)
            records, numbers, family_tail = applied.records, applied.numbers, applied.family_tail
            missing_parents, missing_families = applied.missing_parents, applied.missing_families
            skipped += applied.skipped
            broken.extend(self._cell_error(record, number, column, message)
                          for record, number, column, message in applied.failed)
            warnings.extend(n for n in applied.warnings if n not in warnings)
        for columns in self.derived:
            for record in records:
                record.append(next((v for c in columns if (v := record[c]).strip()), ""))
        rows, errors, failed, blank = self.validate(records, numbers)
        if self.plan.encoding == CP1252 and records and _looks_mac_roman(records):
            warnings.append(MAC_ROMAN_HINT)
        if self.unnamed:
            warnings.extend(w for w in self._unnamed_warnings(records) if w not in warnings)
        if records and self.attribute_indexes:
            warnings.extend(w for w in self._spreadsheet_error_warnings(records) if w not in warnings)
        if broken:
            errors.extend(broken)
            errors.sort(key=_by_row)
        return ParsedChunk(rows, errors, len(rows) + failed + len(broken), skipped + blank, warnings, family_tail,
                           missing_parents, missing_families)

    def validate(
        self, records: list[list[str]], numbers: Sequence[int]
    ) -> tuple[list[tuple], list[RowError], int, int]:
        """Rows of the right width -> (valid row tuples, errors, rows failed, blank rows skipped)."""
        if not records:
            return [], [], 0, 0
        columns = list(zip(*records, strict=True))
        values: dict[str, Any] = {}
        failures: list[tuple[int, str | None, int | None, str]] = []  # (record, label, column, message)
        points = self.price_points is not None and shows_decimal_points(columns[self.price_points[0]])
        for name, index, convert in self.converters:
            if points and name == "quantity":
                assert self.price_points is not None
                convert = self.price_points[1]
            cells = columns[index]
            spoiled: set[int] = set()
            if not SPREADSHEET_ERRORS.isdisjoint(cells):
                # A formula's error (#N/A, #REF!, …) is no value: the row fails on it, whatever the field
                spoiled = {i for i, cell in enumerate(cells) if cell in SPREADSHEET_ERRORS}
                failures.extend((i, name, index, spreadsheet_error(name, cells[i])) for i in sorted(spoiled))
                cells = tuple("" if i in spoiled else cell for i, cell in enumerate(cells))
            converted, bad = convert(cells)
            values[name] = converted
            failures.extend((i, name, index, message) for i, message in bad if i not in spoiled)
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

    def _unnamed_warnings(self, records: list[list[str]]) -> list[str]:
        values = map(itemgetter(*self.unnamed), records)  # (C loops: usually every such cell is empty)
        if not (any(values) if len(self.unnamed) == 1 else any(map(any, values))):
            return []
        found = []
        for i in self.unnamed:
            if any(record[i].strip() for record in records):
                found.append(f"column {i + 1} has no name in the header, so its values were not imported; "
                             "give it a name to keep them as an attribute")
        return found

    def _repeated_headers(self, records: list[list[str]], preset: Mapping[int, Broken]) -> set[int]:
        """The records (by index) that repeat the header: skipped, with a warning (CONTRACT §1 is silent; a
        user who pasted two exports together means one header, and never a product named like a column)."""
        sku = self.sku_index
        if not records:
            return set()
        if min(map(len, records)) > sku:
            cells: Iterable[str] = map(itemgetter(sku), records)
        else:
            cells = (record[sku] if len(record) > sku else "" for record in records)
        if self.header_sku.isdisjoint(map(str.lower, map(str.strip, cells))):
            return set()
        return {i for i, record in enumerate(records) if i not in preset and self.repeats_header(record)}

    def repeats_header(self, record: Sequence[str]) -> bool:
        """Whether a record's named cells are the header's names (compared as header names are)."""
        return len(record) == self.width and all(
            fold_name(cell) == key for cell, key in zip(record, self.header_keys, strict=True) if key)

    def _spreadsheet_error_warnings(self, records: list[list[str]]) -> list[str]:
        """An attribute column holding a spreadsheet's error values (#N/A, #REF!, …) keeps them as text, with a
        warning (a field fails its row on one: ``validate``)."""
        found = []
        for i in self.attribute_indexes:
            column = map(itemgetter(i), records)
            if not SPREADSHEET_ERRORS.isdisjoint(column):
                value = next(record[i] for record in records if record[i] in SPREADSHEET_ERRORS)
                found.append(f"column {shown(self.plan.names[i])} holds spreadsheet error values such as {value} "
                             "(formulas that failed), kept as text: fix the formulas and import the file again")
        return found

    def _attributes(self, columns: list[tuple[str, ...]]) -> Any:
        if not self.attribute_indexes:
            return repeat(None)
        template = self.attributes_template
        encoded = [list(map(_json_string, columns[i])) for i in self.attribute_indexes]
        return [template % values for values in zip(*encoded, strict=True)]

    def _preset_error(self, row: int, message: str, cells: list[str] | None, excerpt: str | None,
                      column: int | None = -1) -> RowError:
        """The error of a record the reading rejected: its sku and the cell where it broke, when known."""
        if not cells:
            return RowError(row, None, None, message, None if excerpt is None else _excerpt(excerpt))
        if column == -1:
            column = len(cells) - 1
        if column is None or column >= len(cells):
            return self._error(cells, row, None, message, None if excerpt is None else excerpt)
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


def not_cp1252(cell: str) -> str:
    """The row error of a cell with a byte Windows-1252 does not define (0x81, 0x8D, 0x8F, 0x90, 0x9D)."""
    byte = next(ord(c) - 0xDC00 for c in cell if "\udc80" <= c <= "\udcff")
    return (f"byte 0x{byte:02X} is no character in Windows-1252, the encoding this file was read in: the file "
            "may be in another encoding (Excel for Mac's \"CSV\" is Mac Roman): save it as \"CSV UTF-8\" and "
            "import that")


# Excel for Mac writes its "CSV" and "CSV (Macintosh)" files in Mac Roman, whose accented letters are bytes that
# Windows-1252 (CONTRACT §1: how a file that is not UTF-8 is read) reads as rare symbols right after a letter:
# Café -> CafŽ, Müller -> MŸller, Größe -> Gršße. (Not œ, which French writes so; ™ follows brand names.)
MAC_ROMAN_HINT = (
    "some text looks like Mac Roman (what Excel for Mac writes as \"CSV\"), read as Windows-1252: é reads Ž, "
    "ü reads Ÿ, ö reads š; save the file as \"CSV UTF-8\" and import that file"
)
_MAC_ROMAN_SIGNS = re.compile("[a-z][ŽŸšŠžˆ‰]")


def _looks_mac_roman(records: list[list[str]]) -> bool:
    return any(_MAC_ROMAN_SIGNS.search(cell) for record in records for cell in record if not cell.isascii())


STRAY_UTF16 = ("not valid UTF-16 text: this row is only a stray byte (a UTF-16 file has an even number of bytes), "
               "so the file was probably cut short: export or copy it again, or delete the last byte")
NOT_UTF16 = "not valid UTF-16 text: a broken character (a lone surrogate or a stray byte) in this value"


def read_excel_text(cell: str) -> str:
    """``="0012"`` (Excel's text formula; quotes inside doubled) → ``0012``; any other cell as it is."""
    value = cell.strip()
    if len(value) >= 3 and value.startswith('="') and value.endswith('"'):
        inner = value[2:-1]
        if '"' not in inner.replace('""', ""):
            return inner.replace('""', '"')
    return cell


_DELIMITER_NAMES = {",": "','", ";": "';'", "\t": "tab"}


def _field_count(width: int, record: list[str], delimiter: str = ",") -> str:
    found = len(record)
    if found > width:
        extra = found - width
        if not "".join(record[width:]).strip():  # what a tool that padded the rows, not the header, writes
            last = "the last one is" if extra == 1 else f"the last {extra} are"
            return (f"expected {width} fields, found {found} ({last} empty): remove the delimiters after the "
                    "row's last column, or give the extra columns names in the header")
        if any(cell[:1] != '"' and cell.lstrip()[:1] == '"' for cell in record):
            # ``A-1, "Lamp, big"``: a quote opens a quoted value only right after the delimiter (as in a
            # spreadsheet), so this value is split at its delimiter
            return (f"expected {width} fields, found {found}: a quote after a space does not start a quoted "
                    "value; remove the spaces between the delimiter and the opening quote")
        return (f"expected {width} fields, found {found}: a value with the delimiter in it needs quotes "
                "around it")
    for other in _DELIMITER_NAMES if found == 1 and "\n" not in record[0] and "\r" not in record[0] else ():
        if other != delimiter and len(next(csv.reader([record[0]], delimiter=other), [])) == width:
            # the row was written with another delimiter than the header (pasted from another file or export)
            return (f"expected {width} fields, found {found}: this row is separated by {_DELIMITER_NAMES[other]}, "
                    f"the header by {_DELIMITER_NAMES.get(delimiter, repr(delimiter))}: write the file with one "
                    "delimiter")
    return (f"expected {width} fields, found {found}: give the row a value for every column of the header (an "
            "empty value too, between its delimiters); a value with a line break in it needs quotes around it")


def _by_row(error: RowError) -> int:
    return error.row


def _excerpt(value: str) -> str:
    """A cell as it can be shown and stored: at most 200 characters, undecodable bytes and NUL as U+FFFD."""
    value = value[:MAX_ERROR_VALUE]
    if not value.isprintable():
        value = value.encode("utf-8", "surrogateescape").decode("utf-8", "replace").replace("\x00", "\ufffd")
    return value
