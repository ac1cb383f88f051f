"""The progress store's writes for the end of a run, a revert and a confirmed replace (issues 13 and 14),
against DynamoDB (moto, in process): conditional, forward only, exactly once."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from product_importer.imports.store import ImportRequests
from product_importer.models import ImportStatus, RevertProgress, utcnow
from product_importer.progress import DynamoProgressStore

from infra.topology import table_definition
from tests.integration.test_progress_store import TABLE, AtomicCalls, concurrently, processing, totals


@pytest.fixture
def store(monkeypatch: pytest.MonkeyPatch) -> Iterator[DynamoProgressStore]:
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_LOCAL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(**table_definition("progress", TABLE))
        yield DynamoProgressStore(TABLE, AtomicCalls(client))


def requests_of(store: DynamoProgressStore) -> ImportRequests:
    return ImportRequests(TABLE, store._db)


def completed(store: DynamoProgressStore, chunks: int = 3) -> str:
    import_id = processing(store, chunks_total=chunks)
    assert store.finish(import_id, ImportStatus.COMPLETED, totals(chunks))
    return import_id


def reverting(store: DynamoProgressStore) -> tuple[str, str]:
    import_id = completed(store)
    at = utcnow()
    assert requests_of(store).start_revert(import_id, from_status="completed", requested_at=at) is not None
    return import_id, at


def item(store: DynamoProgressStore, import_id: str) -> dict[str, Any]:
    found = store.get_item(import_id)
    assert found is not None
    return found


# -- the end of a run ------------------------------------------------------------------------------------


@pytest.mark.parametrize("attempt", range(3))
def test_a_preview_ends_previewed_once_under_concurrent_callers(store: DynamoProgressStore, attempt: int) -> None:
    import_id = processing(store, chunks_total=4)

    results = concurrently(8, lambda _i: store.finish(import_id, ImportStatus.PREVIEWED, totals(4)))

    assert results.count(True) == 1
    imp = store.get(import_id)
    assert imp is not None and imp.status is ImportStatus.PREVIEWED
    assert (imp.chunks_done, imp.rows_processed, imp.products_created) == (4, 40, 39)
    assert imp.finished_at is not None


def test_the_end_needs_totals_that_cover_every_chunk(store: DynamoProgressStore) -> None:
    import_id = processing(store, chunks_total=4)

    assert not store.finish(import_id, ImportStatus.COMPLETED, totals(3))
    assert item(store, import_id)["status"] == "processing"
    pending = processing(store)  # chunks_total not known yet
    assert not store.finish(pending, ImportStatus.COMPLETED, totals(0))


def test_the_end_writes_the_replace_and_appends_warnings(store: DynamoProgressStore) -> None:
    import_id = processing(store, chunks_total=1)

    assert store.finish(import_id, ImportStatus.COMPLETED, totals(1),
                        replace={"scope": "all", "max_deactivate_percent": 12.5, "status": "held"},
                        warnings=["replace held: 9 of 10"])

    imp = store.get(import_id)
    assert imp is not None and imp.replace == {"scope": "all", "max_deactivate_percent": 12.5, "status": "held"}
    assert imp.warnings == ["replace held: 9 of 10"]


def test_a_failed_import_is_never_ended(store: DynamoProgressStore) -> None:
    import_id = processing(store, chunks_total=2)
    assert store.fail(import_id, "too many row errors")

    assert not store.finish(import_id, ImportStatus.COMPLETED, totals(2))
    assert item(store, import_id)["status"] == "failed"


# -- revert ------------------------------------------------------------------------------------------------


def test_a_revert_publishes_its_totals_forward_only_and_ends_once(store: DynamoProgressStore) -> None:
    import_id, at = reverting(store)

    assert store.record_revert(import_id, at, RevertProgress(3, 2, 5, 1, 0, done=False))
    assert not store.record_revert(import_id, at, RevertProgress(3, 1, 2, 0, 0, done=False))  # older
    revert = item(store, import_id)["revert"]
    assert (revert["restored"], revert["deleted"], revert["chunks_done"], revert["status"]) == (5, 1, 2, "running")

    results = concurrently(6, lambda _i: store.record_revert(import_id, at, RevertProgress(3, 3, 7, 2, 1, done=True)))

    assert results.count(True) == 1
    imp = store.get(import_id)
    assert imp is not None and imp.status is ImportStatus.REVERTED and imp.reverted_at is not None
    assert imp.revert is not None and imp.revert["finished_at"] == imp.reverted_at
    assert imp.revert is not None
    assert {k: imp.revert[k] for k in ("restored", "deleted", "conflicts", "requested_at", "status",
                                       "previous_status")} == {
        "restored": 7, "deleted": 2, "conflicts": 1, "requested_at": at, "status": "done",
        "previous_status": "completed"}


def test_a_message_of_another_revert_attempt_changes_nothing(store: DynamoProgressStore) -> None:
    import_id, _at = reverting(store)

    assert not store.record_revert(import_id, "2000-01-01T00:00:00.000Z", RevertProgress(1, 1, 9, 9, 9, done=True))
    assert item(store, import_id)["status"] == "reverting"


def test_a_failed_revert_goes_back_to_the_status_before_it_once(store: DynamoProgressStore) -> None:
    import_id, at = reverting(store)

    results = concurrently(4, lambda _i: store.fail_revert(import_id, at, "a part of it failed 5 times"))

    assert results.count(True) == 1
    found = item(store, import_id)
    assert found["status"] == "completed"
    assert (found["revert"]["status"], found["revert"]["error"]) == ("failed", "a part of it failed 5 times")
    # and a late chunk of that revert cannot end it any more
    assert not store.record_revert(import_id, at, RevertProgress(1, 1, 1, 0, 0, done=True))
    assert item(store, import_id)["status"] == "completed"


# -- a confirmed replace ----------------------------------------------------------------------------------


def held(store: DynamoProgressStore) -> tuple[str, str]:
    import_id = processing(store, chunks_total=1)
    assert store.finish(import_id, ImportStatus.COMPLETED, totals(1),
                        replace={"scope": "all", "max_deactivate_percent": 20, "status": "held"})
    at = utcnow()
    assert requests_of(store).confirm_replace(import_id, confirmed_at=at) is not None
    return import_id, at


def test_a_confirmed_replace_is_done_once(store: DynamoProgressStore) -> None:
    import_id, at = held(store)

    results = concurrently(4, lambda _i: store.finish_replace(import_id, at, 42, ["kept"]))

    assert results.count(True) == 1
    imp = store.get(import_id)
    assert imp is not None and imp.status is ImportStatus.COMPLETED
    assert (imp.replace or {})["status"] == "done" and imp.products_deactivated == 42
    assert imp.warnings == ["kept"]
    assert not store.finish_replace(import_id, at, 43, [])


def test_a_replace_that_could_not_be_carried_out_can_be_confirmed_again(store: DynamoProgressStore) -> None:
    import_id, at = held(store)

    assert store.release_replace(import_id, at, "could not be carried out")

    found = item(store, import_id)
    assert found["replace"]["status"] == "held" and "confirmed_at" not in found["replace"]
    assert found["warnings"] == ["could not be carried out"]
    assert requests_of(store).confirm_replace(import_id, confirmed_at=utcnow()) is not None
