"""The API's database statements stop before API Gateway's 29 s integration timeout (API_STATEMENT_TIMEOUT_S).

Without a limit, a slow query (a ``q=`` search over a huge catalog, a big errors page, a wait on a lock) outlived
the gateway: the client got API Gateway's 503/504 with no ``detail`` while the query went on holding the
connection. Here the real pool (``runtime.api_pool``) on the embedded PostgreSQL, with a tiny timeout and a
statement held up by a lock."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from fastapi.testclient import TestClient
from product_importer import runtime
from product_importer.api.app import create_app


@pytest.fixture
def pooled_api(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("LOCAL_MODE", "true")
    monkeypatch.setenv("API_STATEMENT_TIMEOUT_S", "0.3")
    runtime.reset()
    try:
        with TestClient(create_app(), raise_server_exceptions=False) as client:
            yield client
    finally:
        runtime.reset()


def test_a_statement_past_the_timeout_is_a_503_with_detail_and_retry_after(
        pooled_api: TestClient, database_url: str) -> None:
    assert pooled_api.put("/api/products/SLOW-1", json={"name": "Lamp"}).status_code == 201
    with psycopg.connect(database_url) as blocker:
        blocker.execute("SET idle_in_transaction_session_timeout = '5s'")  # without a limit: 200 after 5 s
        blocker.execute("LOCK TABLE products IN ACCESS EXCLUSIVE MODE")  # held until the block ends

        stopped = pooled_api.get("/api/products", params={"q": "lamp"})

        assert stopped.status_code == 503, stopped.text
        assert "took too long" in stopped.json()["detail"] and stopped.headers["retry-after"].isdigit()
    # the connection the canceled statement ran on serves the next request
    assert [p["sku"] for p in pooled_api.get("/api/products").json()["items"]] == ["SLOW-1"]


def test_only_the_apis_connections_have_the_timeout(pooled_api: TestClient) -> None:
    with runtime.api_pool().connection() as conn:
        assert conn.execute("SHOW statement_timeout").fetchone() == ("300ms",)
    worker = runtime.db_connection()  # the pipeline functions' connection: a chunk's COPY may take longer
    assert worker.execute("SHOW statement_timeout").fetchone() == ("0",)
    worker.rollback()


def test_the_default_is_below_api_gateways_integration_timeout() -> None:
    from product_importer.settings import Settings

    assert 0 < Settings.model_fields["api_statement_timeout_s"].default < 29
