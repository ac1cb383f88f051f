"""The glue of issues 13 and 14 in the pipeline, with fake ports: a preview's end, max_errors, a replace at
the end of a run (done, held, continued), a confirmed replace, revert chunks and their dead letters — each
through the handlers, as the queues deliver them."""

from __future__ import annotations

import json
import os
from typing import Any

import pytest

os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "ProductImporterTest")
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")

from product_importer.models import ReplaceRequest, RevertRequest, utcnow
from product_importer.pipeline import finish
from product_importer.pipeline.dead_letters import DeadLetterPorts, handle_dead_letter
from product_importer.settings import get_settings

from infra.local.events import sqs_record
from tests.unit.test_consumer_handler import World

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

MAX_RECEIVES = 4


@pytest.fixture(autouse=True)
def _max_receives(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("CHUNK_MAX_RECEIVES", str(MAX_RECEIVES))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def a_world(*, mode: str = "import", max_errors: int | None = None, replace: dict[str, Any] | None = None,
            partner: str | None = None) -> World:
    """An import as POST /api/imports made it (mode, options), split into 3 chunks of SKU-1…SKU-12 (row 2
    is a row error)."""
    options: dict[str, Any] = {}
    if max_errors is not None:
        options["max_errors"] = max_errors
    shown = None
    if replace is not None:
        options["replace"] = {"max_deactivate_percent": 20, **replace}
        shown = {**options["replace"], "status": None}
    world = World(options=options, mode=mode)
    world.progress.items[world.import_id].update(replace=shown, partner=partner)
    world.chunks.sent.clear()  # from now on: what the consumer sends to its own queue
    return world


def deliver_all(world: World) -> None:
    for n in range(len(world.messages)):
        assert world.invoke(world.record(n)) == {"batchItemFailures": []}


def deliver_queued(world: World) -> None:
    """Deliver what the consumer sent to its own queue (continuations), until nothing is left."""
    while world.chunks.sent:
        body = world.chunks.sent.pop(0)
        assert world.invoke(sqs_record(body)) == {"batchItemFailures": []}


# -- the end of a run -----------------------------------------------------------------------------------------


def test_a_preview_ends_previewed_once_never_completed() -> None:
    world = a_world(mode="preview")

    deliver_all(world)
    world.invoke(world.record(2))  # redelivered after the end

    item = world.item()
    assert item["status"] == "previewed"
    assert (item["chunks_done"], item["rows_processed"], item["rows_imported"], item["rows_failed"]) == (3, 12, 11, 1)
    assert world.progress.writes("finish") == [world.import_id]  # one end, never a second one
    assert world.ledger.registry[world.import_id] == "previewed"
    assert {c["mode"] for c in world.ledger.calls} == {"preview"}


def test_the_chunk_that_passes_max_errors_fails_the_import_with_its_counts_and_later_chunks_write_nothing() -> None:
    world = a_world(max_errors=0)  # row 2 (chunk 0) is a row error

    deliver_all(world)

    item = world.item()
    assert (item["status"], item["error"]) == ("failed", "too many row errors")
    assert (item["chunks_done"], item["rows_failed"]) == (1, 1)  # what the failing chunk committed is counted
    assert len(world.ledger.ledger) == 1  # chunks 1 and 2 wrote nothing
    assert world.progress.writes("finish") == []


def test_an_import_a_chunk_failed_is_never_ended_completed_even_if_the_progress_store_missed_it() -> None:
    # given every chunk committed, but PostgreSQL's registry says a chunk failed the import
    world = a_world()
    deliver_all(world)
    item = world.progress.items[world.import_id]
    item.update(status="processing")  # as if the end had not been written yet
    world.ledger.registry[world.import_id] = "failed"

    finish.finish_if_done(world.import_id, world.ports.job_ports())  # a redelivery asks for the end again

    assert (world.item()["status"], world.item()["error"]) == ("failed", "too many row errors")


# -- replace at the end of a run -------------------------------------------------------------------------------


def catalog_world(**options: Any) -> World:
    """A 3-chunk import of SKU-1…SKU-12 over a catalog that may also have other products."""
    world = a_world(**options)
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
    assert (item["replace"]["would_deactivate"], item["replace"]["in_scope"]) == (4, 16)  # for the UI
    assert item["products_deactivated"] == 0 and all(world.jobs.products.values())
    [warning] = item["warnings"]
    assert "replace held" in warning and "4 of the 16" in warning and "replace?confirm=true" in warning


def test_a_long_replace_continues_in_new_messages_and_completes_the_import_once() -> None:
    world = catalog_world(replace={"scope": "all", "max_deactivate_percent": 50})
    world.jobs.products.update({f"OLD-{n:02d}": True for n in range(1, 9)})
    world.ports.time_left = lambda: 0.0  # every step is the last of its invocation

    deliver_all(world)

    assert world.item()["status"] == "processing"  # the replace goes on in its own messages
    assert world.chunks.sent and all(m["kind"] == "replace" and m["completing"] for m in world.chunks.sent)
    deliver_queued(world)
    item = world.item()
    assert (item["status"], item["replace"]["status"], item["products_deactivated"]) == ("completed", "done", 8)
    assert world.progress.writes("finish") == [world.import_id]


def test_a_preview_with_replace_plans_the_deactivations_and_ends_previewed() -> None:
    world = catalog_world(mode="preview", replace={"scope": "all", "max_deactivate_percent": 50})
    world.jobs.products["OLD-1"] = True

    deliver_all(world)

    item = world.item()
    assert (item["status"], item["replace"]["status"], item["products_deactivated"]) == ("previewed", "planned", 1)


def test_scope_partner_without_a_partner_skips_the_replace_with_a_warning() -> None:
    world = catalog_world(replace={"scope": "partner"})
    world.jobs.products["OLD-1"] = True

    deliver_all(world)

    item = world.item()
    assert item["status"] == "completed" and item["replace"]["status"] is None
    assert world.jobs.products["OLD-1"] is True and "replace skipped" in item["warnings"][0]


def held_and_confirmed() -> tuple[World, str]:
    """An import whose replace (cap 0 %) is held over OLD-1, then confirmed as the API does it."""
    world = catalog_world(replace={"scope": "all", "max_deactivate_percent": 0})
    world.jobs.products["OLD-1"] = True
    deliver_all(world)
    assert world.item()["replace"]["status"] == "held"
    confirmed_at = utcnow()
    world.progress.items[world.import_id]["replace"]["confirmed_at"] = confirmed_at
    return world, confirmed_at


def test_a_confirmed_held_replace_is_carried_out_once() -> None:
    world, confirmed_at = held_and_confirmed()
    request = ReplaceRequest(import_id=world.import_id, requested_at=confirmed_at, scope="all")

    world.invoke(sqs_record(request.model_dump_json()))
    world.invoke(sqs_record(request.model_dump_json()))  # repeated

    item = world.item()
    assert (item["replace"]["status"], item["products_deactivated"]) == ("done", 1)
    assert not any("replace held" in w for w in item.get("warnings") or [])  # it no longer says none was
    assert world.progress.writes("finish_replace") == [world.import_id]  # the repeat found nothing held
    assert world.jobs.products["OLD-1"] is False


def test_a_confirmed_replace_that_deactivates_more_than_it_announced_says_so() -> None:
    """Found by a tester: held at 8, an older import's late file added a product in scope, the confirm
    deactivated 9, and the import said nothing of the one more."""
    world, confirmed_at = held_and_confirmed()
    world.jobs.products["OLD-2"] = True  # in scope and not in the file, since the replace was held
    request = ReplaceRequest(import_id=world.import_id, requested_at=confirmed_at, scope="all")

    world.invoke(sqs_record(request.model_dump_json()))

    item = world.item()
    assert (item["replace"]["status"], item["products_deactivated"]) == ("done", 2)
    assert any("2 products were deactivated, 1 more than the 1 announced" in w for w in item["warnings"]), item


def test_a_confirmed_replace_that_deactivates_what_it_announced_adds_no_warning() -> None:
    world, confirmed_at = held_and_confirmed()
    request = ReplaceRequest(import_id=world.import_id, requested_at=confirmed_at, scope="all")

    world.invoke(sqs_record(request.model_dump_json()))

    assert not any("more than the" in w for w in world.item().get("warnings") or [])


def test_a_confirmed_replace_whose_import_was_reverted_first_deactivates_nothing_and_is_released() -> None:
    world, confirmed_at = held_and_confirmed()
    world.jobs.reverted.add(world.import_id)  # the database has the import's revert planned
    request = ReplaceRequest(import_id=world.import_id, requested_at=confirmed_at, scope="all")

    world.invoke(sqs_record(request.model_dump_json()))

    item = world.item()
    assert world.jobs.products["OLD-1"] is True
    assert "confirmed_at" not in item["replace"] and "revert had started first" in item["warnings"][-1]
    assert world.progress.writes("finish_replace") == []


def test_a_replace_request_nobody_confirmed_changes_nothing() -> None:
    world = catalog_world(replace={"scope": "all", "max_deactivate_percent": 0})
    world.jobs.products["OLD-1"] = True
    deliver_all(world)
    stale = ReplaceRequest(import_id=world.import_id, requested_at="2000-01-01T00:00:00.000Z", scope="all")

    world.invoke(sqs_record(stale.model_dump_json()))

    assert world.jobs.products["OLD-1"] is True and world.item()["replace"]["status"] == "held"


# -- revert ------------------------------------------------------------------------------------------------------


def reverting_world(chunks: int = 3) -> tuple[World, list[RevertRequest]]:
    world = a_world()
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


def test_a_dead_revert_chunk_fails_the_revert_not_the_import() -> None:
    world, requests = reverting_world()
    world.jobs.fail_revert_for = {1}
    response = world.invoke(sqs_record(requests[0].model_dump_json()),
                            sqs_record(requests[1].model_dump_json(), receive_count=MAX_RECEIVES))
    assert len(response["batchItemFailures"]) == 1 and world.item()["status"] == "reverting"
    dead_letters = DeadLetterPorts(progress=world.progress, ledger=world.ledger, objects=world.objects,
                                   chunk_attempts=MAX_RECEIVES, split_attempts=3, jobs=world.jobs)

    handle_dead_letter(requests[1].model_dump_json(), dead_letters)  # from the chunk DLQ
    handle_dead_letter(requests[1].model_dump_json(), dead_letters)  # delivered twice

    item = world.item()
    assert item["status"] == "completed"  # back to what it was
    assert item["revert"]["status"] == "failed" and "revert the import again" in item["revert"]["error"]
    assert world.progress.writes("fail") == []  # the import itself did not fail
    assert world.jobs.calls.count(("fail_revert", world.import_id)) == 2  # idempotent in PostgreSQL
    # and its other chunks, still in the queue, change nothing any more
    world.invoke(sqs_record(requests[2].model_dump_json()))
    assert world.item()["status"] == "completed"


def test_a_dead_confirmed_replace_is_held_again_and_a_dead_completing_one_fails_the_import() -> None:
    world, confirmed_at = held_and_confirmed()
    dead_letters = DeadLetterPorts(progress=world.progress, ledger=world.ledger, objects=world.objects,
                                   chunk_attempts=MAX_RECEIVES, split_attempts=3, jobs=world.jobs)
    confirmed = ReplaceRequest(import_id=world.import_id, requested_at=confirmed_at, scope="all")

    handle_dead_letter(confirmed.model_dump_json(), dead_letters)

    item = world.item()
    assert item["status"] == "completed" and item["replace"]["status"] == "held"
    assert "confirmed_at" not in item["replace"] and "confirm it again" in item["warnings"][-1]
    # confirmed again, it is done, and no warning tells its user to confirm it any more
    again = utcnow()
    world.progress.items[world.import_id]["replace"]["confirmed_at"] = again
    world.invoke(sqs_record(ReplaceRequest(import_id=world.import_id, requested_at=again,
                                           scope="all").model_dump_json()))
    item = world.item()
    assert item["replace"]["status"] == "done" and not any("confirm it" in w for w in item["warnings"]), item

    running = catalog_world(replace={"scope": "all", "max_deactivate_percent": 50})
    running.jobs.products["OLD-1"] = True
    running.ports.time_left = lambda: 0.0
    deliver_all(running)
    [continuation] = running.chunks.sent
    dead = DeadLetterPorts(progress=running.progress, ledger=running.ledger, objects=running.objects,
                           chunk_attempts=MAX_RECEIVES, split_attempts=3, jobs=running.jobs)
    handle_dead_letter(json.dumps(continuation), dead)
    assert running.item()["status"] == "failed" and "replace could not be carried out" in running.item()["error"]


def test_before_its_last_delivery_a_failing_revert_chunk_leaves_the_revert_running() -> None:
    world, requests = reverting_world()
    world.jobs.fail_revert_for = {0}

    with pytest.raises(Exception, match="All records failed"):
        world.invoke(sqs_record(requests[0].model_dump_json(), receive_count=1))

    assert world.item()["status"] == "reverting"
