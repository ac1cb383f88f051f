"""The whole REST API in process: FastAPI's TestClient over the app, a real (embedded) PostgreSQL, and
DynamoDB, S3 and SQS on moto. ``api_harness(database_url)`` builds one; tests reach every store through it."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import boto3
import psycopg
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from moto import mock_aws
from product_importer.api import deps, permissions
from product_importer.api.app import create_app
from product_importer.auth.groups import Caller
from product_importer.aws import cached_client
from product_importer.db.chunks import next_import_number, upsert_chunk
from product_importer.db.registry import finish_import, register_import
from product_importer.imports.jobs import ImportJobs
from product_importer.imports.store import ImportRequests, dynamo_values
from product_importer.models import Import, ImportOptions, ImportStatus, utcnow
from product_importer.progress import DynamoProgressStore, to_item
from product_importer.settings import Settings, get_settings
from product_importer.storage import SqsMessageQueue
from product_importer.transfers import Transfers
from psycopg_pool import ConnectionPool

from infra.topology import table_definition
from tests.integration.catalog_model import make_row

BUCKET = "uploads-api-test"
TABLE = "progress-api-test"
REGION = "us-east-1"


@dataclass
class ApiHarness:
    app: FastAPI
    client: TestClient
    settings: Settings
    database_url: str
    requests: ImportRequests
    progress: DynamoProgressStore
    dynamodb: Any
    s3: Any
    sqs: Any
    splits_url: str
    chunks_url: str

    def messages(self, queue_url: str) -> list[dict[str, Any]]:
        """Every message now on the queue (received and deleted)."""
        found: list[dict[str, Any]] = []
        while True:
            reply = self.sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
            batch = reply.get("Messages", [])
            if not batch:
                return found
            for message in batch:
                found.append(json.loads(message["Body"]))
                self.sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])

    def connect(self) -> psycopg.Connection:
        return psycopg.connect(self.database_url)

    def put_import(self, *, status: ImportStatus = ImportStatus.PENDING, filename: str = "catalog.csv",
                   options: ImportOptions | None = None, **fields: Any) -> str:
        """An import item as the pipeline would have left it (any status and fields)."""
        with self.connect() as conn:
            import_no = next_import_number(conn)
        values: dict[str, Any] = {"id": uuid.uuid4().hex, "filename": filename, "source": "upload",
                                  "status": status.value, "created_at": utcnow()}
        extra = {k: fields.pop(k) for k in ("object_version", "object_etag", "object_key", "bucket") if k in fields}
        values.update(fields)
        imp = Import.model_validate(values)
        item = imp.model_dump(mode="json")
        item.update(import_no=import_no, bucket=BUCKET, object_key=f"uploads/{imp.id}.csv",
                    options=(options or ImportOptions()).model_dump(mode="json", exclude_none=True),
                    kind="import", created_sort=f"{imp.created_at}#{imp.id}", **extra)
        self.dynamodb.put_item(TableName=TABLE, Item=to_item(dynamo_values(item)))
        with self.connect() as conn:
            register_import(conn, imp.id, import_no=import_no, mode=imp.mode, partner=imp.partner,
                            status="pending" if imp.status is ImportStatus.PENDING else "processing")  # import_rows finishes it
        return imp.id

    def import_rows(self, import_id: str, rows: list[tuple[str, str, str]]) -> None:
        """The import (or preview) wrote (sku, name, price) rows, in one chunk, and finished."""
        item = self.item(import_id)
        assert item is not None
        mode = item.get("mode", "import")
        records = [make_row(n, sku, name, {"price": price}, None) for n, (sku, name, price) in enumerate(rows, 1)]
        with self.connect() as conn:
            upsert_chunk(conn, import_id=import_id, import_no=item["import_no"], chunk_no=0,
                         present_fields=frozenset({"sku", "name", "price"}), rows=records, errors=(), rows_seen=len(records),
                         mode=mode)
            finish_import(conn, import_id, "previewed" if mode == "preview" else "completed")

    def as_group(self, group: str) -> None:
        """Call the API from now on as a signed-in user of ``group`` (local mode: everyone is admin)."""
        self.app.dependency_overrides[permissions.current_caller] = lambda: Caller("sub", "user", frozenset({group}))

    def item(self, import_id: str) -> dict[str, Any] | None:
        return self.requests.get_item(import_id)

    def add_row_errors(self, import_id: str, errors: list[tuple[int, str | None, str | None, str, str | None]]) -> None:
        with self.connect() as conn:
            with conn.cursor() as cur:
                cur.executemany("INSERT INTO row_errors (import_id, row_no, sku, column_name, message, value)"
                                " VALUES (%s, %s, %s, %s, %s, %s)", [(import_id, *e) for e in errors])
            conn.commit()


@contextmanager
def api_harness(database_url: str, monkeypatch: pytest.MonkeyPatch, **settings: Any) -> Iterator[ApiHarness]:
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_LOCAL", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_REGION", REGION)
    get_settings.cache_clear()
    cached_client.cache_clear()
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        dynamodb.create_table(**table_definition("progress", TABLE))
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=BUCKET)
        s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        sqs = boto3.client("sqs", region_name=REGION)
        splits_url = sqs.create_queue(QueueName="object-events-api-test")["QueueUrl"]
        chunks_url = sqs.create_queue(QueueName="chunks-api-test")["QueueUrl"]
        config = Settings(database_url=database_url, uploads_bucket=BUCKET, progress_table=TABLE,
                          object_events_queue_url=splits_url, chunks_queue_url=chunks_url,
                          chunks_dlq_url=chunks_url, webhooks_queue_url=chunks_url,
                          connections_table="connections-api-test", websocket_url="ws://127.0.0.1:1/ws",
                          websocket_management_url="http://127.0.0.1:1", **{"local_mode": True, **settings})
        requests = ImportRequests(TABLE, dynamodb)
        progress = DynamoProgressStore(TABLE, dynamodb)
        jobs = ImportJobs(splits=SqsMessageQueue(sqs, splits_url), chunks=SqsMessageQueue(sqs, chunks_url))
        transfers = Transfers(s3)
        pool = ConnectionPool(database_url, min_size=1, max_size=4, open=True)

        def db() -> Iterator[psycopg.Connection]:
            with pool.connection() as conn:
                yield conn

        app = create_app(static_dir=None)
        app.dependency_overrides[deps.settings] = lambda: config
        app.dependency_overrides[deps.db] = db
        app.dependency_overrides[deps.pool] = lambda: pool
        app.dependency_overrides[deps.progress] = lambda: progress
        app.dependency_overrides[deps.imports] = lambda: requests
        app.dependency_overrides[deps.jobs] = lambda: jobs
        app.dependency_overrides[deps.transfers] = lambda: transfers
        try:
            with TestClient(app, raise_server_exceptions=False) as client:
                yield ApiHarness(app, client, config, database_url, requests, progress, dynamodb, s3, sqs,
                                 splits_url, chunks_url)
        finally:
            pool.close()
    get_settings.cache_clear()
    cached_client.cache_clear()
