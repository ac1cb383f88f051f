"""Every list page fits in one Lambda response (6 MB, ``product_importer.api.pages``), as AWS serves it.

Found checking the API against Lambda's limits: ``GET /api/products?limit=500`` of products with long
descriptions (CONTRACT §1 allows 65,535 characters) answered one body of tens of MB. On the laptop that
worked; in AWS the invocation's response is refused and API Gateway answers 500. The page now ends early at
a whole product and ``next_cursor`` goes on, so following it gives every product in order, in both worlds.
"""

from __future__ import annotations

import json
from typing import Any

import psycopg
from fastapi.testclient import TestClient
from product_importer.api.pages import LAMBDA_RESPONSE_BYTES, fit_page

from tests.integration.test_products_api import generate_products

LONG = 'é"\\' * 21_000  # 63,000 characters: within CONTRACT §1's 65,535, and each one escaped in a response


def lambda_payload_bytes(response: Any) -> int:
    """The size of the invocation's response as Mangum returns it and the Lambda runtime writes it (the
    body as a JSON string; ASCII escapes, as the runtimes before Python 3.12 write them: the larger)."""
    payload = {"statusCode": response.status_code, "headers": dict(response.headers), "body": response.text,
               "isBase64Encoded": False}
    return len(json.dumps(payload).encode())


def test_a_page_of_long_products_fits_a_lambda_response_and_the_cursor_gives_the_rest(
    api: TestClient, database_url: str
) -> None:
    with psycopg.connect(database_url) as conn:
        generate_products(conn, 120, import_id="long")
        conn.execute("UPDATE products SET description = %s", (LONG,))
        conn.commit()

    seen: list[str] = []
    pages = 0
    cursor: str | None = None
    while True:
        response = api.get("/api/products", params={"limit": 500, **({"cursor": cursor} if cursor else {})})
        assert response.status_code == 200
        assert lambda_payload_bytes(response) < LAMBDA_RESPONSE_BYTES
        body = response.json()
        assert body["items"] and all(item["description"] == LONG for item in body["items"])
        seen += [item["sku"] for item in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break

    assert pages > 1
    assert len(seen) == len(set(seen)) == 120
    assert [s.lower() for s in seen] == sorted(s.lower() for s in seen)


def test_a_page_of_short_items_is_not_cut_and_asks_once() -> None:
    calls: list[int] = []

    def fetch(limit: int) -> tuple[list[dict[str, str]], str | None]:
        calls.append(limit)
        return [{"sku": f"s{n}"} for n in range(limit)], f"after-{limit - 1}"

    assert fit_page(fetch, 500) == ([{"sku": f"s{n}"} for n in range(500)], "after-499")
    assert calls == [500]


def test_a_page_over_the_budget_ends_at_a_whole_item_with_the_cursor_after_it() -> None:
    items = [{"sku": f"s{n}", "description": "x" * 1000} for n in range(10)]

    def fetch(limit: int) -> tuple[list[dict[str, str]], str | None]:
        return items[:limit], f"after-s{limit - 1}" if limit < len(items) else None

    page, cursor = fit_page(fetch, 10, budget=3500)
    assert [i["sku"] for i in page] == ["s0", "s1", "s2"] and cursor == "after-s2"
    # one item larger than the budget still makes a page: nothing is ever skipped
    page, cursor = fit_page(fetch, 10, budget=10)
    assert [i["sku"] for i in page] == ["s0"] and cursor == "after-s0"
