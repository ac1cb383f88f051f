"""``resume_after_restart``: the webhook work a restart of the local stack lost with the emulator's queues
(CONTRACT §6: deliveries are retried; a restart must not drop them), sent again exactly as owed: to the
webhooks that existed when the event happened, not delivered yet, with the attempts already made."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import psycopg
from product_importer.models import Import, ImportStatus
from product_importer.webhooks.dispatch import MAX_ATTEMPTS, FinishPorts, finish_import, resume_after_restart
from product_importer.webhooks.jobs import ImportFinished, parse_job
from product_importer.webhooks.store import WebhookStore

from tests.unit.fakes import FakeQueue

NOW = datetime.now(UTC)


def ended(import_id: str, status: ImportStatus, at: datetime) -> Import:
    iso = at.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return Import(id=import_id, filename=f"{import_id}.csv", source="upload", status=status,
                  created_at=iso, finished_at=iso)


def hook(store: WebhookStore, conn: psycopg.Connection, name: str, created: datetime,
         events: tuple[str, ...] = ("import.completed", "import.failed")) -> str:
    made = store.create(url=f"https://example.com/{name}", events=list(events), secret=None, webhook_id=name)
    conn.execute("UPDATE webhooks SET created_at = %s WHERE id = %s", (created, made.id))
    conn.commit()
    return made.id


def attempts(store: WebhookStore, webhook_id: str, event_id: str, *oks: bool) -> None:
    for n, ok in enumerate(oks, start=1):
        store.log_delivery(webhook_id=webhook_id, event_id=event_id, event="import.completed", attempt=n, ok=ok,
                           status_code=200 if ok else 503, latency_ms=5, error=None if ok else "503")


def event(store: WebhookStore, conn: psycopg.Connection, imp: Import, at: datetime, *, fanned_out: bool) -> str:
    recorded = store.record_event(imp)
    conn.execute("UPDATE import_events SET created_at = %s, fanned_out_at = %s WHERE id = %s",
                 (at, at if fanned_out else None, recorded.id))
    conn.commit()
    return recorded.id


def test_only_the_owed_deliveries_come_back_with_their_attempts(conn: psycopg.Connection) -> None:
    store = WebhookStore(conn)
    before, after = NOW - timedelta(hours=2), NOW - timedelta(minutes=5)
    failing, delivered, exhausted = (hook(store, conn, n, before) for n in ("failing", "delivered", "exhausted"))
    hook(store, conn, "newer", after)  # created after the event: never owed it
    hook(store, conn, "other-type", before, events=("import.previewed",))
    disabled = hook(store, conn, "disabled", before)
    store.update(disabled, {"enabled": False})
    sent = event(store, conn, ended("imp-1", ImportStatus.COMPLETED, before), NOW - timedelta(hours=1),
                 fanned_out=True)
    attempts(store, failing, sent, False, False)
    attempts(store, delivered, sent, False, True)
    attempts(store, exhausted, sent, *([False] * MAX_ATTEMPTS))
    old = event(store, conn, ended("imp-0", ImportStatus.COMPLETED, NOW - timedelta(days=3)),
                NOW - timedelta(days=3), fanned_out=True)
    attempts(store, failing, old, False)  # owed, but days ago: not sent now
    finished, deliveries = FakeQueue(), FakeQueue()

    counts = resume_after_restart(conn, [], FinishPorts(lambda: conn, finished, deliveries), now=NOW)

    assert counts == {"imports": 0, "events": 0, "deliveries": 1}
    assert deliveries.sent == [{"kind": "delivery", "event_id": sent, "webhook_id": failing, "attempts_before": 2}]
    assert finished.sent == []


def test_an_event_not_fanned_out_goes_to_the_webhooks_of_its_time(conn: psycopg.Connection) -> None:
    store = WebhookStore(conn)
    early = hook(store, conn, "early", NOW - timedelta(hours=2))
    hook(store, conn, "late", NOW - timedelta(minutes=1))
    recorded = event(store, conn, ended("imp-1", ImportStatus.FAILED, NOW - timedelta(minutes=30)),
                     NOW - timedelta(minutes=30), fanned_out=False)
    finished, deliveries = FakeQueue(), FakeQueue()

    counts = resume_after_restart(conn, [], FinishPorts(lambda: conn, finished, deliveries), now=NOW)

    assert counts == {"imports": 0, "events": 1, "deliveries": 0}  # the fan-out's job is not owed twice
    assert deliveries.sent == [{"kind": "delivery", "event_id": recorded, "webhook_id": early, "attempts_before": 0}]
    assert store.get_event(recorded) is not None and store.get_event(recorded).fanned_out  # type: ignore[union-attr]
    again = resume_after_restart(conn, [], FinishPorts(lambda: conn, FakeQueue(), FakeQueue()), now=NOW)
    assert again == {"imports": 0, "events": 0, "deliveries": 1}  # still undelivered: owed, not fanned out again


def test_an_import_that_ended_without_its_event_is_finished_again_for_the_webhooks_of_its_time(
        conn: psycopg.Connection) -> None:
    store = WebhookStore(conn)
    early = hook(store, conn, "early", NOW - timedelta(hours=2))
    hook(store, conn, "late", NOW - timedelta(minutes=1))
    lost = ended("imp-lost", ImportStatus.COMPLETED, NOW - timedelta(minutes=10))
    recorded = ended("imp-recorded", ImportStatus.COMPLETED, NOW - timedelta(minutes=10))
    attempts(store, early, event(store, conn, recorded, NOW - timedelta(minutes=10), fanned_out=True), True)
    ancient = ended("imp-ancient", ImportStatus.COMPLETED, NOW - timedelta(days=2))
    finished, deliveries = FakeQueue(), FakeQueue()
    ports = FinishPorts(lambda: conn, finished, deliveries)

    counts = resume_after_restart(conn, [lost, recorded, ancient], ports, now=NOW)

    assert counts == {"imports": 1, "events": 0, "deliveries": 0}
    (job,) = (parse_job(json.dumps(body)) for body in finished.sent)
    assert isinstance(job, ImportFinished) and job.import_.id == "imp-lost" and job.subscribed_by == lost.finished_at
    # the finisher then fans it out to the webhook that existed when the import ended, not to the later one
    assert finish_import(job, ports) == 1
    assert [m["webhook_id"] for m in deliveries.sent] == [early]


def test_an_import_reverted_since_it_ended_still_gets_the_event_of_its_end(conn: psycopg.Connection) -> None:
    """A stop right after an import completed and its revert began lost ``import.completed`` for good (only
    the ``settled`` status's event was looked for): the partner heard only ``import.reverted``."""
    store = WebhookStore(conn)
    early = hook(store, conn, "early", NOW - timedelta(hours=2), events=("import.completed", "import.reverted"))
    done = ended("imp-reverting", ImportStatus.COMPLETED, NOW - timedelta(minutes=10))
    reverting = done.model_copy(update={"status": ImportStatus.REVERTING, "revert": {
        "requested_at": done.finished_at, "status": "running", "previous_status": "completed"}})
    finished, deliveries = FakeQueue(), FakeQueue()
    ports = FinishPorts(lambda: conn, finished, deliveries)

    counts = resume_after_restart(conn, [reverting], ports, now=NOW)

    assert counts == {"imports": 1, "events": 0, "deliveries": 0}
    (job,) = (parse_job(json.dumps(body)) for body in finished.sent)
    assert isinstance(job, ImportFinished) and job.import_.status == ImportStatus.COMPLETED  # as it was then
    assert job.import_.revert is None and job.subscribed_by == done.finished_at
    assert finish_import(job, ports) == 1
    assert [m["webhook_id"] for m in deliveries.sent] == [early]
    assert resume_after_restart(conn, [reverting], ports, now=NOW)["imports"] == 0  # recorded now: once
