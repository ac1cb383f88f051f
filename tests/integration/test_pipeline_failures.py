"""Imports that end ``failed`` on the local stack (CONTRACT §1, §2): bad files, files over the size limits,
a poison chunk and a killed consumer whose chunk goes to the DLQ, uploads that never arrive; and what must
not fail (a header-only file, a UTF-16 file, a stray quote, a drop larger than the upload limit, a consumer
or a splitter killed before their last delivery)."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator

import psycopg
import pytest
from product_importer.db.job_ledger import PostgresJobLedger
from product_importer.db.ledger import PostgresChunkLedger
from product_importer.db.plans import PgPlanStore
from product_importer.models import SplitRequest
from product_importer.pipeline.splitter import SplitLimits, SplitterPorts, split_request
from product_importer.progress import DynamoProgressStore
from product_importer.storage import S3ObjectStore, SqsMessageQueue

from tests import pg
from tests.integration.stack_fixture import HEADER, PipelineStack, csv_rows, running_pipeline, unique

pytestmark = pytest.mark.slow

MAX_UPLOAD_BYTES = 20_000
MAX_DROP_BYTES = 6 << 20  # apart from uploads: a drop arrives as a multipart upload
CHUNK_VISIBILITY_S = 2
PENDING_EXPIRY_S = 20  # every other import of the module leaves pending within a second or two


@pytest.fixture(scope="module")
def pipeline(
    databases: pg.EmbeddedDatabases, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PipelineStack]:
    # Short visibility timeouts: a poison chunk goes around its five receives in seconds.
    with running_pipeline(
        databases,
        tmp_path_factory.mktemp("stack"),
        chunk_rows=500,
        max_upload_bytes=MAX_UPLOAD_BYTES,
        visibility_overrides={"chunks": CHUNK_VISIBILITY_S, "object-events": 3},
        # A tenth-of-a-second budget per splitter invocation: a file of more than a few chunks is split by a
        # chain of continuation messages (as a file too big for the splitter's 15 minutes is in AWS).
        extra_env={"MAX_DROP_BYTES": str(MAX_DROP_BYTES), "PENDING_EXPIRY_S": str(PENDING_EXPIRY_S),
                   "LOCAL_SWEEP_INTERVAL_S": "2", "SPLITTER_TIME_BUDGET_S": "0.1"},
    ) as stack:
        yield stack


def assert_failed(imp: dict, *expected_in_error: str) -> None:
    assert imp["status"] == "failed", imp
    assert imp["error"], imp
    for text in expected_in_error:
        assert text in imp["error"], imp["error"]
    assert imp["finished_at"]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"name,price\nWidget,1.00\n", ["missing required column", "sku"]),
        (b"sku,price\nW-1,1.00\n", ["missing required column", "name"]),
        (b"id,label,price\n1,Widget,1.00\n", ["missing required columns", "sku, name"]),
        (b"", ["empty"]),
        (b"\xef\xbb\xbf\r\n\r\n", ["empty"]),
        (b"sku,name,co\x00lor\nW-1,Widget,1\n", ["NUL"]),
    ],
    ids=["no-sku", "no-name", "neither", "zero-bytes", "bom-and-blank-lines", "nul-in-header"],
)
def test_a_file_that_cannot_be_imported_fails_at_once_with_a_reason(
    pipeline: PipelineStack, data: bytes, expected: list[str]
) -> None:
    import_id = pipeline.create_import("bad.csv")["import"]["id"]
    pipeline.put_upload(import_id, data)  # (straight into the bucket: one of them is over the upload limit)

    imp = pipeline.wait_for(import_id, timeout_s=30)

    assert_failed(imp, *expected)
    assert (imp["chunks_total"], imp["chunks_done"], imp["rows_processed"]) == (None, 0, 0)
    assert pipeline.sql("SELECT count(*) FROM chunk_ledger WHERE import_id = %s", (import_id,)) == [(0,)]


@pytest.mark.parametrize(
    "data",
    [b"sku,name,price\n", b"sku,name,price", b"\xef\xbb\xbfSKU;Name\r\n"],
    ids=["lf", "no-final-newline", "bom-semicolon-crlf"],
)
def test_a_header_only_file_completes_with_zero_rows(pipeline: PipelineStack, data: bytes) -> None:
    import_id = pipeline.upload(data, filename="empty-catalog.csv")

    imp = pipeline.wait_for(import_id, timeout_s=30)

    assert imp["status"] == "completed", imp
    assert (
        imp["rows_total"],
        imp["rows_processed"],
        imp["chunks_total"],
        imp["chunks_done"],
        imp["error"],
    ) == (0, 0, 0, 0, None)


def test_a_declared_size_over_the_limit_is_refused_by_the_api(pipeline: PipelineStack) -> None:
    before = len(pipeline.imports())

    response = pipeline.api.post("/api/imports", json={"filename": "big.csv", "size": MAX_UPLOAD_BYTES + 1})

    assert response.status_code == 413
    assert f"{MAX_UPLOAD_BYTES:,}" in response.json()["detail"]
    assert len(pipeline.imports()) == before


def test_a_file_over_the_limit_that_reaches_the_bucket_fails_its_import(pipeline: PipelineStack) -> None:
    prefix = unique("BIG")
    data = HEADER + csv_rows(prefix, 1000)
    assert len(data) > MAX_UPLOAD_BYTES
    created = pipeline.create_import("big.csv", size=100)  # the client lied, or the emulator let it through

    pipeline.put_upload(created["import"]["id"], data)

    imp = pipeline.wait_for(created["import"]["id"], timeout_s=30)
    assert_failed(imp, f"{len(data):,} bytes", f"maximum is {MAX_UPLOAD_BYTES:,} bytes")
    assert imp["chunks_total"] is None
    assert pipeline.product_count(prefix) == 0


def multipart_drop(pipeline: PipelineStack, key: str, data: bytes, part: int = 5 << 20) -> None:
    """What ``aws s3 cp`` does with a large file: a multipart upload (parts of 5 MiB and more)."""
    upload = pipeline.s3.create_multipart_upload(Bucket=pipeline.bucket, Key=key)
    parts = []
    for number, offset in enumerate(range(0, len(data), part), start=1):
        reply = pipeline.s3.upload_part(Bucket=pipeline.bucket, Key=key, UploadId=upload["UploadId"],
                                        PartNumber=number, Body=data[offset : offset + part])
        parts.append({"PartNumber": number, "ETag": reply["ETag"]})
    pipeline.s3.complete_multipart_upload(Bucket=pipeline.bucket, Key=key, UploadId=upload["UploadId"],
                                          MultipartUpload={"Parts": parts})


def test_a_partner_drop_larger_than_the_upload_limit_imports_and_one_over_the_drop_limit_fails(
    pipeline: PipelineStack,
) -> None:
    prefix = unique("DROPMP")
    filler = "x" * 160

    def wide_rows(tag: str, count: int) -> bytes:
        return "".join(f"{tag}-{n:06d},Product {n},1.00,{filler}\n" for n in range(1, count + 1)).encode()

    rows = (5 << 20) // 190 + 1500  # a little over 5 MiB: two parts
    data = HEADER + wide_rows(prefix, rows)
    assert MAX_UPLOAD_BYTES < 5 << 20 < len(data) < MAX_DROP_BYTES
    big = HEADER + wide_rows(prefix + "X", (MAX_DROP_BYTES // 190) + 2000)
    assert len(big) > MAX_DROP_BYTES
    multipart_drop(pipeline, f"incoming/acme/{prefix.lower()}.csv", data)
    multipart_drop(pipeline, f"incoming/acme/{prefix.lower()}-big.csv", big)

    [imp] = pipeline.wait_for_import_of(f"{prefix.lower()}.csv", timeout_s=60)
    done = pipeline.wait_for(imp["id"], timeout_s=240)
    assert (done["status"], done["rows_total"], done["rows_imported"], done["partner"]) == (
        "completed", rows, rows, "acme")
    assert done["chunks_total"] > 1
    # it was split by more than one invocation, each handing over to the next at a checkpoint
    assert pipeline.sql("SELECT checkpoint_sent FROM import_plans WHERE import_id = %s", (imp["id"],)) == [(True,)]
    [over] = pipeline.wait_for_import_of(f"{prefix.lower()}-big.csv", timeout_s=60)
    assert_failed(pipeline.wait_for(over["id"], timeout_s=60), f"maximum is {MAX_DROP_BYTES:,} bytes")


def test_a_poison_chunk_goes_to_the_dlq_and_fails_the_import_keeping_what_was_committed(
    pipeline: PipelineStack,
) -> None:
    prefix = unique("POISON")
    good_a, good_b, last = pipeline.manual_import(HEADER + csv_rows(prefix, 300, bad={5}), chunk_rows=100)
    import_id = last.import_id
    pipeline.send_chunks(good_a, good_b)
    pipeline.wait_for(import_id, until=lambda imp: imp["chunks_done"] == 2)
    poison = last.model_copy(update={"bucket": "no-such-bucket-poison"})  # fails on every receive

    pipeline.send_chunks(poison)

    imp = pipeline.wait_for(import_id, timeout_s=60)
    assert_failed(imp, "rows 201–300", "after 5 attempts")
    assert "version" not in imp["error"] and "manual/" not in imp["error"]
    assert (imp["chunks_total"], imp["chunks_done"], imp["rows_processed"], imp["rows_failed"]) == (
        3,
        2,
        200,
        1,
    )
    assert pipeline.product_count(prefix) == 199  # what was committed stays committed
    assert pipeline.dead_letters("chunks") == []  # the dead-letter handler consumed it
    # The good chunk delivered again after the failure changes nothing.
    pipeline.send_chunks(last)
    pipeline.wait_until_idle("chunks")
    assert pipeline.get_import(import_id)["status"] == "failed"


def test_a_chunk_whose_file_version_is_gone_fails_the_import_at_once(pipeline: PipelineStack) -> None:
    """No retry can read a deleted version: the import fails with a reason at the first receive, not after
    every receive of every chunk left (5 × the visibility timeout)."""
    prefix = unique("GONE")
    good, last = pipeline.manual_import(HEADER + csv_rows(prefix, 200), chunk_rows=100)
    pipeline.send_chunks(good)
    pipeline.wait_for(last.import_id, until=lambda imp: imp["chunks_done"] == 1)

    pipeline.send_chunks(last.model_copy(update={"version_id": "3HL4kqtJlcpXroDTDmJ-rmSpXd3dIbrHY"}))

    imp = pipeline.wait_for(last.import_id, timeout_s=30)
    assert_failed(imp, "deleted while it was being imported")
    assert pipeline.product_count(prefix) == 100  # what was committed stays
    assert pipeline.dead_letters("chunks") == []


# ---- fault injection: killed workers ------------------------------------------------------------------


class TotalsLock:
    """Holds an import's totals row (``FOR UPDATE``): every chunk of it blocks just before it commits, so a
    consumer can be killed mid-chunk, deterministically."""

    def __init__(self, pipeline: PipelineStack, import_id: str) -> None:
        self.pipeline = pipeline
        self.import_id = import_id
        self.conn = psycopg.connect(pipeline.database_url)
        self.conn.execute("INSERT INTO import_totals (import_id) VALUES (%s) ON CONFLICT DO NOTHING", (import_id,))
        self.conn.commit()
        self.conn.execute("SELECT 1 FROM import_totals WHERE import_id = %s FOR UPDATE", (import_id,))
        self.seen: set[int] = set()

    def wait_for_a_blocked_chunk(self, timeout_s: float = 60) -> int:
        """Until a new consumer waits on a lock (it has read, parsed and written its chunk, uncommitted):
        its backend's pid."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            waiting = {pid for (pid,) in self.pipeline.sql(
                "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND state = 'active'"
                " AND application_name = 'product-importer'")} - self.seen
            if waiting:
                pid = min(waiting)
                self.seen.add(pid)
                return pid
            time.sleep(0.1)
        raise AssertionError("no consumer got to the chunk's commit")

    def end_backend(self, pid: int) -> None:
        """What the database does once it notices its client died (TCP keepalive): end its transaction."""
        self.pipeline.sql("SELECT pg_terminate_backend(%s)", (pid,))

    def release(self) -> None:
        self.conn.rollback()
        self.conn.close()


def kill_consumers(pipeline: PipelineStack) -> list[int]:
    """SIGKILL every consumer worker (an out-of-memory kill or a timeout: no ``except`` runs)."""
    pids = pipeline.stack.workers.pids("consumer")
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    return pids


def wait_for_new_consumers(pipeline: PipelineStack, killed: list[int], timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        live = pipeline.stack.workers.pids("consumer")
        if len(live) == len(killed) and not set(live) & set(killed):
            return
        time.sleep(0.1)
    raise AssertionError("the killed consumers were not started again")


def test_a_consumer_killed_mid_chunk_on_its_last_delivery_ends_the_import_failed_via_the_dlq(
    pipeline: PipelineStack,
) -> None:
    prefix = unique("KILLED")
    first, second = pipeline.manual_import(HEADER + csv_rows(prefix, 200), chunk_rows=100)
    import_id = first.import_id
    pipeline.send_chunks(first)
    pipeline.wait_for(import_id, until=lambda imp: imp["chunks_done"] == 1)
    lock = TotalsLock(pipeline, import_id)
    pipeline.send_chunks(second)

    try:
        for _delivery in range(5):  # every delivery (maxReceiveCount) killed mid-chunk
            backend = lock.wait_for_a_blocked_chunk()
            killed = kill_consumers(pipeline)
            lock.end_backend(backend)
            wait_for_new_consumers(pipeline, killed)
    finally:
        lock.release()
    dead_at = time.monotonic()

    imp = pipeline.wait_for(import_id, timeout_s=90)
    assert_failed(imp, "rows 101–200", "after 5 attempts")
    assert time.monotonic() - dead_at < 60  # within the DLQ handler's window (visibility timeout + seconds)
    assert (imp["chunks_done"], imp["rows_imported"]) == (1, 100)  # what was committed stays
    assert pipeline.product_count(prefix) == 100  # the killed chunk's rows were never committed
    assert pipeline.stack.workers.restarts.get("consumer-0", 0) >= 5


def test_a_consumer_killed_on_an_early_delivery_still_completes_with_exact_counts(pipeline: PipelineStack) -> None:
    prefix = unique("REVIVE")
    messages = pipeline.manual_import(HEADER + csv_rows(prefix, 300, bad={7}), chunk_rows=100)
    import_id = messages[0].import_id
    lock = TotalsLock(pipeline, import_id)
    pipeline.send_chunks(*messages)

    try:
        backend = lock.wait_for_a_blocked_chunk()
        killed = kill_consumers(pipeline)
        lock.end_backend(backend)
        wait_for_new_consumers(pipeline, killed)
    finally:
        lock.release()

    imp = pipeline.wait_for(import_id, timeout_s=120)
    assert imp["status"] == "completed", imp
    assert (imp["rows_total"], imp["rows_processed"], imp["rows_imported"], imp["rows_failed"]) == (300, 300, 299, 1)
    assert (imp["chunks_done"], imp["products_created"]) == (3, 299)
    assert pipeline.product_count(prefix) == 299


def test_a_splitter_killed_after_set_totals_completes_the_import_on_redelivery(pipeline: PipelineStack) -> None:
    prefix = unique("SPLITKILL")
    created = pipeline.create_import("killed.csv")
    import_id = created["import"]["id"]
    key = f"manual/{import_id}.csv"  # outside the watched prefixes: only this test's message splits it
    put = pipeline.s3.put_object(Bucket=pipeline.bucket, Key=key, Body=HEADER + csv_rows(prefix, 1200))
    request = SplitRequest(import_id=import_id, bucket=pipeline.bucket, key=key, version_id=put.get("VersionId"))
    # The first delivery runs here, on the stack's real adapters; it dies right after set_totals, once
    # every chunk is committed (so no consumer could complete the import: none knew the total yet).
    with pytest.raises(SystemExit):
        split_request(request, splitter_ports(pipeline, KilledAfterSetTotals(pipeline, import_id)))
    stuck = pipeline.get_import(import_id)
    assert (stuck["status"], stuck["chunks_total"], stuck["chunks_done"]) == ("processing", 3, 3)

    pipeline.send("object-events", request.model_dump(mode="json"))  # SQS redelivers the message

    imp = pipeline.wait_for(import_id, timeout_s=60)
    assert imp["status"] == "completed", imp
    assert (imp["rows_total"], imp["rows_processed"], imp["chunks_done"]) == (1200, 1200, 3)


class KilledAfterSetTotals(DynamoProgressStore):
    def __init__(self, pipeline: PipelineStack, import_id: str) -> None:
        super().__init__(pipeline.resources.progress_table, pipeline.dynamodb)
        self.pipeline = pipeline
        self.import_id = import_id

    def set_totals(self, import_id: str, *, chunks_total: int, rows_total: int) -> bool:
        deadline = time.monotonic() + 60
        while self.pipeline.sql("SELECT chunks_done FROM import_totals WHERE import_id = %s",
                                (import_id,)) != [(chunks_total,)]:
            assert time.monotonic() < deadline, "the chunks were never committed"
            time.sleep(0.1)
        super().set_totals(import_id, chunks_total=chunks_total, rows_total=rows_total)
        raise SystemExit("splitter killed between set_totals and completion")


def splitter_ports(pipeline: PipelineStack, progress: DynamoProgressStore) -> SplitterPorts:
    conn = psycopg.connect(pipeline.database_url)
    return SplitterPorts(
        objects=S3ObjectStore(pipeline.s3), chunks=SqsMessageQueue(pipeline.sqs, pipeline.resources.queue_urls["chunks"]),
        continuations=SqsMessageQueue(pipeline.sqs, pipeline.resources.queue_urls["object-events"]),
        progress=progress, ledger=PostgresChunkLedger(lambda: conn), plans=PgPlanStore(lambda: conn),
        next_import_number=lambda: 0, saved_mappings=list,
        limits=SplitLimits(max_upload_bytes=10**9, max_drop_bytes=10**9, rows_per_chunk=500,
                           bytes_per_chunk=8 << 20, max_record_bytes=1 << 20),
        jobs=PostgresJobLedger(lambda: conn))


# ---- files that must not fail ------------------------------------------------------------------------------


def test_a_stray_quote_costs_one_row_and_the_rest_of_the_file_imports(pipeline: PipelineStack) -> None:
    prefix = unique("STRAY")
    good = "".join(f"{prefix}-Q{n:05d},Good product {n},9.99,red\n" for n in range(1, 201))
    data = HEADER + f"{prefix}-A,Before,1.00,red\n{prefix}-BAD,\"oops,2.00,red\n".encode() + good.encode()
    created = pipeline.create_import("stray.csv")
    pipeline.put_upload(created["import"]["id"], data)  # over the upload limit's presigned form: straight in

    imp = pipeline.wait_for(created["import"]["id"], timeout_s=60)

    assert (imp["status"], imp["rows_total"], imp["rows_imported"], imp["rows_failed"]) == ("completed", 202, 201, 1), imp["error"]
    [error] = pipeline.api.get(f"/api/imports/{imp['id']}/errors").json()["items"]
    assert error["row"] == 2 and "quote" in error["message"]


def test_a_utf16_upload_is_read_as_utf16(pipeline: PipelineStack) -> None:
    prefix = unique("U16")
    data = f"sku,name,price\r\n{prefix}-1,Bücher,1.00\r\n{prefix}-2,Café,2.00\r\n".encode("utf-16")

    import_id = pipeline.upload(data, filename="unicode.csv")

    imp = pipeline.wait_for(import_id, timeout_s=60)
    assert (imp["status"], imp["encoding"], imp["rows_imported"]) == ("completed", "utf-16", 2)
    assert pipeline.api.get(f"/api/products/{prefix}-1").json()["name"] == "Bücher"


def test_an_import_whose_file_never_arrives_expires(pipeline: PipelineStack) -> None:
    created = pipeline.create_import("never.csv")

    imp = pipeline.wait_for(created["import"]["id"], timeout_s=PENDING_EXPIRY_S + 60)

    assert_failed(imp, "upload expired")


def wait_for_dead_letter(pipeline: PipelineStack, import_id: str, timeout_s: float = 15) -> dict:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = [m for m in pipeline.dead_letters("chunks") if m["import_id"] == import_id]
        if found:
            assert len(found) == 1
            return found[0]
        time.sleep(0.2)
    raise AssertionError("the poison chunk never reached the DLQ")
