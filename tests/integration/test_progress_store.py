"""ProgressStore against DynamoDB (moto, in process): every write conditional, status only forward."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from product_importer.ingest.plan import MAX_IMPORT_WARNINGS
from product_importer.models import Import, ImportStatus, ImportTotals
from product_importer.ports import ProgressStore
from product_importer.progress import CursorError, DynamoProgressStore

from infra.topology import table_definition

TABLE = "progress-test"


class AtomicCalls:
    """DynamoDB applies each conditional write atomically; moto in process does not (two threads can
    both pass a condition before either writes). Each call here holds a lock, so racing callers still
    land in any order, as against DynamoDB, but every write is all or nothing."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._client, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                return method(*args, **kwargs)

        return call


@pytest.fixture
def store(monkeypatch: pytest.MonkeyPatch) -> Iterator[ProgressStore]:
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_LOCAL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(**table_definition("progress", TABLE))
        yield DynamoProgressStore(TABLE, AtomicCalls(client))


def new_import(
    store: ProgressStore, *, created_at: str = "2026-11-28T10:00:00.000Z", import_no: int = 1
) -> str:
    imp = Import(
        id=uuid.uuid4().hex,
        filename="catalog.csv",
        source="upload",
        status=ImportStatus.PENDING,
        created_at=created_at,
    )
    assert store.create(imp, import_no=import_no, bucket="b", key=f"uploads/{imp.id}.csv")
    return imp.id


def processing(store: ProgressStore, *, chunks_total: int | None = None) -> str:
    import_id = new_import(store)
    assert store.start(import_id, version_id="v1", etag="e1")
    if chunks_total is not None:
        assert store.set_totals(import_id, chunks_total=chunks_total, rows_total=chunks_total * 10)
    return import_id


def totals(chunks_done: int, rows: int | None = None) -> ImportTotals:
    rows = chunks_done * 10 if rows is None else rows
    return ImportTotals(chunks_done, rows, rows - 1, 1, rows - 1, 0, 0)


def status(store: ProgressStore, import_id: str) -> str:
    imp = store.get(import_id)
    assert imp is not None
    return imp.status.value


def concurrently(count: int, call: Any) -> list[Any]:
    """Run ``call(i)`` in ``count`` threads released together; their results in order."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(i: int) -> None:
        barrier.wait()
        results[i] = call(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_an_import_is_created_once_and_reads_back_as_the_contract_object(store: ProgressStore) -> None:
    import_id = new_import(store, import_no=42)
    again = Import(
        id=import_id,
        filename="other.csv",
        source="s3-drop",
        status=ImportStatus.PENDING,
        created_at="2026-11-28T11:00:00.000Z",
    )

    assert store.create(again, import_no=43, bucket="b", key="k") is False
    imp = store.get(import_id)
    item = store.get_item(import_id)
    assert imp is not None and item is not None
    assert (imp.filename, imp.source, imp.status, imp.rows_total, imp.chunks_total, imp.chunks_done) == (
        "catalog.csv",
        "upload",
        ImportStatus.PENDING,
        None,
        None,
        0,
    )
    assert item["import_no"] == 42 and isinstance(item["import_no"], int)
    assert store.get("nope") is None


def test_start_moves_pending_to_processing_and_only_a_retry_of_the_same_object_may_repeat_it(
    store: ProgressStore,
) -> None:
    import_id = new_import(store)

    assert store.start(import_id, version_id="v1", etag="e1") is True
    assert store.start(import_id, version_id="v2", etag="e2") is False  # a new version over a started upload
    assert store.start(import_id, version_id="v1", etag="e1") is True  # a retried splitter, totals unknown
    assert store.set_totals(import_id, chunks_total=3, rows_total=30)
    assert store.start(import_id, version_id="v1", etag="e1") is False  # a duplicate event after the split
    assert store.start("unknown", version_id="v1", etag="e1") is False
    item = store.get_item(import_id)
    assert item is not None and (item["status"], item["object_version"]) == ("processing", "v1")
    assert item["started_at"]


def test_status_only_moves_forward(store: ProgressStore) -> None:
    completed = processing(store, chunks_total=1)
    assert store.record_totals(completed, totals(1))
    assert store.complete_if_done(completed)
    failed = processing(store, chunks_total=5)
    assert store.fail(failed, "poison chunk")

    for import_id, final in ((completed, "completed"), (failed, "failed")):
        assert store.start(import_id, version_id="v1", etag="e1") is False
        assert store.set_totals(import_id, chunks_total=9, rows_total=90) is False
        assert store.record_totals(import_id, totals(9)) is False
        assert store.complete_if_done(import_id) is False
        assert store.fail(import_id, "late") is False
        assert status(store, import_id) == final
    imp = store.get(completed)
    assert imp is not None and (imp.chunks_total, imp.chunks_done, imp.error) == (1, 1, None)


def test_a_running_replace_shows_its_count_forward_only_and_only_while_processing(store: ProgressStore) -> None:
    import_id = processing(store, chunks_total=1)
    assert store.record_totals(import_id, totals(1))

    assert store.record_deactivated(import_id, 5000)
    assert store.record_deactivated(import_id, 3000) is False  # a late step's count never moves it back
    assert store.record_deactivated(import_id, 10000)
    imp = store.get(import_id)
    assert imp is not None and (imp.products_deactivated, imp.rows_processed) == (10000, 10)
    assert store.complete_if_done(import_id)
    assert store.record_deactivated(import_id, 20000) is False


def test_expire_ends_only_a_pending_import_and_only_once(store: ProgressStore) -> None:
    pending = new_import(store)
    started = processing(store)  # its file arrived at the last second: the upload wins

    assert store.expire(started, "upload expired") is False
    assert status(store, started) == "processing"
    assert store.expire(pending, "upload expired: no file came within 24 h") is True
    assert store.expire(pending, "again") is False
    assert store.expire("unknown", "upload expired") is False

    imp = store.get(pending)
    assert imp is not None and imp.finished_at
    assert (imp.status, imp.error) == (ImportStatus.FAILED, "upload expired: no file came within 24 h")
    assert store.start(pending, version_id="v1", etag="e1") is False  # a file arriving after expiry starts nothing


def test_a_warning_is_added_once_and_at_most_the_cap_are_kept(store: ProgressStore) -> None:
    import_id = processing(store)

    assert store.add_warning(import_id, "rows 3, 9 are not valid UTF-8") is True
    assert store.add_warning(import_id, "rows 3, 9 are not valid UTF-8") is False  # a replayed chunk
    for i in range(MAX_IMPORT_WARNINGS + 5):
        store.add_warning(import_id, f"warning {i}")
    assert store.add_warning("unknown", "a warning") is False

    imp = store.get(import_id)
    assert imp is not None
    assert imp.warnings[0] == "rows 3, 9 are not valid UTF-8"
    assert imp.warnings == ["rows 3, 9 are not valid UTF-8", *(f"warning {i}" for i in range(MAX_IMPORT_WARNINGS - 1))]


def test_a_pending_import_cannot_complete_and_processing_completes_only_when_every_chunk_is_done(
    store: ProgressStore,
) -> None:
    pending = new_import(store)
    assert store.complete_if_done(pending) is False
    running = processing(store)  # chunks_total not known yet
    assert store.record_totals(running, totals(2))
    assert store.complete_if_done(running) is False
    assert store.set_totals(running, chunks_total=3, rows_total=30)
    assert store.complete_if_done(running) is False
    assert store.record_totals(running, totals(3))

    assert store.complete_if_done(running) is True
    imp = store.get(running)
    assert imp is not None and imp.status is ImportStatus.COMPLETED and imp.finished_at


def test_a_header_only_import_completes_with_zero_chunks(store: ProgressStore) -> None:
    import_id = processing(store, chunks_total=0)

    assert store.complete_if_done(import_id) is True


def test_record_totals_only_grows(store: ProgressStore) -> None:
    import_id = processing(store, chunks_total=10)

    assert store.record_totals(import_id, totals(3)) is True
    assert store.record_totals(import_id, totals(2)) is False  # an older snapshot, arriving late
    assert store.record_totals(import_id, totals(3, rows=999)) is False  # the same chunk count again
    imp = store.get(import_id)
    assert imp is not None and (imp.chunks_done, imp.rows_processed, imp.rows_imported) == (3, 30, 29)
    assert store.record_totals(import_id, totals(4)) is True
    imp = store.get(import_id)
    assert imp is not None and (imp.chunks_done, imp.rows_processed) == (4, 40)


def test_concurrent_snapshots_leave_the_newest(store: ProgressStore) -> None:
    import_id = processing(store, chunks_total=20)

    concurrently(20, lambda i: store.record_totals(import_id, totals(i + 1)))

    imp = store.get(import_id)
    assert imp is not None and (imp.chunks_done, imp.rows_processed) == (20, 200)


@pytest.mark.parametrize("attempt", range(5))
def test_complete_if_done_succeeds_exactly_once_under_concurrent_callers(
    store: ProgressStore, attempt: int
) -> None:
    import_id = processing(store, chunks_total=4)
    assert store.record_totals(import_id, totals(4))

    results = concurrently(12, lambda _i: store.complete_if_done(import_id))

    assert results.count(True) == 1
    assert status(store, import_id) == "completed"


def test_fail_happens_once_and_keeps_the_first_reason(store: ProgressStore) -> None:
    import_id = processing(store, chunks_total=4)

    results = concurrently(8, lambda i: store.fail(import_id, f"reason {i}"))

    assert results.count(True) == 1
    imp = store.get(import_id)
    assert imp is not None and imp.status is ImportStatus.FAILED
    assert imp.error == f"reason {results.index(True)}"
    assert store.fail(import_id, "later") is False
    assert store.complete_if_done(import_id) is False


def test_a_long_reason_is_truncated_not_refused(store: ProgressStore) -> None:
    import_id = processing(store)

    assert store.fail(import_id, "x" * 50_000)

    imp = store.get(import_id)
    assert imp is not None and imp.error is not None and len(imp.error) == 2000


def test_list_is_newest_first_and_pages_with_an_opaque_cursor(store: ProgressStore) -> None:
    ids = [new_import(store, created_at=f"2026-11-28T10:00:0{i}.000Z") for i in range(5)]

    page_1, cursor_1 = store.list(limit=2)
    page_2, cursor_2 = store.list(limit=2, cursor=cursor_1)
    page_3, cursor_3 = store.list(limit=2, cursor=cursor_2)

    assert [i.id for i in page_1 + page_2 + page_3] == ids[::-1]
    assert cursor_1 and cursor_2
    assert cursor_3 is None or store.list(limit=2, cursor=cursor_3) == ([], None)
    with pytest.raises(CursorError):
        store.list(cursor="not-a-cursor!")


def test_completion_on_committed_totals_repairs_a_lost_progress_snapshot(store: ProgressStore) -> None:
    # Given 3 chunks committed in PostgreSQL but only the first snapshot reached the store
    import_id = processing(store, chunks_total=3)
    store.record_totals(import_id, totals(1))

    # Then completing on the stale store alone is refused, on the committed totals it happens once
    assert not store.complete_if_done(import_id)
    assert store.complete_if_done(import_id, totals(3))
    assert not store.complete_if_done(import_id, totals(3))

    imp = store.get(import_id)
    assert imp is not None and imp.status == ImportStatus.COMPLETED
    assert (imp.chunks_done, imp.rows_processed) == (3, totals(3).rows_processed)


def test_completion_on_committed_totals_waits_for_every_chunk(store: ProgressStore) -> None:
    import_id = processing(store, chunks_total=3)

    assert not store.complete_if_done(import_id, totals(2))
    assert status(store, import_id) == "processing"
