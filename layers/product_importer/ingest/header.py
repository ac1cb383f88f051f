"""The header line of an import file: delimiter, canonical fields, aliases and attribute columns.

CONTRACT §1: names match case-insensitively, trimmed, with `` ``, ``_`` and ``-`` treated alike; known
columns have aliases; when several columns map to one field the one named exactly like the field wins,
else the leftmost, and the losers are kept as attributes like every other column.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from product_importer.ingest.chunking import first_record_end

FIELDS = (
    "sku",
    "name",
    "description",
    "price",
    "currency",
    "quantity",
    "active",
    "brand",
    "category",
    "barcode",
)
REQUIRED_FIELDS = ("sku", "name")

BOM = b"\xef\xbb\xbf"
DELIMITERS = (",", ";", "\t")
MAX_HEADER_BYTES = 1 << 20  # a longer "header" is an unterminated quote or not a CSV at all
_READ_SIZE = 64 * 1024

_ALIASES: dict[str, tuple[str, ...]] = {
    "sku": ("product sku", "item sku", "product code", "variant sku"),
    "name": ("title", "product name"),
    "description": ("body", "body html", "body (html)", "long description"),
    "price": ("unit price", "variant price"),
    "currency": (),
    "quantity": ("qty", "stock", "inventory", "inventory quantity", "variant inventory qty"),
    "active": ("enabled", "published"),
    "brand": ("vendor",),
    "category": ("type", "product type"),
    "barcode": ("gtin", "upc", "ean", "variant barcode"),
}
_SEPARATORS = re.compile(r"[\s_\-]+")
_QUOTED_PART = re.compile(r'"[^"]*"')  # what the delimiter count ignores ("" inside is two such parts)


def fold_name(name: str) -> str:
    """The comparison form of a header name: trimmed, lower-case, runs of space/``_``/``-`` as one space."""
    return _SEPARATORS.sub(" ", name.strip().lower()).strip()


# folded name -> canonical field; the field's own name is an alias of itself.
_FIELD_BY_NAME: dict[str, str] = {
    fold_name(alias): canonical for canonical, aliases in _ALIASES.items() for alias in (canonical, *aliases)
}


class HeaderError(ValueError):
    """The header line makes the whole file unusable; the message says why, for the user."""


class MissingColumnsError(HeaderError):
    """The header lacks required column(s); ``missing`` names them in canonical order."""

    def __init__(self, missing: tuple[str, ...]) -> None:
        self.missing = missing
        plural = "s" if len(missing) > 1 else ""
        super().__init__(f"missing required column{plural}: {', '.join(missing)}")


class EmptyFileError(HeaderError):
    """The file has no header line at all (0 bytes, or nothing but a BOM and blank lines)."""

    def __init__(self, message: str = "the file is empty") -> None:
        super().__init__(message)


@dataclass(frozen=True)
class Header:
    """What the header line says about every data row."""

    delimiter: str
    names: tuple[str, ...]  # header cells as written, trimmed
    field_index: dict[str, int] = field(hash=False)  # canonical field -> column, only fields the file has
    attribute_columns: tuple[tuple[str, int], ...]  # (name as written trimmed, column) for every other column
    raw: bytes  # the header record as in the file: no BOM, no line terminator

    def has(self, field_name: str) -> bool:
        return field_name in self.field_index


def resolve_header(raw: bytes) -> Header:
    """Interpret one header record (bytes as in the file, a BOM allowed, no line terminator needed)."""
    if raw.startswith(BOM):
        raw = raw[len(BOM) :]
    raw = raw.rstrip(b"\r\n")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise HeaderError(f"the header line is not valid UTF-8 (byte {exc.start})") from exc
    delimiter = detect_delimiter(text)
    names = tuple(cell.strip() for cell in _cells(text, delimiter))

    candidates: dict[str, list[int]] = {}
    for index, name in enumerate(names):
        canonical = _FIELD_BY_NAME.get(fold_name(name))
        if canonical is not None:
            candidates.setdefault(canonical, []).append(index)
    field_index: dict[str, int] = {}
    for canonical in FIELDS:
        columns = candidates.get(canonical)
        if columns:
            exact = [i for i in columns if fold_name(names[i]) == canonical]
            field_index[canonical] = (exact or columns)[0]

    missing = tuple(f for f in REQUIRED_FIELDS if f not in field_index)
    if missing:
        raise MissingColumnsError(missing)
    taken = set(field_index.values())
    # A column without a name (a trailing delimiter, say) has no key to keep its cells under: ignored.
    attributes = tuple((name, i) for i, name in enumerate(names) if i not in taken and name)
    return Header(delimiter, names, field_index, attributes, raw)


def detect_delimiter(text: str) -> str:
    """Comma, unless the line clearly uses ``;`` or TAB: more of those than commas, outside quotes."""
    outside = _QUOTED_PART.sub("", text)
    best = max((";", "\t"), key=outside.count)  # ';' on a tie
    return best if outside.count(best) > outside.count(",") else ","


def _cells(text: str, delimiter: str) -> list[str]:
    records: Iterator[list[str]] = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    return next(records, [])


def read_header(stream: BinaryIO) -> tuple[Header, int]:
    """Read the first record of ``stream`` (positioned at 0) and return it with the data's byte offset.

    Leading blank lines are skipped, as everywhere else. Reads only as far as the header needs (in
    64 KiB steps, at most ``MAX_HEADER_BYTES``); a seekable stream is left positioned at the offset,
    a non-seekable one has been read past it (open the data from the offset again, e.g. a ranged GET).
    """
    buffer = b""
    eof = False
    delimiter = ","
    switched = False
    while True:
        skip = len(BOM) if buffer.startswith(BOM) else 0
        bounds = first_record_end(buffer, delimiter, start=skip, eof=eof)
        if bounds is not None:
            begin, end, data_start = bounds
            chosen = _delimiter_of(buffer, begin, end)
            if chosen != delimiter and not switched:
                # The quote rule depends on the delimiter: find the record's end again with the right one.
                delimiter, switched = chosen, True
                continue
            break
        if eof:
            break
        if len(buffer) > MAX_HEADER_BYTES:
            raise HeaderError(
                f"the header line is longer than {MAX_HEADER_BYTES} bytes (an unterminated quote?)"
            )
        block = stream.read(_READ_SIZE)
        if not block:
            eof = True
            if not buffer:
                raise EmptyFileError()
        buffer += block
    if bounds is None:  # nothing but a BOM and blank lines
        raise EmptyFileError()
    header = resolve_header(buffer[begin:end])
    seekable = getattr(stream, "seekable", None)
    if seekable is not None and seekable():
        stream.seek(data_start)
    return header, data_start


def _delimiter_of(buffer: bytes, begin: int, end: int) -> str:
    try:
        return detect_delimiter(buffer[begin:end].decode("utf-8"))
    except UnicodeDecodeError:
        return ","  # resolve_header reports the encoding problem
