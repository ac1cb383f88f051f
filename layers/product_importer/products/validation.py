"""A product written through the API obeys exactly the rules of an imported row (CONTRACT §1).

Rather than restating them, a manual edit is run through the importer's own row validator: the values
become one CSV record under the canonical header, and ``parse_chunk`` either returns the row (trimmed,
defaulted, normalised as an import would store it) or its errors, which become field-level 422 detail.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from product_importer.ingest.header import resolve_header
from product_importer.ingest.limits import FIELDS, MAX_ATTRIBUTES_BYTES, attribute_problems
from product_importer.ingest.rows import ROW_FIELDS, parse_chunk

_HEADER = resolve_header(",".join(FIELDS).encode())
__all__ = ["FIELDS", "MAX_ATTRIBUTES_BYTES", "FieldError", "ProductValidationError", "validate_product"]


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str
    value: Any = None


class ProductValidationError(Exception):
    """One or more fields break the product rules; ``errors`` says which and why."""

    def __init__(self, errors: list[FieldError]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in errors))

    def detail(self) -> list[dict[str, Any]]:
        """FastAPI-style validation detail."""
        return [
            {"loc": ["body", e.field], "msg": e.message, "type": "value_error", "input": e.value}
            for e in self.errors
        ]


# The row validator speaks of "the file"; a product sent through the API is no file (an API client sent
# price "1,5" and was told "this file is comma-separated").
_FILE_WORDING = [
    (re.compile(r"this file is comma-separated, so "), ""),
    (re.compile(r" \(a decimal comma is read only in files separated by ';' or tab\)"), ""),
    (re.compile(r"; a decimal comma is read only in files separated by ';' or tab, here write decimals with a point"),
     "; write decimals with a point"),
    (re.compile(r", then export the file again$"), ""),  # a spreadsheet's error value (#N/A) sent as a value
]


def _api_wording(message: str) -> str:
    for pattern, replacement in _FILE_WORDING:
        message = pattern.sub(replacement, message)
    return message


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return format(Decimal(repr(value)), "f")
    return str(value)


def validate_product(values: dict[str, Any], attributes: dict[str, Any] | None = None) -> dict[str, Any]:
    """Check and normalise a complete product (every field of ``FIELDS``; missing ones are defaults).

    Returns the values as the importer stores them (``ROW_FIELDS`` minus ``row_no``, attributes a dict).
    """
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow([_cell(values.get(f)) for f in FIELDS])
    parsed = parse_chunk(buffer.getvalue().encode("utf-8", "surrogatepass"), _HEADER, 1)
    errors = [FieldError(e.column or "body", _api_wording(e.message), values.get(e.column or ""))
              for e in parsed.errors]
    if attributes is not None:
        # The importer's limits (CONTRACT §1): names <= 255, values <= 10,000 characters, <= 64 KiB as JSON.
        errors.extend(
            FieldError("attributes", f"{key}: {message}" if key else message, None)
            for key, message in attribute_problems(attributes)
        )
    if errors or len(parsed.rows) != 1:
        raise ProductValidationError(errors or [FieldError("body", "not a valid product")])
    row = dict(zip(ROW_FIELDS, parsed.rows[0], strict=True))
    row.pop("row_no")
    row["attributes"] = dict(attributes or {})
    return row
