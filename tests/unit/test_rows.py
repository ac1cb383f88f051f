"""parse_chunk: the value rules of CONTRACT §1, defaults, attributes, and row errors that isolate failures."""

from __future__ import annotations

import json

import pytest
from product_importer.ingest import FIELDS, ROW_FIELDS, ParsedChunk, RowError, parse_chunk, resolve_header

from tests.csv_samples import csv_bytes, product, products_csv

ALL = resolve_header(",".join(FIELDS).encode())


def parse(data: bytes, header_line: bytes | None = None, first_row: int = 1) -> ParsedChunk:
    """Parse a file's data rows; the header is the first line of ``data`` unless given apart."""
    if header_line is None:
        header_line, _, data = data.partition(b"\n")
    return parse_chunk(data, resolve_header(header_line), first_row)


def one_row(**cells: str) -> dict[str, object]:
    """Parse one full product row (cells override a valid product) and return it by ROW_FIELDS name."""
    result = parse(products_csv([product(**cells)], FIELDS))
    assert result.errors == [], result.errors
    (row,) = result.rows
    return dict(zip(ROW_FIELDS, row, strict=True))


def errors_for(**cells: str) -> list[RowError]:
    result = parse(products_csv([product(**cells)], FIELDS))
    assert result.rows == []
    return result.errors


# ---- the row tuple -------------------------------------------------------------------------------------


def test_a_valid_row_is_laid_out_as_row_fields():
    row = one_row(sku=" AB-1 ", name=" Lamp ", description="  Bright,\n warm  ", price="12.5", currency="eur")

    assert row == {
        "row_no": 1,
        "sku_key": "ab-1",
        "sku": "AB-1",
        "name": "Lamp",
        "description": "  Bright,\n warm  ",
        "price": "12.5",
        "currency": "EUR",
        "quantity": 1,
        "active": True,
        "brand": "Acme",
        "category": "Tools",
        "barcode": "4000000000001",
        "attributes": None,
    }


def test_rows_are_numbered_from_first_row_and_blank_lines_take_no_number():
    data = b"a,A\n\nb,B\r\n\r\nc,C\n\n"

    result = parse(data, b"sku,name", first_row=41)

    assert [(r[0], r[2]) for r in result.rows] == [(41, "a"), (42, "b"), (43, "c")]
    assert result.rows_seen == 3


def test_columns_the_file_does_not_have_are_none():
    result = parse(b"sku,name,price\nA,x,3\n")

    assert result.rows == [(1, "a", "A", "x", None, "3", None, None, None, None, None, None, None)]


def test_empty_optional_cells_take_the_field_defaults():
    row = one_row(
        description="", price="", currency="", quantity="", active="", brand="", category="", barcode=""
    )

    assert (row["description"], row["price"], row["currency"], row["quantity"], row["active"]) == (
        None,
        None,
        "USD",
        0,
        True,
    )
    assert (row["brand"], row["category"], row["barcode"]) == (None, None, None)


def test_whitespace_only_optional_cells_are_empty():
    row = one_row(description=" \t ", price=" ", currency="  ", quantity=" ", active=" ", brand="  ")

    assert (
        row["description"],
        row["price"],
        row["currency"],
        row["quantity"],
        row["active"],
        row["brand"],
    ) == (
        None,
        None,
        "USD",
        0,
        True,
        None,
    )


def test_quoted_delimiters_quotes_and_line_breaks_survive():
    data = csv_bytes([["sku", "name"], ["A", 'Monitor 27" IPS, matte\r\nsecond line']])

    result = parse(data)

    assert result.rows[0][3] == 'Monitor 27" IPS, matte\r\nsecond line'


def test_a_literal_quote_inside_an_unquoted_field():
    result = parse(b'sku,name\nM-27,Monitor 27" IPS\n')

    assert result.rows[0][3] == 'Monitor 27" IPS'


@pytest.mark.parametrize("delimiter", [";", "\t"])
def test_semicolon_and_tab_files(delimiter: str):
    data = csv_bytes([["sku", "name", "price"], ["A", "x, y", "1.5"]], delimiter=delimiter, newline="\r\n")

    result = parse(data.replace(b"\r\n", b"\n", 1))

    assert [r[2:6] for r in result.rows] == [("A", "x, y", None, "1.5")]


def test_multibyte_utf8_is_kept():
    result = parse(csv_bytes([["sku", "name", "brand"], ["ß-1", "Café 😀 €", "Müller"]]))

    assert result.rows[0][1:4] == ("ß-1", "ß-1", "Café 😀 €")
    assert result.rows[0][9] == "Müller"


# ---- attributes ----------------------------------------------------------------------------------------


def test_other_columns_become_a_json_object_of_strings_under_their_names():
    result = parse(b"sku,name, Color ,Size_EU,weight\nA,x,red,,  1.5 kg\n")

    assert json.loads(result.rows[0][12]) == {"Color": "red", "Size_EU": "", "weight": "  1.5 kg"}
    assert result.rows[0][12] == '{"Color":"red","Size_EU":"","weight":"  1.5 kg"}'


def test_attributes_keep_non_ascii_as_is():
    result = parse(csv_bytes([["sku", "name", "Farbe"], ["A", "x", 'grün "hell"']]))

    assert result.rows[0][12] == '{"Farbe":"grün \\"hell\\""}'


def test_alias_losers_are_attributes():
    result = parse(b"sku,title,name\nA,The title,The name\n")

    assert result.rows[0][3] == "The name"
    assert json.loads(result.rows[0][12]) == {"title": "The title"}


def test_the_same_attribute_name_twice_keeps_the_leftmost():
    result = parse(b"sku,name,color,color\nA,x,red,blue\n")

    assert json.loads(result.rows[0][12]) == {"color": "red"}


# ---- value rules ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("sku", ["A", "ab-1", "x" * 64, " padded ", "ÄÖÜ-ß", "a b"])
def test_good_skus(sku: str):
    row = one_row(sku=sku)

    assert row["sku"] == sku.strip()
    assert row["sku_key"] == sku.strip().lower()


@pytest.mark.parametrize(
    ("sku", "message"),
    [
        ("", "sku is required"),
        ("   ", "sku is required"),
        ("x" * 65, "sku is longer than 64 characters"),
        ("a\tb", "sku contains control characters"),
        ("a\x7fb", "sku contains control characters"),
        ("a\nb", "sku contains control characters"),
    ],
)
def test_bad_skus(sku: str, message: str):
    (error,) = errors_for(sku=sku)

    assert (error.row, error.column, error.message, error.value) == (1, "sku", message, sku)


@pytest.mark.parametrize(
    ("name", "message"), [("", "name is required"), ("n" * 256, "name is longer than 255 characters")]
)
def test_bad_names(name: str, message: str):
    (error,) = errors_for(name=name)

    assert (error.column, error.message, error.sku) == ("name", message, "SKU-00001")


def test_a_name_of_255_characters_is_fine():
    assert one_row(name="n" * 255)["name"] == "n" * 255


def test_description_up_to_10000_characters():
    assert one_row(description="d" * 10_000)["description"] == "d" * 10_000
    (error,) = errors_for(description="d" * 10_001)

    assert (error.column, error.message) == ("description", "description is longer than 10000 characters")
    assert error.value == "d" * 200  # values in errors are cut to 200 characters


def test_a_description_longer_than_the_csv_modules_field_limit_is_a_row_error_not_a_crash():
    (error,) = errors_for(description="d" * 200_000)

    assert error.column == "description"


@pytest.mark.parametrize("price", ["0", "12", "12.5", "12.50", "0.0001", " 3.99 ", "007.10", "1" * 15])
def test_good_prices(price: str):
    assert one_row(price=price)["price"] == price.strip()


@pytest.mark.parametrize(
    "price",
    ["-1", "+1", "12.34567", "1,000", "1.000,50", "12,5", "$5", "1e3", ".5", "5.", "abc", "٣", "1 000"],
)
def test_bad_prices(price: str):
    (error,) = errors_for(price=price)

    assert error.column == "price"
    assert "decimal" in error.message
    assert error.value == price


def test_a_price_with_more_than_15_integer_digits_is_refused():
    (error,) = errors_for(price="1" * 16)

    assert error.column == "price"


@pytest.mark.parametrize(
    ("currency", "stored"), [("USD", "USD"), ("eur", "EUR"), (" gbp ", "GBP"), ("Jpy", "JPY")]
)
def test_good_currencies(currency: str, stored: str):
    assert one_row(currency=currency)["currency"] == stored


@pytest.mark.parametrize("currency", ["US", "USDD", "XYZ", "12$", "€", "\u0131nr", "US D"])
def test_bad_currencies(currency: str):
    (error,) = errors_for(currency=currency)

    assert error.column == "currency"
    assert "ISO 4217" in error.message


@pytest.mark.parametrize(
    ("quantity", "stored"),
    [("0", 0), ("42", 42), (" 7 ", 7), ("0007", 7), ("9223372036854775807", 2**63 - 1)],
)
def test_good_quantities(quantity: str, stored: int):
    assert one_row(quantity=quantity)["quantity"] == stored


@pytest.mark.parametrize(
    ("quantity", "message"),
    [
        ("-1", "whole number"),
        ("+1", "whole number"),
        ("1.0", "whole number"),
        ("1,000", "whole number"),
        ("1e3", "whole number"),
        ("٣", "whole number"),
        ("many", "whole number"),
        ("9223372036854775808", "larger than"),
        ("9" * 5000, "larger than"),
    ],
)
def test_bad_quantities(quantity: str, message: str):
    (error,) = errors_for(quantity=quantity)

    assert error.column == "quantity"
    assert message in error.message


@pytest.mark.parametrize(
    ("active", "stored"),
    [
        ("true", True),
        ("TRUE", True),
        ("1", True),
        ("yes", True),
        ("Y", True),
        ("false", False),
        ("False", False),
        ("0", False),
        ("NO", False),
        ("n", False),
        (" no ", False),
    ],
)
def test_good_active_values(active: str, stored: bool):
    assert one_row(active=active)["active"] is stored


@pytest.mark.parametrize("active", ["maybe", "t", "f", "2", "on", "off"])
def test_bad_active_values(active: str):
    (error,) = errors_for(active=active)

    assert error.column == "active"


@pytest.mark.parametrize("field", ["brand", "category", "barcode"])
def test_short_texts_are_trimmed_and_at_most_255_characters(field: str):
    assert one_row(**{field: "  x  "})[field] == "x"
    assert one_row(**{field: "x" * 255})[field] == "x" * 255
    (error,) = errors_for(**{field: "x" * 256})

    assert (error.column, error.message) == (field, f"{field} is longer than 255 characters")


# ---- row errors ----------------------------------------------------------------------------------------


def test_every_failing_cell_of_a_row_is_reported_in_column_order():
    errors = errors_for(price="-1", quantity="x", active="maybe", name="")

    assert [e.column for e in errors] == ["name", "price", "quantity", "active"]
    assert {e.row for e in errors} == {1}
    assert all(e.sku == "SKU-00001" for e in errors)


def test_a_bad_row_does_not_stop_its_neighbours():
    products = [product(1), product(2, price="-1"), product(3), product(4, sku=""), product(5)]

    result = parse(products_csv(products, FIELDS))

    assert [r[0] for r in result.rows] == [1, 3, 5]
    assert [(e.row, e.column, e.sku) for e in result.errors] == [(2, "price", "SKU-00002"), (4, "sku", None)]
    assert result.rows_seen == 5


def test_a_wrong_field_count_is_one_row_error():
    result = parse(b"sku,name,price\nA,x,1\nB,y\nC,z,3,extra,more\nD,w,4\n")

    assert [r[2] for r in result.rows] == ["A", "D"]
    assert result.errors == [
        RowError(2, "B", None, "expected 3 fields, found 2", None),
        RowError(3, "C", None, "expected 3 fields, found 5", None),
    ]


def test_a_row_of_invalid_utf8_fails_alone():
    data = b"sku,name,color\nA,ok,red\nB,caf\xe9,blue\nC,fine,gr\xc3\xbcn\n"

    result = parse(data)

    assert [(r[2], r[3]) for r in result.rows] == [("A", "ok"), ("C", "fine")]
    (error,) = result.errors
    assert (error.row, error.sku, error.column, error.message) == (2, "B", "name", "invalid UTF-8")
    assert error.value == "caf\ufffd"  # shown with a replacement character, safe to store


def test_invalid_utf8_in_an_attribute_names_the_attribute():
    result = parse(b"sku,name,Color\nA,x,r\xffd\n")

    assert [(e.column, e.message) for e in result.errors] == [("Color", "invalid UTF-8")]


def test_a_nul_character_is_a_row_error():
    result = parse(b"sku,name\nA,x\x00y\nB,z\n")

    assert [r[2] for r in result.rows] == ["B"]
    assert [(e.row, e.column, e.message, e.value) for e in result.errors] == [
        (1, "name", "contains a NUL character", "x\ufffdy")
    ]


def test_an_unterminated_quote_is_a_row_error():
    result = parse(b'sku,name\nA,x\nB,"never closed\nC,z\n')

    assert [r[2] for r in result.rows] == ["A"]
    assert result.errors == [RowError(2, "B", None, "unterminated quoted field", None)]
    assert result.rows_seen == 2


def test_error_values_are_cut_to_200_characters():
    (error,) = errors_for(sku="s" * 300)

    assert error.value == "s" * 200
    assert error.sku == "s" * 200


def test_a_row_with_only_delimiters_is_not_blank():
    result = parse(b"sku,name\n,\nA,x\n")

    assert [(e.row, e.column) for e in result.errors] == [(1, "sku"), (1, "name")]
    assert [r[0] for r in result.rows] == [2]


def test_an_empty_chunk():
    assert parse_chunk(b"", ALL, 1) == ParsedChunk([], [], 0)
    assert parse_chunk(b"\r\n\n", ALL, 7) == ParsedChunk([], [], 0)


def test_attribute_names_with_json_and_format_characters():
    data = csv_bytes(
        [["sku", "name", 'Size "EU"', "Discount %", "Notes"], ["A", "x", "42", "10%", 'a\\b "c"\n\td']]
    )

    result = parse(data)

    attributes = result.rows[0][12]
    assert json.loads(attributes) == {'Size "EU"': "42", "Discount %": "10%", "Notes": 'a\\b "c"\n\td'}
    assert attributes == json.dumps(json.loads(attributes), ensure_ascii=False, separators=(",", ":"))
