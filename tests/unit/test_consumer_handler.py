"""The consumer handler with fake ports: a batch of chunk messages in → writes, progress and partial failures out."""

from __future__ import annotations

import os
import uuid

import pytest

# The deployed function has these in its environment (CDK, local stack); Powertools reads them at import.
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "ProductImporterTest")
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")

from product_importer.models import ChunkMessage, ImportTotals
from product_importer.pipeline.consumer import ConsumerPorts
from product_importer.settings import get_settings

from functions.consumer.handler import handler
from infra.local.events import LocalContext, sqs_event, sqs_record
from tests.unit.fakes import (
    BUCKET,
    FakeChunkLedger,
    FakeObjectStore,
    FakeProgress,
    pending_upload,
)

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

HEADER = "sku,name,price,color"
MAX_RECEIVES = 4


@pytest.fixture(autouse=True)
def _max_receives(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHUNK_MAX_RECEIVES", str(MAX_RECEIVES))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


class World:
    """One import of ``chunks`` chunks of ``rows`` rows each, split and waiting for the consumer."""

    def __init__(self, *, chunks: int = 3, rows: int = 4) -> None:
        self.objects = FakeObjectStore()
        self.progress = FakeProgress()
        self.writer = FakeChunkLedger()
        self.ports = ConsumerPorts(
            objects=self.objects,
            progress=self.progress,
            ledger=self.writer,
        )
        self.import_id = uuid.uuid4().hex
        pending_upload(self.progress, self.import_id, import_no=11)
        self.key = f"uploads/{self.import_id}.csv"
        body = [f"{HEADER}\n".encode()]
        self.messages: list[ChunkMessage] = []
        offset = len(body[0])
        for chunk_no in range(chunks):
            data = b""
            for r in range(rows):
                n = chunk_no * rows + r + 1
                price = "-1" if n == 2 else f"{n}.25"  # row 2 is a row error
                data += f"SKU-{n},Product {n},{price},blue\n".encode()
            self.messages.append(
                ChunkMessage(
                    import_id=self.import_id,
                    import_no=11,
                    bucket=BUCKET,
                    key=self.key,
                    version_id="v1",
                    chunk_no=chunk_no,
                    start=offset,
                    end=offset + len(data),
                    first_row=chunk_no * rows + 1,
                    rows=rows,
                    header=HEADER,
                )
            )
            body.append(data)
            offset += len(data)
        self.version = self.objects.put(self.key, b"".join(body))
        self.progress.start(self.import_id, version_id=self.version, etag="e")
        self.progress.set_totals(self.import_id, chunks_total=chunks, rows_total=chunks * rows)

    def record(self, chunk_no: int, *, receive_count: int = 1) -> dict:
        return sqs_record(self.messages[chunk_no].model_dump_json(), receive_count=receive_count)

    def invoke(self, *records: dict) -> dict:
        return handler(sqs_event(list(records)), LocalContext("consumer"), ports=self.ports)

    def item(self) -> dict:
        item = self.progress.get_item(self.import_id)
        assert item is not None
        return item


def test_a_chunk_is_read_from_its_pinned_range_validated_written_and_counted() -> None:
    world = World()

    response = world.invoke(world.record(0))

    assert response == {"batchItemFailures": []}
    message = world.messages[0]
    assert world.objects.reads == [(BUCKET, world.key, "v1", message.start, message.end)]
    [call] = world.writer.calls
    assert (call["import_id"], call["import_no"], call["chunk_no"], call["rows_seen"]) == (
        world.import_id,
        11,
        0,
        4,
    )
    assert [r[0] for r in call["rows"]] == [1, 3, 4]  # row numbers; row 2 is an error
    assert [(e.row, e.column) for e in call["errors"]] == [(2, "price")]
    assert {"sku", "name", "price", "attributes"} <= call["present_fields"]
    assert "quantity" not in call["present_fields"]  # a column the file lacks keeps the stored value
    item = world.item()
    assert (item["chunks_done"], item["rows_processed"], item["rows_imported"], item["rows_failed"]) == (
        1,
        4,
        3,
        1,
    )
    assert item["status"] == "processing"


def test_the_last_chunk_completes_the_import_once() -> None:
    world = World(chunks=3)

    world.invoke(world.record(0), world.record(1))
    world.invoke(world.record(2))
    world.invoke(world.record(2))  # redelivered after completion

    item = world.item()
    assert (item["status"], item["chunks_done"], item["rows_processed"], item["rows_failed"]) == (
        "completed",
        3,
        12,
        1,
    )
    assert world.progress.writes("fail") == []


def test_one_failing_chunk_in_a_batch_is_the_only_item_failure() -> None:
    world = World(chunks=3)
    world.writer.fail_for = {1}
    records = [world.record(0), world.record(1), world.record(2)]

    response = world.invoke(*records)

    assert response == {"batchItemFailures": [{"itemIdentifier": records[1]["messageId"]}]}
    assert world.item()["chunks_done"] == 2
    assert world.item()["status"] == "processing"  # not the last receive: it will be retried


def test_an_unreadable_range_is_a_failure_of_that_record_only() -> None:
    world = World(chunks=2)
    gone = world.messages[0].model_copy(update={"import_id": "other", "key": "uploads/deleted.csv"})
    bad = sqs_record(gone.model_dump_json())

    response = world.invoke(world.record(0), bad, world.record(1))

    assert response == {"batchItemFailures": [{"itemIdentifier": bad["messageId"]}]}
    assert world.item()["status"] == "completed"


def test_a_body_that_is_not_a_chunk_message_fails_alone() -> None:
    world = World(chunks=1)
    junk = sqs_record('{"hello": 1}')

    response = world.invoke(junk, world.record(0))

    assert response == {"batchItemFailures": [{"itemIdentifier": junk["messageId"]}]}


@pytest.mark.parametrize("receive_count", [MAX_RECEIVES, MAX_RECEIVES + 1])
def test_on_the_last_receive_a_failing_chunk_fails_the_import_and_is_still_reported(
    receive_count: int,
) -> None:
    world = World(chunks=2)
    world.writer.fail_for = {1}
    good, poison = world.record(0), world.record(1, receive_count=receive_count)

    response = world.invoke(good, poison)

    assert response == {"batchItemFailures": [{"itemIdentifier": poison["messageId"]}]}
    item = world.item()
    assert item["status"] == "failed"
    assert (
        "chunk 1" in item["error"]
        and "rows 5\u20138" in item["error"]
        and "cannot write chunk 1" in item["error"]
    )
    assert item["chunks_done"] == 1  # what was committed stays counted


def test_before_the_last_receive_a_failing_chunk_leaves_the_import_running() -> None:
    world = World(chunks=2)
    world.writer.fail_for = {0}

    with pytest.raises(Exception, match="All records failed"):  # a whole-batch failure: SQS retries it all
        world.invoke(world.record(0, receive_count=MAX_RECEIVES - 1))

    assert world.item()["status"] == "processing"
    assert world.progress.writes("fail") == []


def test_a_progress_update_lost_after_the_commit_is_repaired_by_the_redelivery() -> None:
    world = World(chunks=2)
    real_publish_totals = world.progress.publish_totals
    crashed = []

    def crash_on_the_last_chunk_once(import_id: str, totals: ImportTotals) -> bool:
        if totals.chunks_done == 2 and not crashed:
            crashed.append(totals)
            raise ConnectionError("killed between the PostgreSQL commit and the progress update")
        return real_publish_totals(import_id, totals)

    world.progress.publish_totals = crash_on_the_last_chunk_once  # type: ignore[method-assign]
    world.invoke(world.record(0))
    with pytest.raises(Exception, match="All records failed"):
        world.invoke(world.record(1))
    assert len(world.writer.ledger) == 2 and world.item()["chunks_done"] == 1  # committed, not counted

    assert world.invoke(world.record(1, receive_count=2)) == {"batchItemFailures": []}

    item = world.item()
    assert (item["status"], item["chunks_done"], item["rows_processed"], item["rows_imported"]) == (
        "completed",
        2,
        8,
        7,
    )
    assert len(world.writer.calls) == 3 and len(world.writer.ledger) == 2
