"""The product's fields and their limits: one definition for imported rows and the products API (CONTRACT §1)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

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

MAX_SKU = 64
MAX_NAME = 255
MAX_DESCRIPTION = 65_535  # characters, not bytes
MAX_SHORT_TEXT = 255  # brand, category, barcode
MAX_PRICE_DIGITS = 15  # before the point; PostgreSQL numeric takes more, no catalog needs more
MAX_PRICE_DECIMALS = 4
MAX_QUANTITY = 2**63 - 1  # PostgreSQL bigint
DEFAULT_CURRENCY = "USD"

MAX_ATTRIBUTE_NAME = 255  # characters; a longer header name fails the import at once
MAX_ATTRIBUTE_VALUE = 10_000  # characters
MAX_ATTRIBUTES_BYTES = 64 * 1024  # a product's attributes as compact UTF-8 JSON

MAX_HEADER_COLUMNS = 1024
MAX_HEADER_BYTES = 64 * 1024


def attributes_json(attributes: Mapping[str, Any]) -> str:
    """The stored form of an attributes object: compact JSON, non-ASCII as is (what the importer writes)."""
    return json.dumps(attributes, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def attributes_size(encoded: str) -> int:
    """The size that ``MAX_ATTRIBUTES_BYTES`` limits: UTF-8 bytes of ``attributes_json``."""
    return len(encoded) if encoded.isascii() else len(encoded.encode("utf-8", "surrogatepass"))


def attribute_problems(attributes: Mapping[str, Any]) -> list[tuple[str | None, str]]:
    """What breaks the attribute limits: ``(key or None for the whole object, message)``.

    Used by the products API; the importer checks the same limits column by column (header names at
    sniff time, values and the row's size in ``rows``) with the messages below.
    """
    problems: list[tuple[str | None, str]] = []
    for key, value in attributes.items():
        if not isinstance(key, str) or not key.strip():
            problems.append((None, "attribute names are non-empty text"))
            continue
        if len(key) > MAX_ATTRIBUTE_NAME:
            problems.append((key[:50], attribute_name_too_long(len(key))))
        if isinstance(value, str) and len(value) > MAX_ATTRIBUTE_VALUE:
            problems.append((key, attribute_value_too_long(len(value))))
    if not problems:
        try:
            size = attributes_size(attributes_json(attributes))
        except (TypeError, ValueError):
            return [(None, "attribute values must be JSON (no NaN or Infinity)")]
        if size > MAX_ATTRIBUTES_BYTES:
            problems.append((None, attributes_too_large(size)))
    return problems


def attribute_name_too_long(length: int) -> str:
    return f"the attribute name is {length:,} characters long; at most {MAX_ATTRIBUTE_NAME} are allowed"


def attribute_value_too_long(length: int) -> str:
    return f"the value is {length:,} characters long; an attribute holds at most {MAX_ATTRIBUTE_VALUE:,}"


def attributes_too_large(size: int) -> str:
    return (
        f"the row's attributes are {size:,} bytes as JSON; at most {MAX_ATTRIBUTES_BYTES:,} are allowed "
        "(shorten the longest values or ignore some columns)"
    )
