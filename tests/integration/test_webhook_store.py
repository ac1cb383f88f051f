"""The webhook store in PostgreSQL: one event per (import, event type), the cap, sealing old secrets."""

from __future__ import annotations

import threading

import psycopg
import pytest
from product_importer.models import Import, ImportStatus
from product_importer.webhooks.dispatch import seal_plaintext_secrets
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
