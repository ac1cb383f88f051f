"""The header line (CONTRACT §1): aliases, folding, precedence, attributes, delimiters, BOM, failures."""

from __future__ import annotations

import io

import pytest
from product_importer.ingest import (
    FIELDS,
    EmptyFileError,
    HeaderError,
    MissingColumnsError,
    read_header,
    resolve_header,
    split_ranges,
)
from product_importer.ingest.header import MAX_HEADER_BYTES, detect_delimiter

from tests.csv_samples import BOM, catalog

ALIASES = [
    ("product sku", "sku"),
    ("item sku", "sku"),
    ("product code", "sku"),
    ("variant sku", "sku"),
    ("title", "name"),
    ("product name", "name"),
    ("body", "description"),
    ("body html", "description"),
    ("body (html)", "description"),
    ("long description", "description"),
    ("unit price", "price"),
    ("variant price", "price"),
    ("qty", "quantity"),
    ("stock", "quantity"),
    ("inventory", "quantity"),
    ("inventory quantity", "quantity"),
    ("variant inventory qty", "quantity"),
    ("enabled", "active"),
    ("published", "active"),
    ("vendor", "brand"),
    ("type", "category"),
    ("product type", "category"),
    ("gtin", "barcode"),
    ("upc", "barcode"),
    ("ean", "barcode"),
    ("variant barcode", "barcode"),
]


class CountingStream(io.BytesIO):
    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.bytes_read = 0

    def read(self, size: int | None = -1) -> bytes:
        chunk = super().read(size)
        self.bytes_read += len(chunk)
        return chunk


@pytest.mark.parametrize(("alias", "field"), ALIASES)
def test_every_alias_maps_to_its_field(alias: str, field: str):
    others = {"sku": "name", "name": "sku"}.get(field, "sku,name")
    header = resolve_header(f"{alias},{others}".encode())

    assert header.field_index[field] == 0
    assert header.names[0] == alias


@pytest.mark.parametrize(
    ("written", "field"),
    [
        ("SKU", "sku"),
        ("  Sku  ", "sku"),
        ("Product_SKU", "sku"),
        ("PRODUCT-sku", "sku"),
        ("product  sku", "sku"),
        ("Body_(HTML)", "description"),
        ("Variant-Inventory_Qty", "quantity"),
    ],
)
def test_names_fold_case_space_underscore_and_dash_alike(written: str, field: str):
    required = "name" if field == "sku" else "sku,name"
    header = resolve_header(f"{written},{required}".encode())

    assert header.field_index[field] == 0
    assert header.names[0] == written.strip()


def test_all_known_columns_by_their_own_names():
    header = resolve_header(",".join(FIELDS).encode())

    assert header.field_index == {f: i for i, f in enumerate(FIELDS)}
    assert header.attribute_columns == ()
    assert header.delimiter == ","


def test_the_column_named_like_the_field_wins_over_an_alias_left_of_it():
    header = resolve_header(b"title,sku,Name,stock")

    assert header.field_index["name"] == 2
    assert header.attribute_columns == (("title", 0),)


def test_among_aliases_the_leftmost_wins_and_the_others_become_attributes():
    header = resolve_header(b"sku,product name,title,qty,stock")

    assert header.field_index == {"sku": 0, "name": 1, "quantity": 3}
    assert header.attribute_columns == (("title", 2), ("stock", 4))


def test_two_columns_named_exactly_like_the_field_the_leftmost_wins():
    header = resolve_header(b"SKU,name,sku")

    assert header.field_index["sku"] == 0
    assert header.attribute_columns == (("sku", 2),)


def test_other_columns_are_attributes_under_their_names_as_written_trimmed():
    header = resolve_header(b"sku,name, Color ,Size_EU,Material (main)")

    assert header.attribute_columns == (("Color", 2), ("Size_EU", 3), ("Material (main)", 4))
    assert header.names == ("sku", "name", "Color", "Size_EU", "Material (main)")


def test_a_column_without_a_name_is_ignored():
    header = resolve_header(b"sku,name,,color,")

    assert header.attribute_columns == (("color", 3),)
    assert len(header.names) == 5


def test_quoted_header_cells():
    header = resolve_header(b'"sku","Product, Name","a ""quoted"" thing",name')

    assert header.names == ("sku", "Product, Name", 'a "quoted" thing', "name")
    assert header.attribute_columns == (("Product, Name", 1), ('a "quoted" thing', 2))


@pytest.mark.parametrize(
    ("line", "delimiter"),
    [
        (b"sku;name;price", ";"),
        (b"sku\tname\tprice", "\t"),
        (b"sku,name,price", ","),
        (b'sku;name;"a,b,c,d"', ";"),  # commas inside quotes do not count
        (b'sku,name,"a;b;c;d"', ","),
        (b"sku;name,price", ","),  # not clearly ';': a tie stays comma
    ],
)
def test_a_header_clearly_separated_by_semicolon_or_tab_switches_the_delimiter(line: bytes, delimiter: str):
    assert detect_delimiter(line.decode()) == delimiter


@pytest.mark.parametrize("delimiter", [";", "\t"])
def test_a_semicolon_or_tab_header_resolves_with_that_delimiter(delimiter: str):
    header = resolve_header(delimiter.join(["SKU", "Title", "Price, EUR"]).encode())

    assert header.delimiter == delimiter
    assert header.field_index == {"sku": 0, "name": 1}
    assert header.attribute_columns == (("Price, EUR", 2),)


def test_a_bom_is_not_part_of_the_first_name():
    header = resolve_header(BOM + b"sku,name")

    assert header.field_index["sku"] == 0
    assert header.raw == b"sku,name"


def test_missing_required_columns_are_named():
    with pytest.raises(MissingColumnsError) as both:
        resolve_header(b"price,qty")
    with pytest.raises(MissingColumnsError) as one:
        resolve_header(b"sku,price")

    assert both.value.missing == ("sku", "name")
    assert "sku" in str(both.value) and "name" in str(both.value)
    assert one.value.missing == ("name",)
    assert str(one.value) == "missing required column: name"
    assert isinstance(one.value, HeaderError)


def test_a_header_that_is_not_utf8_is_a_header_error():
    with pytest.raises(HeaderError, match="UTF-8"):
        resolve_header(b"sku,name,caf\xe9")


# ---- read_header ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("newline", [b"\n", b"\r\n", b"\r"])
def test_read_header_returns_the_offset_after_the_line_break(newline: bytes):
    data = b"sku,name" + newline + b"a,b" + newline

    header, offset = read_header(io.BytesIO(data))

    assert header.raw == b"sku,name"
    assert data[offset:] == b"a,b" + newline


def test_read_header_skips_the_bom_and_counts_it_in_the_offset():
    data = BOM + b"SKU,Title\r\nA-1,x\r\n"

    header, offset = read_header(io.BytesIO(data))

    assert header.raw == b"SKU,Title"
    assert offset == 3 + len(b"SKU,Title\r\n")


def test_a_header_only_file_has_no_data_and_no_ranges():
    for data in (b"sku,name", b"sku,name\n", b"sku,name\r\n\r\n"):
        stream = io.BytesIO(data)
        header, offset = read_header(stream)

        ranges = list(split_ranges(stream, start=offset, delimiter=header.delimiter, rows_per_chunk=100))

        assert ranges == []


def test_a_quoted_line_break_inside_the_header_is_part_of_it():
    data = b'sku,"Name\nof product",name\nA,b,c\n'

    header, offset = read_header(io.BytesIO(data))

    assert header.names == ("sku", "Name\nof product", "name")
    assert data[offset:] == b"A,b,c\n"


def test_read_header_with_a_semicolon_header_finds_the_record_end_with_that_delimiter():
    data = b'sku;"long\nname";name\nA;b;c\n'

    header, offset = read_header(io.BytesIO(data))

    assert header.delimiter == ";"
    assert header.names == ("sku", "long\nname", "name")
    assert data[offset:] == b"A;b;c\n"


def test_read_header_skips_blank_lines_before_the_header():
    data = b"\r\n\nsku,name\nA,b\n"

    header, offset = read_header(io.BytesIO(data))

    assert header.raw == b"sku,name"
    assert data[offset:] == b"A,b\n"


def test_read_header_reads_a_long_header_but_not_the_whole_file():
    long_header = b"sku,name," + b",".join(b"attribute_%05d" % i for i in range(8000))  # ~120 KiB
    data = long_header + b"\n" + catalog(20000)
    stream = CountingStream(data)

    header, offset = read_header(stream)

    assert len(header.attribute_columns) == 8000
    assert offset == len(long_header) + 1
    assert stream.bytes_read < len(long_header) + 128 * 1024
    assert stream.tell() == offset  # a seekable stream is left at the data


def test_an_endless_header_is_refused_without_reading_everything():
    stream = CountingStream(b'sku,name,"' + b"x" * (3 * MAX_HEADER_BYTES))

    with pytest.raises(HeaderError, match="longer than"):
        read_header(stream)

    assert stream.bytes_read < 2 * MAX_HEADER_BYTES


@pytest.mark.parametrize("data", [b"", BOM, b"\n\n", BOM + b"\r\n"])
def test_an_empty_file_is_an_empty_file_error(data: bytes):
    with pytest.raises(EmptyFileError, match="the file is empty"):
        read_header(io.BytesIO(data))


def test_read_header_reports_missing_columns():
    with pytest.raises(MissingColumnsError) as error:
        read_header(io.BytesIO(b"id,title\n1,x\n"))

    assert error.value.missing == ("sku",)


def test_read_header_from_a_non_seekable_body_reports_the_offset():
    class Body:
        def __init__(self, data: bytes) -> None:
            self.stream = io.BytesIO(data)

        def read(self, size: int = -1) -> bytes:
            return self.stream.read(min(size, 3))

    header, offset = read_header(Body(BOM + b"sku;name\r\nA;b\r\n"))  # type: ignore[arg-type]

    assert header.delimiter == ";"
    assert offset == 3 + 10
