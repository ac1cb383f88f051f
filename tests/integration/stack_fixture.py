"""The local stack (moto server + event pump + API) for integration tests, with the helpers they share.

One ``LocalStack`` per test module (``running_pipeline``), on free ports, a temporary state dir and a
fresh database of the session's embedded PostgreSQL. The test process keeps its environment and caches
as they were before the stack: the stack's API runs in this process, so whatever it cached (settings,
boto3 clients, the connection pool, the resolved database URL) is forgotten when it stops.
"""

from __future__ import annotations

import io
import json
import os
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import psycopg
from product_importer.db.plans import PgPlanStore
from product_importer.ingest.chunking import split_ranges
from product_importer.ingest.header import sniff
from product_importer.models import ChunkMessage, SplitPlan
from product_importer.progress import DynamoProgressStore

from infra.local.events import s3_notification
from infra.local.stack import LocalConfig, LocalStack, free_port
from tests.pg import EmbeddedDatabases

FINAL = ("completed", "failed")


def forget_process_caches() -> None:
    """Drop what this process built from an earlier stack's settings (endpoints, queues, database)."""
    from product_importer import runtime

    runtime.reset()


class PipelineStack:
    """A running local stack and what tests do with it: upload, drop, wait, look into PostgreSQL."""

    def __init__(self, stack: LocalStack, database_url: str) -> None:
        self.stack = stack
        self.database_url = database_url
        assert stack.resources is not None
        self.resources = stack.resources
        self.bucket = stack.resources.bucket
        self.api = httpx.Client(base_url=stack.config.api_url, timeout=30)
        self.s3 = stack._client("s3")
        self.sqs = stack._client("sqs")
        self.dynamodb = stack._client("dynamodb")
        self.progress = DynamoProgressStore(stack.resources.progress_table, self.dynamodb)

    def close(self) -> None:
        self.api.close()

    # -- starting imports ---------------------------------------------------------------------------

    def create_import(self, filename: str = "catalog.csv", size: int | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"filename": filename}
        if size is not None:
            body["size"] = size
        response = self.api.post("/api/imports", json=body)
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    def upload(self, data: bytes, filename: str = "catalog.csv") -> str:
        """What the browser does: create the import, then POST the file to the presigned form."""
        created = self.create_import(filename, size=len(data))
        upload = created["upload"]
        reply = httpx.post(
            upload["url"], data=upload["fields"], files={"file": (filename, data, "text/csv")}, timeout=60
        )
        assert reply.status_code in (200, 201, 204), reply.text
        import_id: str = created["import"]["id"]
        return import_id

    def put_upload(self, import_id: str, data: bytes) -> dict[str, Any]:
        """Write an import's file straight into the bucket (bypassing the presigned form's conditions)."""
        reply: dict[str, Any] = self.s3.put_object(
            Bucket=self.bucket, Key=f"uploads/{import_id}.csv", Body=data
        )
        return reply

    def drop(self, key: str, data: bytes) -> dict[str, Any]:
        """What a partner system does: write under ``incoming/``."""
        reply: dict[str, Any] = self.s3.put_object(Bucket=self.bucket, Key=key, Body=data)
        return reply

    def notification_for(self, key: str) -> dict[str, Any]:
        """The S3 notification of the current version of ``key``, as S3 would send it again."""
        head = self.s3.head_object(Bucket=self.bucket, Key=key)
        return s3_notification(
            self.bucket,
            key,
            size=head["ContentLength"],
            etag=head["ETag"].strip('"'),
            version_id=head.get("VersionId"),
        )

    def send(self, queue: str, *bodies: dict[str, Any]) -> None:
        url = self.resources.queue_urls[queue]
        for i in range(0, len(bodies), 10):
            entries = [
                {"Id": str(n), "MessageBody": json.dumps(body)} for n, body in enumerate(bodies[i : i + 10])
            ]
            reply = self.sqs.send_message_batch(QueueUrl=url, Entries=entries)
            assert not reply.get("Failed"), reply

    # -- an import split by the test itself (to craft, repeat or poison its chunks) -----------------

    def manual_import(
        self, data: bytes, *, chunk_rows: int, filename: str = "manual.csv"
    ) -> list[ChunkMessage]:
        """An import whose file sits outside the watched prefixes, so that no splitter runs for it:
        the test acts as the splitter and gets the chunk messages to deliver as it likes."""
        created = self.create_import(filename)
        import_id = created["import"]["id"]
        key = f"manual/{import_id}.csv"
        put = self.s3.put_object(Bucket=self.bucket, Key=key, Body=data)
        item = self.progress.get_item(import_id)
        assert item is not None
        plan = sniff(data[: 1 << 20], file_size=len(data))
        version, etag = put.get("VersionId"), put["ETag"].strip('"')
        with psycopg.connect(self.database_url) as conn:
            PgPlanStore(lambda: conn).pin(SplitPlan(
                import_id=import_id, bucket=self.bucket, key=key, version_id=version, etag=etag, size=len(data),
                file_plan=plan.to_json(), delimiter=plan.delimiter, data_encoding=plan.data_encoding,
                data_start=plan.data_start, rows_per_chunk=chunk_rows, bytes_per_chunk=8 << 20,
                max_record_bytes=1 << 20))
        messages = [
            ChunkMessage(
                import_id=import_id,
                import_no=int(item["import_no"]),
                bucket=self.bucket,
                key=key,
                version_id=version,
                etag=etag,
                chunk_no=r.chunk_no,
                start=r.start,
                end=r.end,
                first_row=r.first_row,
                rows=r.rows,
            )
            for r in split_ranges(
                io.BytesIO(data[plan.data_start:]),
                start=plan.data_start,
                delimiter=plan.delimiter,
                rows_per_chunk=chunk_rows,
            )
        ]
        assert self.progress.start(import_id, version_id=put.get("VersionId"), etag=put["ETag"].strip('"'))
        assert self.progress.set_totals(
            import_id, chunks_total=len(messages), rows_total=sum(m.rows for m in messages)
        )
        return messages

    def send_chunks(self, *messages: ChunkMessage) -> None:
        self.send("chunks", *(m.model_dump(mode="json") for m in messages))

    # -- observing ----------------------------------------------------------------------------------

    def get_import(self, import_id: str) -> dict[str, Any]:
        response = self.api.get(f"/api/imports/{import_id}")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def wait_for(
        self,
        import_id: str,
        *,
        timeout_s: float = 60,
        until: Callable[[dict[str, Any]], bool] | None = None,
    ) -> dict[str, Any]:
        """Poll the API until the import is final (or ``until`` holds)."""
        done = until or (lambda imp: imp["status"] in FINAL)
        deadline = time.monotonic() + timeout_s
        while True:
            imp = self.get_import(import_id)
            if done(imp):
                return imp
            if time.monotonic() > deadline:
                raise AssertionError(f"import {import_id} did not get there in {timeout_s}s: {imp}")
            time.sleep(0.1)

    def imports(self) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        cursor = None
        while True:
            params: dict[str, Any] = {"limit": 500, **({"cursor": cursor} if cursor else {})}
            page = self.api.get("/api/imports", params=params).json()
            items += page["items"]
            cursor = page["next_cursor"]
            if cursor is None:
                return items

    def wait_for_import_of(
        self, filename: str, *, count: int = 1, timeout_s: float = 30
    ) -> list[dict[str, Any]]:
        """The imports of a partner file once ``count`` of them exist, oldest first."""
        deadline = time.monotonic() + timeout_s
        while True:
            found = [i for i in self.imports() if i["filename"] == filename]
            if len(found) >= count:
                return found[::-1]
            if time.monotonic() > deadline:
                raise AssertionError(f"{count} import(s) of {filename} expected, found {found}")
            time.sleep(0.1)

    def wait_until_idle(self, *queues: str, timeout_s: float = 30) -> None:
        """Until the queues hold no message, visible or in flight."""
        deadline = time.monotonic() + timeout_s
        for queue in queues:
            url = self.resources.queue_urls[queue]
            while True:
                attrs = self.sqs.get_queue_attributes(
                    QueueUrl=url,
                    AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
                )["Attributes"]
                if (
                    attrs["ApproximateNumberOfMessages"] == "0"
                    and attrs["ApproximateNumberOfMessagesNotVisible"] == "0"
                ):
                    break
                if time.monotonic() > deadline:
                    raise AssertionError(f"queue {queue} still busy: {attrs}")
                time.sleep(0.1)

    def dead_letters(self, queue: str = "chunks") -> list[dict[str, Any]]:
        """The messages in a queue's DLQ (received, then made visible again at once)."""
        url = self.resources.dlq_urls[queue]
        reply = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
        messages: list[dict[str, Any]] = reply.get("Messages", [])
        for m in messages:
            self.sqs.change_message_visibility(
                QueueUrl=url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0
            )
        return [json.loads(m["Body"]) for m in messages]

    def sql(self, query: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.database_url) as conn:
            return conn.execute(query, params).fetchall()

    def product_count(self, prefix: str) -> int:
        return int(
            self.sql("SELECT count(*) FROM products WHERE sku_key LIKE %s", (prefix.lower() + "%",))[0][0]
        )


@contextmanager
def running_pipeline(databases: EmbeddedDatabases, state_dir: Path, **config: Any) -> Iterator[PipelineStack]:
    """A started local stack (API in this process, workers in their own) for one test module."""
    saved_env = dict(os.environ)
    database_url = databases.create()
    forget_process_caches()
    stack = LocalStack(
        LocalConfig(
            state_dir=state_dir,
            api_port=free_port(),
            aws_port=free_port(),
            ws_port=free_port(),
            static_dir=None,
            database_url=database_url,
            **config,
        )
    )
    pipeline: PipelineStack | None = None
    try:
        stack.start()
        pipeline = PipelineStack(stack, database_url)
        yield pipeline
    finally:
        if pipeline is not None:
            pipeline.close()
        stack.stop()
        forget_process_caches()
        os.environ.clear()
        os.environ.update(saved_env)
        databases.drop(database_url)


def csv_rows(
    prefix: str,
    count: int,
    *,
    start: int = 1,
    bad: set[int] | frozenset[int] = frozenset(),
    price: str = "{n}.25",
) -> bytes:
    """Data rows ``{prefix}-{n},Product {n},{price}`` (no header); rows in ``bad`` get a negative price."""
    lines = []
    for n in range(start, start + count):
        cell = "-1" if n in bad else price.format(n=n)
        lines.append(f"{prefix}-{n:06d},Product {n},{cell},blue\n")
    return "".join(lines).encode()


HEADER = b"sku,name,price,color\n"


def unique(prefix: str) -> str:
    """A SKU prefix no other test uses (products are shared by the module's tests)."""
    return f"{prefix}{uuid.uuid4().hex[:6]}".upper()
