"""Attributes (CONTRACT §1): every other column, as strings, under its header name; the products API's limits."""

from __future__ import annotations

import json

import pytest
from product_importer.ingest import HeaderError, ParsedChunk, parse_chunk, sniff
from product_importer.ingest.limits import (
    MAX_ATTRIBUTE_VALUE,
    MAX_ATTRIBUTES_BYTES,
    attribute_problems,
    attributes_json,
)
from product_importer.products.validation import ProductValidationError, validate_product

from tests.csv_samples import csv_bytes


def parse(data: bytes) -> ParsedChunk:
    plan = sniff(data)
    return parse_chunk(data[plan.data_start :], plan, 1)


def attributes(result: ParsedChunk, row: int = 0) -> dict[str, str]:
    return json.loads(result.rows[row][12])


def test_other_columns_become_a_json_object_of_strings_under_their_names():
    result = parse(b"sku,name, Color ,Size_EU,weight\nA,x,red,,  1.5 kg\n")

    assert attributes(result) == {"Color": "red", "Size_EU": "", "weight": "  1.5 kg"}
    assert result.rows[0][12] == '{"Color":"red","Size_EU":"","weight":"  1.5 kg"}'


def test_the_stored_form_is_the_shared_compact_json():
    result = parse(csv_bytes([["sku", "name", "Farbe", "Größe"], ["A", "x", 'grün "hell"', "XL"]]))

    assert result.rows[0][12] == attributes_json({"Farbe": 'grün "hell"', "Größe": "XL"})


def test_alias_losers_are_attributes():
    result = parse(b"sku,title,name\nA,The title,The name\n")

    assert result.rows[0][3] == "The name"
    assert attributes(result) == {"title": "The title"}


def test_type_is_an_attribute_not_the_category():
    result = parse(b"sku,name,Type,Product Type\nA,x,variable,Shirts\n")

    assert result.rows[0][10] == "Shirts"
    assert attributes(result) == {"Type": "variable"}


def test_the_same_name_twice_keeps_the_leftmost_and_never_shifts_columns():
    result = parse(b"sku,name,color,price,Color,Price,size\nA,x,red,5,blue,9,M\n")

    assert result.rows[0][5] == "5"
    assert attributes(result) == {"color": "red", "size": "M"}


def test_attribute_names_with_json_and_format_characters():
    data = csv_bytes(
        [["sku", "name", 'Size "EU"', "Discount %", "Notes"], ["A", "x", "42", "10%", 'a\\b "c"\n\td']]
    )

    encoded = parse(data).rows[0][12]

    assert json.loads(encoded) == {'Size "EU"': "42", "Discount %": "10%", "Notes": 'a\\b "c"\n\td'}
    assert encoded == json.dumps(json.loads(encoded), ensure_ascii=False, separators=(",", ":"))


def test_an_attribute_value_of_10000_characters_is_kept_one_more_is_a_row_error_on_that_column():
    data = csv_bytes([["sku", "name", "Care"], ["A", "x", "c" * MAX_ATTRIBUTE_VALUE], ["B", "y", "é" * 10_001]])

    result = parse(data)

    assert [r[2] for r in result.rows] == ["A"]
    assert len(attributes(result)["Care"]) == 10_000
    (error,) = result.errors
    assert (error.row, error.sku, error.column) == (2, "B", "Care")
    assert "10,001" in error.message and "10,000" in error.message


def test_a_rows_attributes_over_64_kib_as_json_are_a_row_error():
    header = ["sku", "name"] + [f"a{i}" for i in range(8)]
    fits = ["A", "x"] + ["v" * 8000] * 8  # ~64,100 bytes of JSON
    too_big = ["B", "y"] + ["é" * 4200] * 8  # 8,400 bytes each in UTF-8

    result = parse(csv_bytes([header, fits, too_big]))

    assert [r[2] for r in result.rows] == ["A"]
    (error,) = result.errors
    assert (error.row, error.column) == (2, "attributes")
    assert f"{MAX_ATTRIBUTES_BYTES:,}" in error.message


def test_a_header_name_over_255_characters_fails_the_file_at_once():
    with pytest.raises(HeaderError, match="255"):
        sniff(b"sku,name," + b"n" * 256 + b"\nA,x,y\n")
    assert sniff(b"sku,name," + b"n" * 255 + b"\n").names[2] == "n" * 255
    assert sniff(b"sku,name," + b"n" * 300 + b"\n", mapping={"n" * 300: "ignore"}).targets[2] == "ignore"


# ---- the products API keeps the same limits ------------------------------------------------------------


@pytest.mark.parametrize(
    ("attrs", "problem"),
    [
        ({"n" * 256: "x"}, "255"),
        ({"Care": "c" * 10_001}, "10,000"),
        ({f"k{i}": "v" * 9_000 for i in range(8)}, f"{MAX_ATTRIBUTES_BYTES:,}"),
        ({"": "x"}, "non-empty"),
        ({"x": float("nan")}, "NaN"),
    ],
)
def test_the_products_api_refuses_what_the_importer_refuses(attrs: dict, problem: str):
    assert any(problem in message for _, message in attribute_problems(attrs))
    with pytest.raises(ProductValidationError) as error:
        validate_product({"sku": "A", "name": "x"}, attrs)

    assert problem in str(error.value)


def test_the_products_api_takes_what_the_importer_takes():
    attrs = {"n" * 255: "c" * 10_000}

    assert validate_product({"sku": "A", "name": "x"}, attrs)["attributes"] == attrs
