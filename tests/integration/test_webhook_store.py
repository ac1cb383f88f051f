"""The webhook store in PostgreSQL: one event per (import, event type), the cap, sealing old secrets."""

from __future__ import annotations

import json
import threading

import psycopg
import pytest
from product_importer.models import Import, ImportStatus
from product_importer.webhooks.dispatch import seal_plaintext_secrets
from product_importer.webhooks.jobs import ImportFinished
from product_importer.webhooks.secrets import LocalSecretBox
from product_importer.webhooks.store import TooManyWebhooksError, WebhookStore


def an_import(status: ImportStatus, import_id: str = "imp-1") -> Import:
    return Import(id=import_id, filename="f.csv", source="upload", status=status, created_at="2026-01-01T00:00:00Z")


def test_an_import_has_one_event_per_type(conn: psycopg.Connection) -> None:
    store = WebhookStore(conn)
    # when the same import completes (twice: a repeated job) and is later reverted
    completed = store.record_event(an_import(ImportStatus.COMPLETED))
    again = store.record_event(an_import(ImportStatus.COMPLETED))
    reverted = store.record_event(an_import(ImportStatus.REVERTED))
    # then it has exactly two events, one of each type, and the repeat found the first
    assert again.id == completed.id
    assert (completed.type, reverted.type) == ("import.completed", "import.reverted")
    assert reverted.id != completed.id
    rows = conn.execute("SELECT type FROM import_events WHERE import_id = 'imp-1' ORDER BY type").fetchall()
    assert rows == [("import.completed",), ("import.reverted",)]
    # and a preview makes its own event
    assert store.record_event(an_import(ImportStatus.PREVIEWED, "imp-2")).type == "import.previewed"
    with pytest.raises(ValueError):
        store.record_event(an_import(ImportStatus.PROCESSING, "imp-3"))


def test_the_cap_holds_under_concurrent_creates(database_url: str) -> None:
    errors: list[Exception] = []

    def create() -> None:
        with psycopg.connect(database_url) as c:
            try:
                WebhookStore(c).create(url="https://h.example/", events=["import.completed"], secret=None,
                                       max_webhooks=3)
            except TooManyWebhooksError as exc:
                errors.append(exc)

    threads = [threading.Thread(target=create) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with psycopg.connect(database_url) as c:
        assert c.execute("SELECT count(*) FROM webhooks").fetchone() == (3,)
    assert len(errors) == 5


def test_secrets_saved_before_sealing_are_sealed(conn: psycopg.Connection) -> None:
    conn.execute("INSERT INTO webhooks (id, url, events, secret) VALUES ('old', 'https://h.example/',"
                 " ARRAY['import.completed'], 'legacy plaintext')")
    conn.commit()
    box = LocalSecretBox(b"k" * 32)
    assert seal_plaintext_secrets(WebhookStore(conn), box) == 1
    (stored,) = conn.execute("SELECT secret FROM webhooks WHERE id = 'old'").fetchone() or ("",)
    assert stored.startswith("aesgcm:v1:") and box.open(stored, webhook_id="old") == "legacy plaintext"
    assert seal_plaintext_secrets(WebhookStore(conn), box) == 0


def test_pages_follow_the_cursor_and_an_unknown_cursor_is_refused(conn: psycopg.Connection) -> None:
    from product_importer.progress import CursorError

    store = WebhookStore(conn)
    made = [store.create(url=f"https://h{n}.example/", events=["import.completed"], secret=None, max_webhooks=10)
            for n in range(3)]
    first, after = store.list(limit=2, after=None)
    second, end = store.list(limit=2, after=after)
    assert [h.id for h in first + second] == [h.id for h in made] and end is None
    with pytest.raises(CursorError):  # it answered an empty page with 200
        store.list(limit=2, after="bogus!!")


class _Queue:
    def __init__(self) -> None:
        self.sent: list[dict] = []

    def send_all(self, messages: object) -> None:
        self.sent += list(messages)  # type: ignore[call-overload]


def test_a_partners_webhook_hears_only_of_that_partners_imports(conn: psycopg.Connection) -> None:
    """Every webhook heard of every import: a receiver an admin registered for partner acme got beta's
    file names, counts and errors. A webhook with ``partner`` gets only that partner's imports' events,
    when an import finishes and when owed deliveries are queued again after a restart."""
    from product_importer.webhooks.dispatch import FinishPorts, finish_import, resume_after_restart
    from product_importer.webhooks.jobs import finished_job, parse_job

    store = WebhookStore(conn)
    everyone = store.create(url="https://all.example/", events=["import.completed"], secret=None)
    acme = store.create(url="https://acme.example/", events=["import.completed"], secret=None, partner="acme")
    deliveries = _Queue()
    ports = FinishPorts(connection=lambda: conn, finished=_Queue(), deliveries=deliveries)

    heard = {}
    for import_id, partner in (("from-acme", "acme"), ("from-beta", "beta"), ("an-upload", None)):
        imp = an_import(ImportStatus.COMPLETED, import_id).model_copy(update={"partner": partner})
        job = parse_job(json.dumps(finished_job(imp)))
        assert isinstance(job, ImportFinished)
        finish_import(job, ports)
        heard[import_id] = sorted(job["webhook_id"] for job in deliveries.sent)
        deliveries.sent.clear()

    assert heard == {"from-acme": sorted([everyone.id, acme.id]), "from-beta": [everyone.id],
                     "an-upload": [everyone.id]}
    assert acme.public()["partner"] == "acme" and everyone.public()["partner"] is None
    resume_after_restart(conn, [], ports)  # every delivery above is owed (none was attempted)
    owed = sorted((store.get_event(job["event_id"]).import_id, job["webhook_id"])  # type: ignore[union-attr]
                  for job in deliveries.sent)
    assert owed == sorted([("an-upload", everyone.id), ("from-acme", everyone.id), ("from-acme", acme.id),
                           ("from-beta", everyone.id)])


def test_a_delivery_owed_before_the_webhook_was_given_a_partner_is_not_sent_to_it(conn: psycopg.Connection) -> None:
    """Jobs fanned out before an admin gave a webhook its partner still went out: each attempt checks."""
    import httpx
    from product_importer.webhooks.delivery import Network
    from product_importer.webhooks.dispatch import DeliveryPorts, deliver
    from product_importer.webhooks.jobs import DeliveryJob

    posted: list[bytes] = []
    network = Network(transport=httpx.MockTransport(lambda r: posted.append(r.content) or httpx.Response(200)),
                      resolver=lambda host, port: ["93.184.216.34"])
    ports = DeliveryPorts(connection=lambda: conn, box=LocalSecretBox(b"k" * 32), timeout_s=5, allow_private=True,
                          network=network)
    store = WebhookStore(conn)
    hook = store.create(url="https://h.example/", events=["import.completed"], secret=None)
    beta = store.record_event(an_import(ImportStatus.COMPLETED, "from-beta").model_copy(update={"partner": "beta"}))
    acme = store.record_event(an_import(ImportStatus.COMPLETED, "from-acme").model_copy(update={"partner": "acme"}))
    store.update(hook.id, {"partner": "acme"})  # after both were fanned out to it

    skipped = deliver(DeliveryJob(event_id=beta.id, webhook_id=hook.id), 1, ports)
    sent = deliver(DeliveryJob(event_id=acme.id, webhook_id=hook.id), 1, ports)

    assert skipped.outcome is None and not skipped.retry
    assert sent.outcome is not None and sent.outcome.ok
    assert [json.loads(body)["import"]["id"] for body in posted] == ["from-acme"]
