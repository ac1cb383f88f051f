"""Parse and validate one chunk of data rows (CONTRACT §1): the consumer's hot path.

A chunk is decoded once, parsed by the C ``csv`` module, and validated column by column: each rule
runs over a whole column with C-level ``map``/``min``/``max``/set checks, and only a column that fails
the fast check is walked cell by cell to find the offenders. A row error is data, never an exception.

Error policy: a row that cannot be read as a row (invalid UTF-8, unterminated quote, wrong field
count, a NUL character) gets one error; otherwise every failing cell of the row gets its own error.
A row with any error is left out of ``rows``.
"""

from __future__ import annotations

import csv
import io
import json
import json.encoder
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain, compress, repeat
from operator import itemgetter
from typing import Any, cast

from product_importer.ingest.header import FIELDS, Header

ROW_FIELDS = ("row_no", "sku_key", *FIELDS, "attributes")  # the layout of a valid row tuple

MAX_SKU = 64
MAX_NAME = 255
MAX_DESCRIPTION = 10_000
MAX_SHORT_TEXT = 255
MAX_PRICE_DIGITS = 15  # before the point; PostgreSQL numeric takes more, no catalog needs more
MAX_QUANTITY = 2**63 - 1  # PostgreSQL bigint
MAX_ERROR_VALUE = 200
DEFAULT_CURRENCY = "USD"

# ISO 4217 (list one, 2025) plus codes withdrawn recently enough to linger in exports.
CURRENCY_CODES = frozenset(
    """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BOV BRL BSD BTN BWP BYN
    BZD CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD
    FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HRK HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS
    KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN
    MXV MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR
    SDG SEK SGD SHP SLE SLL SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD
    USN UYI UYU UYW UZS VED VES VND VUV WST XAF XAG XAU XBA XBB XBC XBD XCD XCG XDR XOF XPD XPF XPT XSU
    XTS XUA XXX YER ZAR ZMW ZWG ZWL
    """.split()  # noqa: SIM905 - a table reads better than 180 quoted strings
)

_PRICE = re.compile(r"(?:[0-9]+(?:\.[0-9]{1,4})?)?")  # empty allowed: the default
_QUANTITY = re.compile(r"[0-9]*")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_INVALID_UTF8 = re.compile("[\udc80-\udcff]")  # what surrogateescape makes of undecodable bytes
_BOOLEANS = {
    "": True,
    "true": True,
    "1": True,
    "yes": True,
    "y": True,
    "false": False,
    "0": False,
    "no": False,
    "n": False,
}
_json_string = cast(
    Callable[[str], str], json.encoder.encode_basestring
)  # C; as json.dumps(ensure_ascii=False)


@dataclass(frozen=True, slots=True)
class RowError:
    """A data row that was not imported, and why (``column``: canonical field name, or None)."""

    row: int
    sku: str | None
    column: str | None
    message: str
    value: str | None


@dataclass
class ParsedChunk:
    rows: list[tuple]  # valid rows laid out as ROW_FIELDS
    errors: list[RowError]  # by row
    rows_seen: int  # non-blank records: len(rows) + rows that have errors


# A column rule: all cells of one column -> (values, [(cell index, message)]).
Converter = Callable[[Sequence[str]], tuple[list[Any], list[tuple[int, str]]]]


def parse_chunk(data: bytes, header: Header, first_row: int) -> ParsedChunk:
    """Parse the bytes of one ``ByteRange``; its first non-blank record is row ``first_row``."""
    plan = _plan(header)
    try:
        text = data.decode("utf-8")
        lossy = False
    except UnicodeDecodeError:
        text = data.decode("utf-8", "surrogateescape")
        lossy = True
    if csv.field_size_limit() <= len(text):  # a record cannot be longer than its chunk
        csv.field_size_limit(len(text) + 1)

    records: list[list[str]] = []
    end = _EndOfInput(records)
    for record in csv.reader(_lines(text, end), delimiter=header.delimiter):
        if record:  # [] is a blank line: not a row
            records.append(record)
    numbers = range(first_row, first_row + len(records))

    broken = plan.structural_errors(
        records, numbers, lossy, "\x00" in text, end.records_before < len(records)
    )
    if broken:
        kept = [i not in broken for i in range(len(records))]
        records = list(compress(records, kept))
        good_numbers: Sequence[int] = list(compress(numbers, kept))
    else:
        good_numbers = numbers
    rows, errors = plan.validate(records, good_numbers)
    if broken:
        errors.extend(broken.values())
        errors.sort(key=_by_row)
    return ParsedChunk(rows, errors, len(numbers))


def _by_row(error: RowError) -> int:
    return error.row


class _EndOfInput:
    """Ends the line stream, noting how many records had been read when the reader asked for more.

    The csv reader asks past the last line only between records, unless a quoted field is still open:
    then it returns that last record afterwards. So ``records_before < len(records)`` means the last
    record has an unterminated quote.
    """

    def __init__(self, records: list[list[str]]) -> None:
        self.records = records
        self.records_before = -1

    def __iter__(self) -> _EndOfInput:
        return self

    def __next__(self) -> str:
        if self.records_before < 0:
            self.records_before = len(self.records)
        raise StopIteration


def _lines(text: str, end: _EndOfInput) -> Iterator[str]:
    """The records' lines as the csv module wants them: split at LF, CRLF and CR only, ends kept."""
    return chain(io.StringIO(text, newline=""), end)


@lru_cache(maxsize=64)
def _plan(header: Header) -> _Plan:
    return _Plan(header)


class _Plan:
    """Everything about validating rows that depends only on the header, worked out once."""

    def __init__(self, header: Header) -> None:
        self.width = len(header.names)
        self.sku_index = header.field_index["sku"]
        self.labels: tuple[str | None, ...] = tuple(_labels(header))
        self.converters: list[tuple[str, int, Converter]] = [
            (name, header.field_index[name], _CONVERTERS[name]) for name in FIELDS if header.has(name)
        ]
        first_by_name: dict[str, int] = {}
        for name, index in header.attribute_columns:
            first_by_name.setdefault(name, index)  # the same name twice: the leftmost column wins
        self.attribute_indexes = tuple(first_by_name.values())
        # The JSON object of a row's attributes, compact, keys in column order: '{"Color":%s,"Size":%s}'.
        members = ",".join(_json_string(name).replace("%", "%%") + ":%s" for name in first_by_name)
        self.attributes_template = "{" + members + "}"

    def structural_errors(
        self, records: list[list[str]], numbers: Sequence[int], lossy: bool, has_nul: bool, unterminated: bool
    ) -> dict[int, RowError]:
        """Rows that cannot be validated cell by cell, by record index."""
        broken: dict[int, RowError] = {}
        width = self.width
        if unterminated:
            last = len(records) - 1
            broken[last] = self._error(records[last], numbers[last], None, "unterminated quoted field", None)
        for i, record in enumerate(records):
            if i in broken:
                continue
            if lossy and _INVALID_UTF8.search("".join(record)):
                column = next(c for c, cell in enumerate(record) if _INVALID_UTF8.search(cell))
                broken[i] = self._cell_error(record, numbers[i], column, "invalid UTF-8")
            elif len(record) != width:
                message = f"expected {width} fields, found {len(record)}"
                broken[i] = self._error(record, numbers[i], None, message, None)
            elif has_nul and any("\x00" in cell for cell in record):
                column = next(c for c, cell in enumerate(record) if "\x00" in cell)
                broken[i] = self._cell_error(record, numbers[i], column, "contains a NUL character")
        return broken

    def validate(
        self, records: list[list[str]], numbers: Sequence[int]
    ) -> tuple[list[tuple], list[RowError]]:
        """Rows of the right width -> (valid row tuples, one error per failing cell)."""
        if not records:
            return [], []
        columns = list(zip(*records, strict=True))
        values: dict[str, Any] = {}
        failures: list[tuple[int, str, int, str]] = []  # (record index, field, column, message)
        for name, index, convert in self.converters:
            converted, bad = convert(columns[index])
            values[name] = converted
            failures.extend((i, name, index, message) for i, message in bad)

        skus = values["sku"]
        rows_in_order = zip(
            numbers,
            map(str.lower, skus),
            skus,
            *(values.get(name, repeat(None)) for name in FIELDS[1:]),
            self._attributes(columns),
            strict=False,  # absent fields are endless repeat(None)
        )
        if not failures:
            return list(rows_in_order), []
        failures.sort(key=itemgetter(0))  # by row; within a row, in FIELDS order
        errors = [
            self._cell_error(records[i], numbers[i], column, message, label=name)
            for i, name, column, message in failures
        ]
        failed = {i for i, _, _, _ in failures}
        return list(compress(rows_in_order, (i not in failed for i in range(len(records))))), errors

    def _attributes(self, columns: list[tuple[str, ...]]) -> Any:
        if not self.attribute_indexes:
            return repeat(None)
        template = self.attributes_template
        encoded = [list(map(_json_string, columns[i])) for i in self.attribute_indexes]
        return [template % values for values in zip(*encoded, strict=True)]

    def _cell_error(
        self, record: list[str], row: int, column: int, message: str, label: str | None = None
    ) -> RowError:
        if label is None and column < len(self.labels):
            label = self.labels[column]  # a field, an attribute, or None for a column without a name
        return self._error(record, row, label, message, record[column])

    def _error(
        self, record: list[str], row: int, column: str | None, message: str, value: str | None
    ) -> RowError:
        sku = record[self.sku_index].strip() if self.sku_index < len(record) else ""
        return RowError(
            row, _excerpt(sku) or None, column, message, None if value is None else _excerpt(value)
        )


def _labels(header: Header) -> list[str | None]:
    labels: list[str | None] = [name or None for name in header.names]
    for name, index in header.field_index.items():
        labels[index] = name
    return labels


def _excerpt(value: str) -> str:
    """A cell as it can be shown and stored: at most 200 characters, undecodable bytes and NUL as U+FFFD."""
    value = value[:MAX_ERROR_VALUE]
    if not value.isprintable():
        value = value.encode("utf-8", "surrogateescape").decode("utf-8", "replace").replace("\x00", "\ufffd")
    return value


# ---- column rules -------------------------------------------------------------------------------------


def _text(field: str, *, required: bool, limit: int, no_control: bool = False) -> Converter:
    """Trimmed text of at most ``limit`` characters; empty is an error if required, else None."""
    too_long = f"{field} is longer than {limit} characters"

    def convert(cells: Sequence[str]) -> tuple[list[Any], list[tuple[int, str]]]:
        values: list[Any] = list(map(str.strip, cells))
        shortest = min(map(len, values))
        fine = max(map(len, values)) <= limit and (not required or shortest > 0)
        if fine and no_control:
            fine = all(map(str.isprintable, values))
        bad: list[tuple[int, str]] = []
        if not fine:
            for i, value in enumerate(values):
                if not value:
                    if required:
                        bad.append((i, f"{field} is required"))
                elif len(value) > limit:
                    bad.append((i, too_long))
                elif no_control and _CONTROL.search(value):
                    bad.append((i, f"{field} contains control characters"))
        if not required and shortest == 0:
            values = [value or None for value in values]
        return values, bad

    return convert


def _description(cells: Sequence[str]) -> tuple[list[Any], list[tuple[int, str]]]:
    values: list[Any] = [None if not cell or cell.isspace() else cell for cell in cells]
    bad: list[tuple[int, str]] = []
    if max(map(len, cells)) > MAX_DESCRIPTION:
        message = f"description is longer than {MAX_DESCRIPTION} characters"
        bad = [
            (i, message)
            for i, value in enumerate(values)
            if value is not None and len(value) > MAX_DESCRIPTION
        ]
    return values, bad


def _price(cells: Sequence[str]) -> tuple[list[Any], list[tuple[int, str]]]:
    values = list(map(str.strip, cells))
    bad: list[tuple[int, str]] = []
    if not all(map(_PRICE.fullmatch, values)) or max(map(len, values)) > MAX_PRICE_DIGITS:
        for i, value in enumerate(values):
            if not _PRICE.fullmatch(value):
                bad.append((i, "price must be a decimal number >= 0 with at most 4 decimals, like 12.50"))
            elif len(value.partition(".")[0]) > MAX_PRICE_DIGITS:
                bad.append((i, f"price has more than {MAX_PRICE_DIGITS} digits before the decimal point"))
    return [value or None for value in values], bad


def _currency(cells: Sequence[str]) -> tuple[list[Any], list[tuple[int, str]]]:
    values = [cell.strip().upper() or DEFAULT_CURRENCY for cell in cells]
    if set(values) <= CURRENCY_CODES and all(map(str.isascii, cells)):
        return values, []
    message = "currency must be a 3-letter ISO 4217 code, like USD"
    # upper() makes ASCII of a few other letters (dotless i -> "I"): the cell itself must be ASCII
    bad = [
        (i, message)
        for i, value in enumerate(values)
        if value not in CURRENCY_CODES or not cells[i].isascii()
    ]
    return values, bad


def _quantity(cells: Sequence[str]) -> tuple[list[Any], list[tuple[int, str]]]:
    values = list(map(str.strip, cells))
    if all(map(_QUANTITY.fullmatch, values)) and max(map(len, values)) <= 18:  # < 10**18: fits a bigint
        return [int(value) if value else 0 for value in values], []
    numbers: list[Any] = []
    bad: list[tuple[int, str]] = []
    for i, value in enumerate(values):
        if not _QUANTITY.fullmatch(value):
            bad.append((i, "quantity must be a whole number >= 0"))
        elif len(value.lstrip("0")) > 19 or int(value or 0) > MAX_QUANTITY:
            bad.append((i, f"quantity is larger than {MAX_QUANTITY}"))
        else:
            numbers.append(int(value or 0))
            continue
        numbers.append(0)
    return numbers, bad


def _active(cells: Sequence[str]) -> tuple[list[Any], list[tuple[int, str]]]:
    values = list(map(_BOOLEANS.get, map(str.lower, map(str.strip, cells))))
    if None not in values:
        return values, []
    message = "active must be one of true/false, 1/0, yes/no, y/n"
    return values, [(i, message) for i, value in enumerate(values) if value is None]


_CONVERTERS: dict[str, Converter] = {
    "sku": _text("sku", required=True, limit=MAX_SKU, no_control=True),
    "name": _text("name", required=True, limit=MAX_NAME),
    "description": _description,
    "price": _price,
    "currency": _currency,
    "quantity": _quantity,
    "active": _active,
    "brand": _text("brand", required=False, limit=MAX_SHORT_TEXT),
    "category": _text("category", required=False, limit=MAX_SHORT_TEXT),
    "barcode": _text("barcode", required=False, limit=MAX_SHORT_TEXT),
}
