"""The glue of issues 13 and 14 in the pipeline, with fake ports: a preview's chunks and its end, max_errors,
a replace at the end of a run (done, held, continued), a confirmed replace, revert chunks, an applied
preview's split request — each through the handlers, as the queues deliver them."""

from __future__ import annotations

import os
import uuid
from typing import Any

import pytest

os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "ProductImporterTest")
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")

from product_importer.models import (
    ChunkMessage,
    ImportStatus,
    ReplaceRequest,
    RevertRequest,
    SplitRequest,
    utcnow,
)
from product_importer.pipeline.splitter import SplitterPorts
from product_importer.settings import get_settings

from functions.splitter.handler import handler as splitter
from infra.local.events import LocalContext, sqs_event, sqs_record
from tests.unit.fakes import (
    BUCKET,
    FakeChunkLedger,
    FakeJobLedger,
    FakeObjectStore,
    FakeProgress,
    FakeQueue,
    pending_upload,
)
from tests.unit.test_consumer_handler import World

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

MAX_RECEIVES = 4


@pytest.fixture(autouse=True)
def _max_receives(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("CHUNK_MAX_RECEIVES", str(MAX_RECEIVES))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def with_options(world: World, *, mode: str = "import", max_errors: int | None = None,
                 replace: dict[str, Any] | None = None, partner: str | None = None) -> World:
    """The import as POST /api/imports made it (mode, options), and its chunks as the splitter sends them."""
    item = world.progress.items[world.import_id]
    item.update(mode=mode, partner=partner, options={"max_errors": max_errors} if max_errors is not None else {})
    if replace is not None:
        item["replace"] = {"max_deactivate_percent": 20, **replace, "status": None}
    world.messages = [m.model_copy(update={"mode": mode, "max_errors": max_errors}) for m in world.messages]
    return world


def deliver_all(world: World) -> None:
    for n in range(len(world.messages)):
        assert world.invoke(world.record(n)) == {"batchItemFailures": []}


def deliver_queued(world: World) -> None:
    """Deliver what the consumer sent to its own queue (continuations), until nothing is left."""
    while world.queue.sent:
        body = world.queue.sent.pop(0)
        assert world.invoke(sqs_record(body)) == {"batchItemFailures": []}


# -- chunks carry the import's mode and options --------------------------------------------------------------


def test_a_chunk_passes_the_mode_max_errors_and_skipped_rows_to_the_database() -> None:
    world = with_options(World(chunks=1), mode="preview", max_errors=7)

    world.invoke(world.record(0))

    [call] = world.writer.calls
    assert (call["mode"], call["max_errors"], call["rows_skipped"]) == ("preview", 7, 0)


def test_a_preview_ends_previewed_with_its_counts_never_completed() -> None:
    world = with_options(World(chunks=3), mode="preview")

    deliver_all(world)
    world.invoke(world.record(2))  # redelivered after the end

    item = world.item()
    assert item["status"] == "previewed"
    assert (item["chunks_done"], item["rows_processed"], item["rows_imported"], item["rows_failed"]) == (3, 12, 11, 1)
    assert world.progress.writes("finish") == [world.import_id]  # one end, never a second one
    assert world.jobs.registry[world.import_id] == ("previewed", None)


def test_the_chunk_that_passes_max_errors_fails_the_import_and_later_chunks_write_nothing() -> None:
    world = with_options(World(chunks=3), max_errors=0)  # row 2 (chunk 0) is a row error

    deliver_all(world)

    item = world.item()
    assert (item["status"], item["error"]) == ("failed", "too many row errors")
    assert item["chunks_done"] == 1  # what the failing chunk committed is counted
    assert len(world.writer.ledger) == 1  # chunks 1 and 2 wrote nothing
    assert world.progress.writes("finish") == []


def test_an_import_failed_by_a_chunk_is_not_ended_completed_when_the_progress_store_missed_it() -> None:
    # given every chunk committed, but PostgreSQL's registry says a chunk failed the import
    world = with_options(World(chunks=2), max_errors=5)
    deliver_all(world)
    world.progress.items[world.import_id]["status"] = "processing"  # (as if the fail write was lost)
    world.writer.failed[world.import_id] = "too many row errors"

    world.invoke(world.record(1))  # a redelivery asks for the end again

    item = world.item()
    assert (item["status"], item["error"]) == ("failed", "too many row errors")


# -- replace at the end of a run -------------------------------------------------------------------------------


def catalog_world(**options: Any) -> World:
    """A 3-chunk import of SKU-1…SKU-12 over a catalog that also has OLD-1…OLD-n."""
    world = with_options(World(chunks=3), **options)
    skus = {f"SKU-{n}" for n in range(1, 13)}
    world.jobs.products.update(dict.fromkeys(skus, True))
    world.jobs.in_file[world.import_id] = skus
    return world


def test_a_replace_under_the_cap_deactivates_the_missing_products_before_the_import_completes() -> None:
    world = catalog_world(replace={"scope": "all", "max_deactivate_percent": 20})
    world.jobs.products.update({"OLD-1": True, "OLD-2": True})

    deliver_all(world)

    item = world.item()
    assert item["status"] == "completed"
    assert (item["replace"]["status"], item["products_deactivated"]) == ("done", 2)
    assert world.jobs.products["OLD-1"] is False and world.jobs.products["SKU-5"] is True


def test_a_replace_over_the_cap_is_held_with_a_warning_and_deactivates_nothing() -> None:
    world = catalog_world(replace={"scope": "all", "max_deactivate_percent": 10})
    world.jobs.products.update({f"OLD-{n}": True for n in range(1, 5)})  # 4 of 16 = 25 % > 10 %

    deliver_all(world)

    item = world.item()
    assert item["status"] == "completed" and item["replace"]["status"] == "held"
    assert item["products_deactivated"] == 0 and all(world.jobs.products.values())
    [warning] = item["warnings"]
    assert "replace held" in warning and "4 of the 16" in warning and "replace?confirm=true" in warning


def test_a_long_replace_continues_in_new_messages_and_completes_the_import_once() -> None:
    world = catalog_world(replace={"scope": "all", "max_deactivate_percent": 50})
    world.jobs.products.update({f"OLD-{n:02d}": True for n in range(1, 9)})
    world.ports.time_left = lambda: 0.0  # every step is the last one of its invocation

    deliver_all(world)

    assert world.item()["status"] == "processing"  # the replace goes on in its own messages
    assert world.queue.sent and all(m["kind"] == "replace" and m["completing"] for m in world.queue.sent)
    deliver_queued(world)
    item = world.item()
    assert (item["status"], item["replace"]["status"], item["products_deactivated"]) == ("completed", "done", 8)
    assert world.progress.writes("finish") == [world.import_id]


def test_a_preview_with_replace_plans_the_deactivations_and_ends_previewed() -> None:
    world = catalog_world(mode="preview", replace={"scope": "all", "max_deactivate_percent": 50})
    world.jobs.products["OLD-1"] = True

    deliver_all(world)

    item = world.item()
    assert (item["status"], item["replace"]["status"], item["products_deactivated"]) == ("previewed", "done", 1)


def test_scope_partner_without_a_partner_skips_the_replace_with_a_warning() -> None:
    world = catalog_world(replace={"scope": "partner"})
    world.jobs.products["OLD-1"] = True

    deliver_all(world)

    item = world.item()
    assert item["status"] == "completed" and item["replace"]["status"] is None
    assert world.jobs.products["OLD-1"] is True and "replace skipped" in item["warnings"][0]


def test_a_confirmed_held_replace_is_carried_out_once() -> None:
    world = catalog_world(replace={"scope": "all", "max_deactivate_percent": 0})
    world.jobs.products["OLD-1"] = True
    deliver_all(world)
    assert world.item()["replace"]["status"] == "held"
    confirmed_at = utcnow()
    world.progress.items[world.import_id]["replace"]["confirmed_at"] = confirmed_at  # what the API does
    request = ReplaceRequest(import_id=world.import_id, requested_at=confirmed_at, scope="all")

    world.invoke(sqs_record(request.model_dump_json()))
    world.invoke(sqs_record(request.model_dump_json()))  # repeated

    item = world.item()
    assert (item["replace"]["status"], item["products_deactivated"]) == ("done", 1)
    assert world.progress.writes("finish_replace") == [world.import_id]  # the repeat found nothing held
    assert world.jobs.products["OLD-1"] is False


def test_a_replace_request_nobody_confirmed_changes_nothing() -> None:
    world = catalog_world(replace={"scope": "all", "max_deactivate_percent": 0})
    world.jobs.products["OLD-1"] = True
    deliver_all(world)
    stale = ReplaceRequest(import_id=world.import_id, requested_at="2000-01-01T00:00:00.000Z", scope="all")

    world.invoke(sqs_record(stale.model_dump_json()))

    assert world.jobs.products["OLD-1"] is True and world.item()["replace"]["status"] == "held"


# -- revert ------------------------------------------------------------------------------------------------------


def reverting_world(chunks: int = 3) -> tuple[World, list[RevertRequest]]:
    world = World(chunks=1)
    deliver_all(world)
    at = utcnow()
    item = world.progress.items[world.import_id]
    item.update(status="reverting", revert={"restored": 0, "deleted": 0, "conflicts": 0, "requested_at": at,
                                            "status": "running", "previous_status": "completed"})
    world.jobs.revert_plans[world.import_id] = [(2, 1, 0), (3, 0, 1), (0, 4, 0)][:chunks]
    requests = [RevertRequest(import_id=world.import_id, requested_at=at, chunk_no=n, chunks_total=chunks)
                for n in range(chunks)]
    return world, requests


def test_revert_chunks_add_up_into_the_revert_object_and_the_last_ends_it_reverted() -> None:
    world, requests = reverting_world()

    world.invoke(sqs_record(requests[0].model_dump_json()), sqs_record(requests[2].model_dump_json()))
    middle = world.item()
    assert middle["status"] == "reverting"
    assert (middle["revert"]["restored"], middle["revert"]["deleted"], middle["revert"]["chunks_done"]) == (2, 5, 2)
    world.invoke(sqs_record(requests[1].model_dump_json()))
    world.invoke(sqs_record(requests[1].model_dump_json()))  # redelivered: nothing twice

    item = world.item()
    assert item["status"] == "reverted" and item["reverted_at"]
    revert = item["revert"]
    assert (revert["restored"], revert["deleted"], revert["conflicts"], revert["status"]) == (5, 5, 1, "done")
    assert world.jobs.calls.count(("revert_chunk", world.import_id)) == 3  # the repeat found it reverted


def test_a_revert_chunk_that_fails_its_last_delivery_fails_the_revert_not_the_import() -> None:
    world, requests = reverting_world()
    world.jobs.fail_revert_for = {1}

    response = world.invoke(sqs_record(requests[0].model_dump_json()),
                            sqs_record(requests[1].model_dump_json(), receive_count=MAX_RECEIVES))

    assert len(response["batchItemFailures"]) == 1
    item = world.item()
    assert item["status"] == "completed"  # back to what it was
    assert item["revert"]["status"] == "failed" and "revert the import again" in item["revert"]["error"]
    assert ("fail_revert", world.import_id) in world.jobs.calls
    # and its other chunks, still in the queue, change nothing any more
    world.invoke(sqs_record(requests[2].model_dump_json()))
    assert world.item()["status"] == "completed"


def test_before_its_last_delivery_a_failing_revert_chunk_leaves_the_revert_running() -> None:
    world, requests = reverting_world()
    world.jobs.fail_revert_for = {0}

    with pytest.raises(Exception, match="All records failed"):
        world.invoke(sqs_record(requests[0].model_dump_json(), receive_count=1))

    assert world.item()["status"] == "reverting"


# -- an applied preview's split --------------------------------------------------------------------------------


def test_a_split_request_splits_the_pinned_version_for_the_applied_import_with_its_options() -> None:
    objects, chunks, progress = FakeObjectStore(), FakeQueue(), FakeProgress()
    ports = SplitterPorts(objects=objects, chunks=chunks, progress=progress, next_import_number=lambda: 1,
                          max_upload_bytes=10_000_000, chunk_rows=2, jobs=FakeJobLedger(FakeChunkLedger()))
    preview_id, applied_id = uuid.uuid4().hex, uuid.uuid4().hex
    key = f"uploads/{preview_id}.csv"
    version = objects.put(key, b"sku,name\nA,a\nB,b\nC,c\n")
    objects.put(key, b"sku,name\nZ,overwritten later\n")  # a newer version must not be read
    pending_upload(progress, applied_id, import_no=42)
    progress.items[applied_id].update(options={"max_errors": 3}, preview_of=preview_id)
    request = SplitRequest(import_id=applied_id, bucket=BUCKET, key=key, version_id=version)

    response = splitter(sqs_event([sqs_record(request.model_dump_json())]), LocalContext("splitter"), ports=ports)

    assert response == {"batchItemFailures": []}
    messages = [ChunkMessage.model_validate(m) for m in chunks.sent]
    assert [(m.import_id, m.import_no, m.version_id, m.rows, m.max_errors, m.mode) for m in messages] == [
        (applied_id, 42, version, 2, 3, "import"), (applied_id, 42, version, 1, 3, "import")]
    item = progress.items[applied_id]
    assert (item["status"], item["chunks_total"], item["rows_total"]) == (ImportStatus.PROCESSING.value, 2, 3)
    assert preview_id not in progress.items  # no import was made up from the key


def test_a_split_request_for_an_unknown_import_is_ignored() -> None:
    objects, chunks, progress = FakeObjectStore(), FakeQueue(), FakeProgress()
    ports = SplitterPorts(objects=objects, chunks=chunks, progress=progress, next_import_number=lambda: 1,
                          max_upload_bytes=10_000_000, chunk_rows=2, jobs=FakeJobLedger(FakeChunkLedger()))
    key = "uploads/x.csv"
    version = objects.put(key, b"sku,name\nA,a\n")
    request = SplitRequest(import_id="nope", bucket=BUCKET, key=key, version_id=version)

    response = splitter(sqs_event([sqs_record(request.model_dump_json())]), LocalContext("splitter"), ports=ports)

    assert response == {"batchItemFailures": []} and chunks.sent == [] and progress.items == {}
