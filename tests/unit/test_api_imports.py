"""/api/imports through FastAPI's TestClient: DynamoDB and S3 presigning on moto in process, PostgreSQL faked."""

from __future__ import annotations

import base64
import csv
import io
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from fastapi.testclient import TestClient
from moto import mock_aws
from product_importer.api import deps
from product_importer.api.app import create_app
from product_importer.aws import cached_client
from product_importer.models import Import, ImportStatus
from product_importer.ports import ProgressStore
from product_importer.progress import DynamoProgressStore, table_definition
from product_importer.settings import Settings, get_settings

BUCKET = "uploads-test"
MAX_BYTES = 10_000
EXPIRES_S = 600


class FakeResult:
    def __init__(self, rows: list[tuple]) -> None:
        self._rows = rows

    def fetchone(self) -> tuple | None:
        return self._rows[0] if self._rows else None

    def fetchall(self) -> list[tuple]:
        return self._rows


class FakeConnection:
    """The SQL the imports routes run, answered from memory: the import sequence and row_errors."""

    def __init__(self) -> None:
        self.next_number = 41
        self.errors: list[tuple] = []  # (import_id, row_no, id, sku, column, message, value)
        self.commits = 0

    def execute(self, query: str, params: tuple = ()) -> FakeResult:
        if "nextval('import_number_seq')" in query:
            self.next_number += 1
            return FakeResult([(self.next_number,)])
        if "FROM row_errors" in query and "(row_no, id) >" in query:
            import_id, after_row, after_id, limit = params
            rows = sorted(
                e for e in self.errors if e[0] == import_id and (e[1], e[2]) > (after_row, after_id)
            )
            return FakeResult([e[1:] for e in rows[:limit]])
        raise AssertionError(f"unexpected SQL: {query}")

    def commit(self) -> None:
        self.commits += 1

    @contextmanager
    def cursor(self, name: str | None = None) -> Iterator[FakeCursor]:
        yield FakeCursor(self)


class FakeCursor:
    def __init__(self, conn: FakeConnection) -> None:
        self._conn = conn
        self._rows: list[tuple] = []
        self.itersize = 1

    def execute(self, query: str, params: tuple) -> None:
        assert "FROM row_errors" in query
        (import_id,) = params
        rows = sorted(e for e in self._conn.errors if e[0] == import_id)
        self._rows = [(e[1], *e[3:]) for e in rows]

    def __iter__(self) -> Iterator[tuple]:
        return iter(self._rows)


class FakePool:
    def __init__(self, conn: FakeConnection) -> None:
        self._conn = conn

    @contextmanager
    def connection(self) -> Iterator[FakeConnection]:
        yield self._conn


class Api:
    def __init__(self, client: TestClient, store: ProgressStore, conn: FakeConnection) -> None:
        self.client = client
        self.store = store
        self.conn = conn

    def existing_import(self, created_at: str, filename: str = "catalog.csv") -> str:
        imp = Import(
            id=f"imp-{created_at}",
            filename=filename,
            source="upload",
            status=ImportStatus.PENDING,
            created_at=created_at,
        )
        self.store.create(imp, import_no=1, bucket=BUCKET, key=f"uploads/{imp.id}.csv")
        return imp.id


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_LOCAL", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    get_settings.cache_clear()
    cached_client.cache_clear()
    settings = Settings(uploads_bucket=BUCKET, max_upload_bytes=MAX_BYTES, upload_url_expires_s=EXPIRES_S)
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        dynamodb.create_table(**table_definition("progress-api-test"))
        store = DynamoProgressStore("progress-api-test", dynamodb)
        conn = FakeConnection()

        def db() -> Iterator[FakeConnection]:
            yield conn

        app = create_app(static_dir=None)
        app.dependency_overrides[deps.settings] = lambda: settings
        app.dependency_overrides[deps.progress] = lambda: store
        app.dependency_overrides[deps.db] = db
        app.dependency_overrides[deps.pool] = lambda: FakePool(conn)
        with TestClient(app) as client:
            yield Api(client, store, conn)
    get_settings.cache_clear()
    cached_client.cache_clear()


def policy_of(fields: dict[str, str]) -> dict[str, Any]:
    return json.loads(base64.b64decode(fields["policy"]))


def test_create_returns_the_pending_import_and_a_presigned_post_for_its_key_only(api: Api) -> None:
    before = datetime.now(UTC)

    response = api.client.post("/api/imports", json={"filename": " spring.csv ", "size": 1234})

    assert response.status_code == 201
    body = response.json()
    imp, upload = body["import"], body["upload"]
    assert imp["filename"] == "spring.csv"
    assert (imp["source"], imp["status"]) == ("upload", "pending")
    assert (imp["rows_total"], imp["chunks_total"], imp["chunks_done"], imp["error"]) == (None, None, 0, None)
    assert imp["created_at"].endswith("Z") and imp["finished_at"] is None
    assert upload["method"] == "POST" and upload["expires_in"] == EXPIRES_S
    assert BUCKET in upload["url"]
    key = f"uploads/{imp['id']}.csv"
    assert upload["fields"]["key"] == key
    policy = policy_of(upload["fields"])
    conditions = policy["conditions"]
    assert {"bucket": BUCKET} in conditions
    assert {"key": key} in conditions  # exactly this key, not a starts-with
    assert not any(isinstance(c, list) and c[0] == "starts-with" and c[1] == "$key" for c in conditions)
    assert ["content-length-range", 0, MAX_BYTES] in conditions
    expiration = datetime.fromisoformat(policy["expiration"].replace("Z", "+00:00"))
    assert 0 < (expiration - before).total_seconds() <= EXPIRES_S + 5
    stored = api.store.get_item(imp["id"])
    assert stored is not None and stored["import_no"] == 42 and stored["object_key"] == key
    assert api.conn.commits == 1  # the sequence number is committed, not held in a transaction


def test_create_over_the_maximum_size_is_413_and_creates_nothing(api: Api) -> None:
    response = api.client.post("/api/imports", json={"filename": "big.csv", "size": MAX_BYTES + 1})

    assert response.status_code == 413
    assert "maximum" in response.json()["detail"]
    assert api.client.get("/api/imports").json()["items"] == []


def test_a_file_of_exactly_the_maximum_size_is_accepted(api: Api) -> None:
    assert (
        api.client.post("/api/imports", json={"filename": "edge.csv", "size": MAX_BYTES}).status_code == 201
    )


@pytest.mark.parametrize(
    "body",
    [
        {"filename": "catalog.xlsx"},
        {"filename": "csv"},
        {"filename": ""},
        {"filename": "a.csv", "size": -1},
        {},
    ],
)
def test_create_refuses_what_is_not_a_csv_upload_with_422(api: Api, body: dict[str, Any]) -> None:
    response = api.client.post("/api/imports", json=body)

    assert response.status_code == 422
    assert "detail" in response.json()
    assert api.client.get("/api/imports").json()["items"] == []


def test_list_is_newest_first_and_pages_with_a_cursor(api: Api) -> None:
    ids = [api.existing_import(f"2026-11-28T10:00:{s:02d}.000Z") for s in range(7)]

    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 3}
        if cursor:
            params["cursor"] = cursor
        page = api.client.get("/api/imports", params=params).json()
        seen += [item["id"] for item in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
        assert pages < 10

    assert seen == ids[::-1]
    assert pages >= 3


@pytest.mark.parametrize(
    ("params", "status"), [({"limit": 0}, 422), ({"limit": 501}, 422), ({"cursor": "%%%not-ours"}, 400)]
)
def test_list_refuses_bad_paging_parameters(api: Api, params: dict[str, Any], status: int) -> None:
    response = api.client.get("/api/imports", params=params)

    assert response.status_code == status
    assert "detail" in response.json()


def test_get_returns_the_import_or_404(api: Api) -> None:
    import_id = api.existing_import("2026-11-28T10:00:00.000Z")

    assert api.client.get(f"/api/imports/{import_id}").json()["id"] == import_id
    missing = api.client.get("/api/imports/does-not-exist")
    assert missing.status_code == 404
    assert "not found" in missing.json()["detail"]
    assert api.client.get("/api/imports/does-not-exist/errors").status_code == 404
    assert api.client.get("/api/imports/does-not-exist/errors.csv").status_code == 404


def test_row_errors_page_by_row_with_a_cursor(api: Api) -> None:
    import_id = api.existing_import("2026-11-28T10:00:00.000Z")
    api.conn.errors = [
        (import_id, 9, 5, "E", "price", "price must be a decimal", "x"),
        (import_id, 1, 1, "A", "sku", "sku is required", ""),
        (import_id, 3, 2, "B", "price", "bad", "-1"),
        (import_id, 3, 3, "B", "quantity", "bad", "-2"),
        (import_id, 7, 4, None, None, "wrong number of fields", None),
        ("another-import", 2, 6, "Z", "name", "other", ""),
    ]

    first = api.client.get(f"/api/imports/{import_id}/errors", params={"limit": 2}).json()
    second = api.client.get(
        f"/api/imports/{import_id}/errors", params={"limit": 2, "cursor": first["next_cursor"]}
    ).json()
    third = api.client.get(
        f"/api/imports/{import_id}/errors", params={"limit": 2, "cursor": second["next_cursor"]}
    ).json()

    assert first["items"][0] == {
        "row": 1,
        "sku": "A",
        "column": "sku",
        "message": "sku is required",
        "value": "",
    }
    rows = [(e["row"], e["column"]) for page in (first, second, third) for e in page["items"]]
    assert rows == [(1, "sku"), (3, "price"), (3, "quantity"), (7, None), (9, "price")]
    assert first["next_cursor"] and second["next_cursor"] and third["next_cursor"] is None
    assert (
        api.client.get(f"/api/imports/{import_id}/errors", params={"cursor": "bm9wZQ=="}).status_code == 400
    )


def test_errors_csv_neutralises_formulas_for_spreadsheets(api: Api) -> None:
    import_id = api.existing_import("2026-11-28T10:00:00.000Z", filename="spring.csv")
    dangerous = ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\tTAB", "\rCR"]
    api.conn.errors = [
        (import_id, i + 1, i + 1, cell, "price", f"message {cell}", cell) for i, cell in enumerate(dangerous)
    ]
    api.conn.errors.append((import_id, 50, 50, "SAFE-1", "name", "plain = fine", "a-b"))

    response = api.client.get(f"/api/imports/{import_id}/errors.csv")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert 'filename="spring-errors.csv"' in response.headers["content-disposition"]
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline="")))
    assert rows[0] == ["row", "sku", "column", "message", "value"]
    for row, cell in zip(rows[1:], dangerous, strict=False):
        assert row[1] == "'" + cell and row[4] == "'" + cell
        assert row[3] == f"message {cell}"  # not formula-like: left as it is
    assert rows[-1] == ["50", "SAFE-1", "name", "plain = fine", "a-b"]
    assert len(rows) == 1 + len(dangerous) + 1
