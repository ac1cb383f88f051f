"""Builders of CSV bytes for tests: valid products, whole files, and hypothesis strategies for nasty ones.

Everything returns ``bytes`` exactly as a user's file would hold them, so tests can feed the same data to
``read_header``, ``split_ranges`` and ``parse_chunk`` (or upload it).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence

from hypothesis import strategies as st
from product_importer.ingest.header import FIELDS

BOM = b"\xef\xbb\xbf"


def product(n: int = 1, **cells: str) -> dict[str, str]:
    """The cells of one valid product row (every known column), overridden by ``cells``."""
    row = {
        "sku": f"SKU-{n:05d}",
        "name": f"Product {n}",
        "description": f"A fine product, number {n}",
        "price": f"{n}.50",
        "currency": "USD",
        "quantity": str(n),
        "active": "true",
        "brand": "Acme",
        "category": "Tools",
        "barcode": f"{4000000000000 + n}",
    }
    row.update(cells)
    return row


def csv_bytes(
    records: Iterable[Sequence[str]],
    *,
    delimiter: str = ",",
    newline: str = "\n",
    bom: bool = False,
    final_newline: bool = True,
    quote_all: bool = False,
) -> bytes:
    """Write ``records`` (header first) the way a spreadsheet would: minimal quoting, UTF-8."""
    out = io.StringIO(newline="")
    writer = csv.writer(
        out,
        delimiter=delimiter,
        lineterminator=newline,
        quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL,
    )
    writer.writerows(records)
    text = out.getvalue()
    if not final_newline and text.endswith(newline):
        text = text[: -len(newline)]
    return (BOM if bom else b"") + text.encode("utf-8")


def products_csv(
    products: Sequence[Mapping[str, str]], columns: Sequence[str] | None = None, **options: bool | str
) -> bytes:
    """A file with a header of ``columns`` (default: the first product's keys) and one row per product."""
    header = list(columns if columns is not None else (products[0] if products else FIELDS))
    rows = [[p.get(c, "") for c in header] for p in products]
    return csv_bytes([header, *rows], **options)  # type: ignore[arg-type]


def catalog(rows: int, *, columns: Sequence[str] = FIELDS, newline: str = "\n") -> bytes:
    """A deterministic valid catalog of ``rows`` products; every 7th description holds a quoted comma."""
    products = [
        product(n, description=f"desc {n}, with a comma" if n % 7 == 0 else f"desc {n}")
        for n in range(1, rows + 1)
    ]
    return products_csv(products, columns, newline=newline)


# ---- hypothesis strategies -----------------------------------------------------------------------------

# Pieces that exercise every state of the csv module's parser when glued together at random.
_SOUP_PIECES = (
    b"a",
    b"xyz",
    b" ",
    b",",
    b";",
    b"\t",
    b'"',
    b'""',
    b"\n",
    b"\r",
    b"\r\n",
    b"\n\n",
    "é".encode(),
    "€".encode(),
    "😀".encode(),
    b"\xff",  # invalid UTF-8
    b"\xe2\x82",  # a truncated sequence
    b'27" IPS',
)


def csv_soup(max_pieces: int = 60) -> st.SearchStrategy[bytes]:
    """Arbitrary bytes built from CSV-significant pieces: quotes anywhere, every line break, bad UTF-8."""
    return st.lists(st.sampled_from(_SOUP_PIECES), max_size=max_pieces).map(b"".join)


_TEXT = st.text(
    alphabet=st.sampled_from(
        ["a", "B", "7", " ", ",", ";", "\t", '"', "\n", "\r", "é", "ß", "€", "😀", "-", "."]
    ),
    max_size=12,
)


@st.composite
def _field(draw: st.DrawFn, delimiter: str) -> str:
    """One field as written in the file: plain, quoted (doubled quotes, line breaks), or odd."""
    kind = draw(st.sampled_from(("plain", "quoted", "quoted", "trailing", "midquote", "empty")))
    text = draw(_TEXT)
    if kind == "quoted":
        return '"' + text.replace('"', '""') + '"'
    plain = "".join(c for c in text if c not in f'\r\n"{delimiter}')
    if kind == "trailing":  # "abc"def: the quote closes, the rest is literal
        return '"' + plain + '"' + plain
    if kind == "midquote":  # Monitor 27" IPS
        return (plain or "x") + '"' + plain
    if kind == "empty":
        return ""
    return plain


@st.composite
def csv_records(draw: st.DrawFn, delimiter: str = ",", width: int = 3) -> bytes:
    """A data region of records that mostly have ``width`` fields, with mixed line breaks, blank lines,
    multi-byte and sometimes invalid UTF-8, maybe no final newline, maybe an unterminated quote."""
    parts: list[bytes] = []
    for _ in range(draw(st.integers(0, 12))):
        fields = draw(
            st.lists(
                _field(delimiter), min_size=width - 1 if draw(st.booleans()) else width, max_size=width + 1
            )
        )
        record = delimiter.join(fields).encode()
        if draw(st.integers(0, 9)) == 0:
            record += b"\xc3"  # a broken character
        parts.append(record + draw(st.sampled_from((b"\n", b"\r\n", b"\r", b"\n\n", b"\r\n\r\n"))))
    data = b"".join(parts)
    if data and draw(st.booleans()):
        data = data.rstrip(b"\r\n")  # no final newline
    if draw(st.integers(0, 7)) == 0:
        data += b'x,"unterminated\nrest'
    return data
