"""errors.csv's pieces: spreadsheet-safe cells, blocks of bounded size, the inline-or-spill split, and a
Content-Disposition (RFC 6266 + RFC 5987) that any file name survives."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from urllib.parse import unquote

import pytest
from hypothesis import given
from hypothesis import strategies as st
from product_importer.imports.errors_csv import (
    content_disposition,
    csv_blocks,
    download_name,
    neutralise,
    take_up_to,
)
from product_importer.imports.row_errors import RowError

_HEADER = re.compile(r'attachment; filename="([\x20\x21\x23-\x5b\x5d-\x7e]*)"; '
                     r"filename\*=UTF-8''([A-Za-z0-9!#$&+\-.^_`|~%]+)")


@pytest.mark.parametrize(("name", "expected"), [
    ("catalog.csv", "catalog-errors.csv"),
    ("Catalog.CSV", "Catalog-errors.csv"),
    ("Каталог.csv", "Каталог-errors.csv"),
    ("商品.csv", "商品-errors.csv"),
    ("a\r\nb\x00c.csv", "abc-errors.csv"),
    ("dir/sub\\file.csv", "dir_sub_file-errors.csv"),
    (".csv", "import-errors.csv"),
    ("\x00\r\n.csv", "import-errors.csv"),
    # found by a tester: .tsv and .txt in any case, a right-to-left override, a name at the limit
    ("b.TxT", "b-errors.csv"),
    ("c.tsv", "c-errors.csv"),
    ("price\u202egpj.csv", "pricegpj-errors.csv"),
    ("x" * 255 + ".csv", "x" * 244 + "-errors.csv"),
    ("é" * 200 + ".csv", "é" * 122 + "-errors.csv"),
])
def test_download_names(name: str, expected: str) -> None:
    assert download_name(name) == expected
    assert len(download_name(name).encode()) <= 255


@given(st.text(min_size=1, max_size=300))
def test_any_name_gives_an_ascii_header_that_decodes_back_to_the_name(name: str) -> None:
    header = content_disposition(name)

    assert header.isascii()
    assert not any(c in header for c in "\r\n\x00")
    header.encode("latin-1")  # what an HTTP server can send
    match = _HEADER.fullmatch(header)
    assert match, header
    expected = "".join(c for c in name if not (c in "\x7f" or ord(c) < 0x20 or 0x7f <= ord(c) <= 0x9f
                                               or 0xD800 <= ord(c) <= 0xDFFF
                                               or unicodedata.category(c) == "Cf")).strip() or "download"
    assert unquote(match.group(2), encoding="utf-8", errors="strict") == expected
    assert match.group(1)


def test_the_ascii_fallback_keeps_what_it_can() -> None:
    assert content_disposition("prix été.csv").startswith('attachment; filename="prix ete.csv"')
    assert content_disposition("Каталог-errors.csv").startswith('attachment; filename="errors.csv"')
    assert content_disposition('a"b\\c.csv').startswith('attachment; filename="a_b_c.csv"')


@pytest.mark.parametrize("cell", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"])
def test_formula_cells_get_an_apostrophe(cell: str) -> None:
    assert neutralise(cell) == "'" + cell
    assert neutralise("a" + cell) == "a" + cell
    assert neutralise(None) == "" and neutralise(12) == "12"


def test_blocks_are_bounded_and_make_one_csv() -> None:
    errors = [RowError(n, f"=SKU{n}", "price", "x" * 50, "@v") for n in range(1, 2001)]

    blocks = list(csv_blocks(iter(errors), block_bytes=4096))

    assert len(blocks) > 10
    assert all(len(b) < 4096 + 300 for b in blocks)
    text = b"".join(blocks).decode("utf-8")
    assert text.startswith("\ufeffrow,sku,column,message,value\r\n")
    rows = list(csv.reader(io.StringIO(text[1:], newline="")))
    assert len(rows) == 2001 and rows[-1] == ["2000", "'=SKU2000", "price", "x" * 50, "'@v"]


def test_take_up_to_stops_reading_past_the_limit() -> None:
    read: list[int] = []

    def blocks():  # type: ignore[no-untyped-def]
        for n in range(100):
            read.append(n)
            yield b"x" * 10

    head, rest = take_up_to(iter([b"a" * 10, b"b" * 10]), 25)
    assert (head, rest) == ([b"a" * 10, b"b" * 10], None)

    head, rest = take_up_to(blocks(), 25)
    assert len(head) == 3 and read == [0, 1, 2]
    assert rest is not None and sum(len(b) for b in rest) == 1000
