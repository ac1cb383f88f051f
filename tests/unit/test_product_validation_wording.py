"""A product sent through the API is checked by the importer's row rules (products.validation), but its
messages must not speak of a file: an API client that sent price "1,5" was told "this file is
comma-separated"."""

from __future__ import annotations

import pytest
from product_importer.products.validation import ProductValidationError, validate_product


@pytest.mark.parametrize(("values", "expected"), [
    ({"price": "1,5"}, "price 1,5: decimals need a point: write 1.5"),
    ({"price": "1,000"}, "price 1,000: remove the thousands separator (1000); write decimals with a point (1.000)"),
    ({"quantity": "5,0"}, "quantity 5,0: a decimal comma is not read here: write 5"),
    ({"barcode": "#N/A"}, "barcode is #N/A, a spreadsheet formula's error, not a value (a lookup that found "
                          "nothing, a broken reference): fix the formula or type the value"),
])
def test_api_messages_do_not_speak_of_a_file(values: dict[str, str], expected: str) -> None:
    with pytest.raises(ProductValidationError) as raised:
        validate_product({"sku": "A-1", "name": "A", **values})

    messages = [e.message for e in raised.value.errors]
    assert messages == [expected]
    assert not any("file" in m for m in messages)
