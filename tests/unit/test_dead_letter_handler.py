"""The dead-letter handler with fake ports: a dead chunk, object event, split request or continuation in →
its import ends failed with a reason a user can act on (DESIGN decision 9)."""

from __future__ import annotations

import json
import os
import uuid
from datetime import UTC, datetime, timedelta

import pytest

os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "ProductImporterTest")
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")

from product_importer.models import ChunkMessage, Import, ImportStatus, SplitContinuation, SplitRequest
from product_importer.pipeline.dead_letters import DeadLetterPorts

from functions.dead_letter.handler import handler
from functions.expire_pending.handler import handler as expire_handler
from infra.local.events import LocalContext, s3_notification, sqs_event, sqs_record
from tests.unit.fakes import (
    BUCKET,
    FakeChunkLedger,
    FakeJobLedger,
    FakeObjectStore,
    FakeProgress,
    pending_upload,
)

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

INTERNALS = ("uploads/", "bucket", "Traceback", "127.0.0.1", "SELECT", "Error:")


class World:
    def __init__(self) -> None:
        self.progress = FakeProgress()
        self.ledger = FakeChunkLedger()
        self.objects = FakeObjectStore()
        self.ports = DeadLetterPorts(progress=self.progress, ledger=self.ledger, objects=self.objects,
                                     chunk_attempts=5, split_attempts=3,
                                     jobs=FakeJobLedger(self.ledger))

    def processing(self) -> str:
        import_id = uuid.uuid4().hex
        pending_upload(self.progress, import_id)
        self.progress.start(import_id, version_id="v1", etag="e")
        self.progress.set_totals(import_id, chunks_total=4, rows_total=20_000)
        return import_id

    def invoke(self, *bodies: dict | str) -> dict:
        records = [sqs_record(body if isinstance(body, str) else json.dumps(body),
                              queue_url="http://local/product-importer-chunks-dlq") for body in bodies]
        return handler(sqs_event(records), LocalContext("dead_letter"), ports=self.ports)

    def item(self, import_id: str) -> dict:
        item = self.progress.get_item(import_id)
        assert item is not None
        return item


def chunk(import_id: str, **fields: int) -> dict:
    values = {"chunk_no": 2, "start": 100, "end": 900, "first_row": 10_001, "rows": 5000, **fields}
    return ChunkMessage(import_id=import_id, import_no=7, bucket=BUCKET, key=f"uploads/{import_id}.csv",
                        version_id="v1", **values).model_dump(mode="json")


def test_a_dead_chunk_fails_its_import_with_the_rows_it_held_and_what_to_do() -> None:
    world = World()
    import_id = world.processing()

    assert world.invoke(chunk(import_id)) == {"batchItemFailures": []}  # consumed

    item = world.item(import_id)
    assert item["status"] == "failed" and item["finished_at"]
    assert "rows 10001–15000" in item["error"] and "after 5 attempts" in item["error"]
    assert "revert" in item["error"]
    assert not any(text in item["error"] for text in INTERNALS)
    assert world.ledger.registry[import_id] == "failed"  # its late chunks write nothing


def test_a_second_dead_chunk_of_a_failed_import_changes_nothing() -> None:
    world = World()
    import_id = world.processing()
    world.invoke(chunk(import_id, chunk_no=1, first_row=1))
    first_error = world.item(import_id)["error"]

    world.invoke(chunk(import_id, chunk_no=3, first_row=15_001))

    assert world.item(import_id)["error"] == first_error


def test_dead_object_events_requests_and_continuations_fail_their_imports() -> None:
    world = World()
    upload_id = uuid.uuid4().hex
    pending_upload(world.progress, upload_id)  # the splitter never got as far as starting it
    applied_id, continued_id = world.processing(), world.processing()
    notification = s3_notification(BUCKET, f"uploads/{upload_id}.csv", size=10, version_id="v1")
    request = SplitRequest(import_id=applied_id, bucket=BUCKET, key="uploads/x.csv").model_dump(mode="json")
    continuation = SplitContinuation(import_id=continued_id, chunk_no=3, offset=999, first_row=301)

    world.invoke(notification, request, continuation.model_dump(mode="json"))

    for import_id in (upload_id, applied_id, continued_id):
        item = world.item(import_id)
        assert item["status"] == "failed" and "could not be read after 3 attempts" in item["error"]


def test_a_dead_partner_drop_event_finds_its_import_by_the_version_written() -> None:
    world = World()
    key = "incoming/acme/feed.csv"
    version = world.objects.put(key, b"sku,name\n")
    notification = s3_notification(BUCKET, key, size=9, version_id=version)
    from product_importer.pipeline.s3events import parse_notification
    from product_importer.pipeline.splitter import import_id_for

    import_id = import_id_for(parse_notification(json.dumps(notification))[0])
    assert import_id is not None
    world.progress.create(Import(id=import_id, filename="feed.csv", source="s3-drop", status=ImportStatus.PENDING,
                                 created_at="2026-11-30T00:00:00.000Z"), import_no=3, bucket=BUCKET, key=key)

    world.invoke(notification)

    assert world.item(import_id)["status"] == "failed"


def test_a_message_of_no_known_shape_is_dropped() -> None:
    world = World()

    assert world.invoke("not json", {"hello": 1}) == {"batchItemFailures": []}
    assert world.progress.calls == []


# ---- pending imports expire -----------------------------------------------------------------------------


def _created(progress: FakeProgress, hours_ago: float, now: datetime, status: str = "pending") -> str:
    import_id = uuid.uuid4().hex
    created = (now - timedelta(hours=hours_ago)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    progress.create(Import(id=import_id, filename="f.csv", source="upload", status=ImportStatus(status),
                           created_at=created), import_no=1, bucket=BUCKET, key=f"uploads/{import_id}.csv")
    return import_id


def test_a_pending_import_whose_file_never_came_expires_after_24_hours() -> None:
    progress, ledger = FakeProgress(), FakeChunkLedger()
    now = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    old, fresh = _created(progress, 25, now), _created(progress, 23, now)
    started = _created(progress, 30, now, status="processing")

    result = expire_handler({}, LocalContext("expire_pending"), progress=progress, ledger=ledger, now=now)

    assert result == {"expired": 1}
    old_item = progress.get_item(old)
    assert old_item is not None and old_item["status"] == "failed" and old_item["error"].startswith("upload expired")
    assert progress.get_item(fresh)["status"] == "pending"  # type: ignore[index]
    assert progress.get_item(started)["status"] == "processing"  # type: ignore[index]
    assert ledger.registry[old] == "failed"
