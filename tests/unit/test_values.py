"""The value rules of CONTRACT §1, field by field, and messages that say how to fix a value."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from product_importer.ingest import FIELDS, ROW_FIELDS, ParsedChunk, RowError, parse_chunk, sniff

from tests.csv_samples import csv_bytes, product, products_csv


def parse(data: bytes) -> ParsedChunk:
    plan = sniff(data)
    return parse_chunk(data[plan.data_start :], plan, 1)


def one_row(delimiter: str = ",", **cells: str) -> dict[str, object]:
    """Parse one full product row (cells override a valid product) and return it by ROW_FIELDS name."""
    result = parse(products_csv([product(**cells)], FIELDS, delimiter=delimiter))
    assert result.errors == [], result.errors
    (row,) = result.rows
    return dict(zip(ROW_FIELDS, row, strict=True))


def errors_for(delimiter: str = ",", **cells: str) -> list[RowError]:
    result = parse(products_csv([product(**cells)], FIELDS, delimiter=delimiter))
    assert result.rows == []
    return result.errors


def test_empty_optional_cells_take_the_field_defaults():
    row = one_row(description="", price="", currency="", quantity="", active="", brand="", category="", barcode="")

    assert [row[f] for f in ("description", "price", "currency", "quantity", "active")] == [None, None, "USD", 0, True]
    assert (row["brand"], row["category"], row["barcode"]) == (None, None, None)


def test_whitespace_only_optional_cells_are_empty_non_breaking_spaces_too():
    row = one_row(description=" \t ", price=" ", currency="  ", quantity="\u00a0", active=" ", brand="\u00a0 ")

    assert [row[f] for f in ("description", "price", "currency", "quantity", "active", "brand")] == [
        None, None, "USD", 0, True, None,
    ]


# ---- sku and the texts ---------------------------------------------------------------------------------


@pytest.mark.parametrize("sku", ["A", "ab-1", "x" * 64, " padded ", "ÄÖÜ-ß", "a b", "0001234", "12E45", "1.5E"])
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
        ("a\u2028b", "sku contains control characters"),
        ("AB\u200b-1", "sku contains an invisible character (U+200B ZERO WIDTH SPACE at position 3)"),
        ("\ufeffAB-1", "sku contains an invisible character (U+FEFF"),
        ("AB\u00ad1", "sku contains an invisible character (U+00AD SOFT HYPHEN"),
        ("AB-1\u200e", "sku contains an invisible character (U+200E LEFT-TO-RIGHT MARK"),
    ],
)
def test_bad_skus(sku: str, message: str):
    (error,) = errors_for(sku=sku)

    assert (error.row, error.column, error.value) == (1, "sku", sku)
    assert error.message.startswith(message)


@pytest.mark.parametrize("value", ["3.01762E+12", "1E+11", "9.12345678E+12", "4.006381e+12", "1,5E-03"])
@pytest.mark.parametrize("field", ["sku", "barcode"])
def test_scientific_notation_in_sku_or_barcode_is_refused_as_spreadsheet_damage(field: str, value: str):
    (error,) = errors_for(**{field: value})

    assert error.column == field
    assert "scientific notation" in error.message and "spreadsheet" in error.message
    assert "text" in error.message  # how to fix: format the column as text


def test_scientific_notation_elsewhere_is_just_text():
    row = one_row(name="3.01762E+12", brand="1E+11")

    assert (row["name"], row["brand"]) == ("3.01762E+12", "1E+11")


def test_leading_zeros_are_kept_and_make_another_product():
    result = parse(b"sku,name,barcode\n000123,a,0012345678905\n123,b,\n")

    assert [(r[2], r[12 - 1]) for r in result.rows] == [("000123", "0012345678905"), ("123", None)]


@pytest.mark.parametrize(("barcode", "delimiter"), [
    ("4006381333931.0", ","), ("12345678905.00", ","),
    ("4006381333931,0", ";"), ("4006381333931,00", "\t"),  # pandas' to_csv(sep=";", decimal=","): was stored so
])
def test_a_barcode_written_as_a_float_is_refused(barcode: str, delimiter: str):
    (error,) = errors_for(delimiter=delimiter, barcode=barcode)

    assert error.column == "barcode"
    assert f"write {barcode.replace(',', '.').partition('.')[0]}" in error.message


@pytest.mark.parametrize(
    ("name", "message"), [("", "name is required"), ("n" * 256, "name is longer than 255 characters")]
)
def test_bad_names(name: str, message: str):
    (error,) = errors_for(name=name)

    assert (error.column, error.sku) == ("name", "SKU-00001")
    assert error.message.startswith(message)


def test_a_name_of_255_characters_is_fine():
    assert one_row(name="n" * 255)["name"] == "n" * 255


def test_description_up_to_65535_characters_not_bytes():
    assert one_row(description="d" * 65_535)["description"] == "d" * 65_535
    assert one_row(description="é" * 65_535)["description"] == "é" * 65_535  # 131,070 bytes
    (error,) = errors_for(description="d" * 65_536)

    assert error.column == "description"
    assert "65,535" in error.message and "65,536" in error.message
    assert error.value == "d" * 200  # values in errors are cut to 200 characters


def test_a_description_longer_than_the_csv_modules_field_limit_is_a_row_error_not_a_crash():
    (error,) = errors_for(description="d" * 200_000)

    assert error.column == "description"


@pytest.mark.parametrize("field", ["brand", "category", "barcode"])
def test_short_texts_are_trimmed_and_at_most_255_characters(field: str):
    assert one_row(**{field: "  x  "})[field] == "x"
    assert one_row(**{field: "x" * 255})[field] == "x" * 255
    (error,) = errors_for(**{field: "x" * 256})

    assert error.column == field
    assert error.message.startswith(f"{field} is longer than 255 characters")


# ---- price ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("price", ["0", "12", "12.5", "12.50", "0.0001", " 3.99 ", "007.10", "1" * 15, "5.0"])
def test_good_prices(price: str):
    assert one_row(price=price)["price"] == price.strip()


@pytest.mark.parametrize("delimiter", [";", "\t"])
@pytest.mark.parametrize(("price", "stored"), [("12,50", "12.50"), ("8,9", "8.9"), ("15.00", "15.00"), ("25", "25")])
def test_a_decimal_comma_in_semicolon_and_tab_files(delimiter: str, price: str, stored: str):
    assert one_row(delimiter=delimiter, price=price)["price"] == stored


@pytest.mark.parametrize(
    ("price", "delimiter", "fix"),
    [
        ("$149.00", ",", "remove the currency symbol and write 149.00; put USD in the currency column"),
        ("149.00 €", ",", "put EUR in the currency column"),
        ("EUR 12,50", ";", "write 12,50; put EUR"),
        ("£5", ",", "put GBP"),
        ("1,299.00", ",", "remove the thousands separator: write 1299.00"),
        ("1.299,00", ";", "remove the thousands separator: write 1299,00"),
        ("1 299,00", ";", "remove the thousands separator"),
        ("1\u00a0299,00", "\t", "remove the thousands separator"),
        ("12,50", ",", "decimals need a point: write 12.50"),
        ("1,000", ",", "remove the thousands separator (1000)"),
        ("-1", ",", "price must be 0 or more"),
        ("12.5%", ",", "price 12.5% is a percentage, not a price: write the price itself, like 12.50"),  # a tester
        ("50 %", ";", "is a percentage, not a price: write the price itself, like 12,50"),
        ("12.34567", ",", "more than 4 decimal places"),
        ("12,34567", ";", "more than 4 decimal places"),
        ("12.345670", ",", "more than 4 decimal places"),  # a digit after the fourth that is not a zero
        ("abc", ",", "like 12.50"),
        ("abc", ";", "like 12,50"),
    ],
)
def test_a_bad_price_says_how_to_fix_it(price: str, delimiter: str, fix: str):
    (error,) = errors_for(delimiter=delimiter, price=price)

    assert (error.column, error.value) == ("price", price)
    assert fix in error.message


@pytest.mark.parametrize(
    ("price", "stored"),
    [(".5", "0.5"), ("5.", "5"), ("+2.50", "2.50"), ("-0", "0"), ("-0.00", "0.00"), ("+.25", "0.25"), (" .5 ", "0.5")],
)
def test_a_price_is_read_as_a_spreadsheet_reads_it(price: str, stored: str):
    """CONTRACT §1: read the file the way the spreadsheet meant it (a spreadsheet reads .5 as 0.5)."""
    assert one_row(price=price)["price"] == stored


@pytest.mark.parametrize(
    ("price", "stored"),
    [("34.000000", "34.0000"), ("34.500000", "34.5000"), ("0.12340", "0.1234"), ("7.00000000", "7.0000")],
)
def test_zeros_after_the_fourth_decimal_are_dropped(price: str, stored: str):
    """Magento 2 exports prices as decimal(20,6) (``34.000000``): the value has at most 4 decimals exactly."""
    assert one_row(price=price)["price"] == stored
    assert one_row(delimiter=";", price=price.replace(".", ","))["price"] == stored


def test_a_decimal_comma_message_names_the_files_own_delimiter():
    """A pipe-separated file (Excel's ``sep=|`` line) is not told it is comma-separated."""
    result = parse(b"sep=|\nsku|name|price|quantity\nP-1|x|1,5|1\nP-2|y|1.5|3,0\n")

    assert [(e.column, e.message.split(":")[1].strip()) for e in result.errors] == [
        ("price", "this file is pipe-separated (|), so decimals need a point"),
        ("quantity", "this file is pipe-separated (|), so a decimal comma is not read here"),
    ]


@pytest.mark.parametrize("delimiter", [";", "\t"])
@pytest.mark.parametrize(("price", "stored"), [(",5", "0.5"), ("5,", "5"), ("-0,00", "0.00")])
def test_a_decimal_comma_price_is_read_as_a_spreadsheet_reads_it(delimiter: str, price: str, stored: str):
    assert one_row(delimiter=delimiter, price=price)["price"] == stored


@pytest.mark.parametrize("price", ["1e3", "٣", "12..5", "1,2,3", ".", "+", "-", "+-1", "--0", ".12345", "-.5"])
def test_other_bad_prices(price: str):
    (error,) = errors_for(price=price)

    assert error.column == "price"
    assert "price" in error.message


def test_a_price_with_more_than_15_integer_digits_is_refused():
    (error,) = errors_for(price="1" * 16)

    assert error.column == "price"


# ---- currency, quantity, active ------------------------------------------------------------------------


@pytest.mark.parametrize(("currency", "stored"), [("USD", "USD"), ("eur", "EUR"), (" gbp ", "GBP"), ("Jpy", "JPY")])
def test_good_currencies(currency: str, stored: str):
    assert one_row(currency=currency)["currency"] == stored


@pytest.mark.parametrize("currency", ["US", "USDD", "XYZ", "12$", "€", "\u0131nr", "US D"])
def test_bad_currencies(currency: str):
    (error,) = errors_for(currency=currency)

    assert error.column == "currency"
    assert "ISO 4217" in error.message


def test_a_currency_symbol_is_answered_with_its_code():
    (error,) = errors_for(currency="€")

    assert "write EUR" in error.message


@pytest.mark.parametrize(
    ("quantity", "stored"),
    [("0", 0), ("42", 42), (" 7 ", 7), ("0007", 7), ("9223372036854775807", 2**63 - 1), ("3.0", 3), ("12.00", 12),
     ("1.", 1), ("+1", 1), ("+3.0", 3), ("-0", 0), ("-0.0", 0),
     (".0", 0), (".00", 0), ("+.0", 0), ("-.0", 0)],  # (a tester: .0 failed, 0.0 and 5. passed)
)
def test_good_quantities_integral_decimals_too(quantity: str, stored: int):
    assert one_row(quantity=quantity)["quantity"] == stored


def test_an_integral_decimal_comma_quantity_in_a_semicolon_file():
    assert one_row(delimiter=";", quantity="3,0")["quantity"] == 3


@pytest.mark.parametrize(
    ("quantity", "message"),
    [
        ("-1", "0 or more"),
        ("-1.0", "0 or more"),
        ("+-1", "whole number"),
        ("3.5", "whole number >= 0 (3.5 is not)"),
        ("1,000", "remove the thousands separator: write 1000"),
        ("3,0", "decimal comma is not read here: write 3"),  # a comma file
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
    [("true", True), ("TRUE", True), ("1", True), ("yes", True), ("Y", True), ("false", False), ("False", False),
     ("0", False), ("NO", False), ("n", False), (" no ", False), ("active", True), ("Draft", False),
     ("ARCHIVED", False),
     # status words of other platforms (Amazon, Magento's admin grid)
     ("Inactive", False), ("Enabled", True), ("Disabled", False),
     # Excel's TRUE / FALSE in other languages, as it writes them into a CSV
     ("WAHR", True), ("FALSCH", False), ("VRAI", True), ("FAUX", False), ("VERDADEIRO", True), ("FALSO", False),
     ("VERDADERO", True), ("WAAR", True), ("ONWAAR", False), ("ИСТИНА", True), ("ЛОЖЬ", False), ("ja", True),
     ("Nein", False), ("oui", True), ("non", False)],
)
def test_good_active_values(active: str, stored: bool):
    assert one_row(active=active)["active"] is stored


@pytest.mark.parametrize("active", ["maybe", "t", "f", "2", "-1", "on", "off"])
def test_bad_active_values(active: str):
    (error,) = errors_for(active=active)

    assert error.column == "active"
    assert "true/false" not in error.message or "yes" in error.message


def test_status_is_an_alias_of_active_with_its_words():
    result = parse(b"sku,name,status\nA,x,active\nB,y,draft\nC,z,archived\n")

    assert [r[8] for r in result.rows] == [True, False, False]


# ---- rows with several problems ------------------------------------------------------------------------


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
    assert (result.rows_seen, result.rows_failed) == (5, 2)


def test_values_of_a_windows_1252_file():
    data = csv_bytes([["sku", "name", "price"], ["A", "Café Crème – “Spécial” ™", "5"]]).decode().encode("cp1252")

    (row,) = parse(data).rows

    assert row[3] == "Café Crème – “Spécial” ™"


def test_a_point_and_three_digits_is_a_thousand_in_a_decimal_comma_column():
    """German Excel writes 1.000 for a thousand (a thousands format) and 24,99 for decimals. Found by a
    tester: 1.000 was stored as 1, and 2.500 as 2.5, silently: a factor of a thousand off."""
    result = parse(b"sku;name;price;quantity\nA;a;24,99;5\nB;b;1.000;1\nC;c;2;1.000\nD;d;1.000.000;1\n")

    assert [(r[2], r[5], r[7]) for r in result.rows] == [("A", "24.99", 5)]
    assert [(e.row, e.column) for e in result.errors] == [(2, "price"), (3, "quantity"), (4, "price")]
    assert "write 1000 (or 1,000 if the point was a decimal point)" in result.errors[0].message
    assert "semicolon-separated" in result.errors[1].message and "write 1000" in result.errors[1].message


def test_a_comma_and_three_digits_is_ambiguous_in_a_decimal_comma_column_that_also_writes_points():
    """A tab-separated export from a '.' locale (Excel's "Unicode Text" in the US) writes thousands with commas:
    1,299 next to 19.99 was read as 1.299 and a stock of 1,000 as 1, silently a thousand times too small."""
    result = parse(b"sku\tname\tprice\tquantity\nA\ta\t19.99\t5\nB\tb\t1,299\t1,000\nC\tc\t2\t2.0\n"
                   b"D\td\t3\t1,000,000\n")

    assert [(r[2], r[5], r[7]) for r in result.rows] == [("A", "19.99", 5), ("C", "2", 2)]
    assert [(e.row, e.column) for e in result.errors] == [(2, "price"), (2, "quantity"), (4, "quantity")]
    assert "write 1299 (or, if it was a decimal comma, write every decimal" in result.errors[0].message
    assert "write 1000 (or 1 if the comma was a decimal comma)" in result.errors[1].message


def test_a_stock_of_1000_in_a_tab_file_whose_prices_have_decimal_points_is_ambiguous():
    # A US tab-separated export: prices 19.99, a stock formatted 1,000 was read as 1 (a decimal comma)
    result = parse(b"sku\tname\tprice\tquantity\nA\ta\t19.99\t5\nB\tb\t2\t1,000\n")

    assert [r[2] for r in result.rows] == ["A"]
    assert [(e.row, e.column) for e in result.errors] == [(2, "quantity")]
    assert "write 1000 (or 1 if the comma was a decimal comma)" in result.errors[0].message
    # prices with decimal commas: the comma is a decimal comma there too (CONTRACT §1)
    assert [r[7] for r in parse(b"sku\tname\tprice\tquantity\nA\ta\t19,99\t1,000\n").rows] == [1]


@given(delimiter=st.sampled_from([";", "\t"]), whole=st.integers(1, 999), groups=st.lists(st.integers(0, 999), min_size=1,
       max_size=3), point=st.from_regex(r"[0-9]{1,4}\.[0-9]{1,2}", fullmatch=True))
def test_a_grouped_number_beside_a_decimal_point_is_never_read_a_thousand_times_too_small(
        delimiter: str, whole: int, groups: list[int], point: str):
    grouped = f"{whole}," + ",".join(f"{g:03d}" for g in groups)
    data = f"sku{delimiter}name{delimiter}price\nA{delimiter}a{delimiter}{point}\nB{delimiter}b{delimiter}{grouped}\n"

    result = parse(data.encode())

    assert [r[2] for r in result.rows] == ["A"]
    assert [(e.row, e.column) for e in result.errors] == [(2, "price")]
    assert f"write {grouped.replace(',', '')}" in result.errors[0].message


@pytest.mark.parametrize("column", [["12,50", "1,299"], ["1,299", "2,500"], ["3", "1,000"]])
def test_a_comma_and_three_digits_stays_a_decimal_comma_where_the_column_shows_nothing_else(column: list[str]):
    result = parse(("sku;name;price\n" + "".join(f"S{i};n;{p}\n" for i, p in enumerate(column))).encode())

    assert result.errors == []
    assert [r[5] for r in result.rows] == [p.replace(",", ".") for p in column]
    assert [r[7] for r in parse(b"sku;name;quantity\nA;a;1,000\nB;b;3,0\n").rows] == [1, 3]


def test_a_point_and_three_digits_stays_a_decimal_point_where_the_column_has_no_decimal_comma():
    result = parse(b"sku;name;price\nA;a;12.500\nB;b;3.25\n")  # a program's dot decimals (3-decimal currencies)

    assert [(r[2], r[5]) for r in result.rows] == [("A", "12.500"), ("B", "3.25")]
    assert result.errors == []
    assert [r[5] for r in parse(b"sku,name,price\nA,a,1.000\nB,b,2.5\n").rows] == ["1.000", "2.5"]  # ',' file


@pytest.mark.parametrize(("price", "delimiter", "fix"), [
    ("$1,032.00", ",", "remove the currency symbol and write 1032.00;"),
    ("1.299,00 €", ";", "remove the currency symbol and write 1299,00;"),
    ("1.299,00 €", ",", "remove the currency symbol and write 1299.00;"),
])
def test_a_price_with_a_symbol_and_a_thousands_separator_is_told_a_value_that_imports(
        price: str, delimiter: str, fix: str):
    """The advice must import as it is (it once said "write 1,032.00", which the next import refuses)."""
    (error,) = errors_for(delimiter=delimiter, price=price)

    assert fix in error.message
    written = fix.removeprefix("remove the currency symbol and write ").rstrip(";")
    assert one_row(delimiter=delimiter, price=written)["price"] in ("1032.00", "1299.00")


def test_line_breaks_in_a_description_are_one_kind_whatever_wrote_them():
    result = parse(b'sku,name,description\nA,a,"one\r\ntwo"\nB,b,"one\rtwo"\nC,c,"one\ntwo"\n')

    assert [r[4] for r in result.rows] == ["one\ntwo"] * 3


def test_headers_with_a_leading_required_marker_and_a_currency_code_column():
    """eBay's File Exchange writes required columns as ``*Title``; Etsy writes ``CURRENCY_CODE``."""
    result = parse(b"*SKU,*Title,Price,CURRENCY_CODE\nA,Hat,12.00,eur\n")

    (row,) = result.rows
    assert (row[2], row[3], row[5], row[6]) == ("A", "Hat", "12.00", "EUR")
