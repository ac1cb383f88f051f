"""The local stack across a restart (``make up`` after a stop or a crash): the emulator keeps no file and
no queued message, so an import that was processing cannot go on; it must not stay ``processing`` for
ever (CONTRACT §2). Found by a chaos test: it did, and could be neither reverted nor discarded."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import psycopg
import pytest
from product_importer.models import Import, ImportStatus, utcnow
from product_importer.progress import DynamoProgressStore
from product_importer.webhooks.store import WebhookStore

from infra.local.history import STRANDED
from infra.local.stack import LocalConfig, LocalStack, free_port
from tests.integration.stack_fixture import forget_process_caches
from tests.pg import EmbeddedDatabases


@contextmanager
def local_stack(state_dir: Path, database_url: str) -> Iterator[LocalStack]:
    saved_env = dict(os.environ)
    forget_process_caches()
    stack = LocalStack(LocalConfig(state_dir=state_dir, api_port=free_port(), aws_port=free_port(),
                                   ws_port=free_port(), static_dir=None, database_url=database_url))
    try:
        yield stack.start()
    finally:
        stack.stop()
        forget_process_caches()
        os.environ.clear()
        os.environ.update(saved_env)


def test_an_import_processing_when_the_stack_stopped_ends_failed_after_the_restart(
        databases: EmbeddedDatabases, tmp_path: Path) -> None:
    """... and its webhook subscribers hear of it (import.failed): the failure at the restart was written
    before the stream's subscribers started, so no event was ever sent for it."""
    from tests.integration.test_webhooks import Receiver

    receiver = Receiver()
    database_url = databases.create()
    try:
        with local_stack(tmp_path, database_url) as stack:
            import httpx
            from product_importer import runtime

            hook = httpx.post(f"{stack.config.api_url}/api/webhooks",
                              json={"url": receiver.url, "events": ["import.failed"]})
            assert hook.status_code == 201, hook.text
            # an earlier import's event failed twice; its next attempt waited on the queue the stop loses
            with psycopg.connect(database_url) as conn:
                store = WebhookStore(conn)
                owed = store.record_event(Import(id="imp-owed", filename="a.csv", source="upload",
                                                 status=ImportStatus.FAILED, created_at=utcnow(),
                                                 finished_at=utcnow()))
                store.mark_fanned_out(owed.id)
                for attempt in (1, 2):
                    store.log_delivery(webhook_id=hook.json()["id"], event_id=owed.id, event=owed.type,
                                       attempt=attempt, ok=False, status_code=503, latency_ms=3, error="503")
            created = httpx.post(f"{stack.config.api_url}/api/imports", json={"filename": "big.csv"}).json()["import"]
            assert stack.resources is not None
            progress = DynamoProgressStore(stack.resources.progress_table, stack._client("dynamodb"))
            # as the splitter leaves it: started, some chunks committed, the rest queued (then lost)
            assert progress.start(created["id"], version_id=None, etag="e")
            item = progress.get_item(created["id"])
            assert item is not None and item["status"] == "processing"
            runtime.chunk_ledger().register_import(created["id"], import_no=int(item["import_no"]))

        with local_stack(tmp_path, database_url) as stack:
            import httpx

            after = httpx.get(f"{stack.config.api_url}/api/imports/{created['id']}").json()
            assert (after["status"], after["error"]) == ("failed", STRANDED)
            with psycopg.connect(database_url) as conn:
                row = conn.execute("SELECT status FROM import_registry WHERE import_id = %s",
                                   (created["id"],)).fetchone()
            assert row == ("failed",)
            # and it can be reverted now (a failed import can), where it answered 409 for ever
            assert httpx.post(f"{stack.config.api_url}/api/imports/{created['id']}/revert").status_code == 202
            deadline = time.monotonic() + 30
            while not receiver.events("import.failed"):
                assert time.monotonic() < deadline, "no import.failed webhook for the stranded import"
                time.sleep(0.2)
            wait_s = time.monotonic() + 30
            while len(receiver.events("import.failed")) < 2:
                assert time.monotonic() < wait_s, "the delivery owed before the stop was not resumed"
                time.sleep(0.2)
            assert sorted(json.loads(body)["import"]["id"] for _, body in receiver.events("import.failed")) == sorted(
                [created["id"], "imp-owed"])
            log = httpx.get(f"{stack.config.api_url}/api/webhooks/{hook.json()['id']}/deliveries").json()["items"]
            assert [(d["attempt"], d["ok"]) for d in log if d["event_id"] == owed.id] == [
                (3, True), (2, False), (1, False)]  # the resumed attempt counts on from the ones made
    finally:
        receiver.close()
        databases.drop(database_url)


def test_the_history_is_saved_while_the_stack_runs(databases: EmbeddedDatabases, tmp_path: Path) -> None:
    """A stack killed without a clean stop (kill -9) lost every import it had ever shown."""
    database_url = databases.create()
    try:
        with local_stack(tmp_path, database_url) as stack:
            import time

            import httpx

            created = httpx.post(f"{stack.config.api_url}/api/imports", json={"filename": "a.csv"},
                                 timeout=60).json()["import"]
            snapshot = tmp_path / "progress-table.json"
            deadline = time.monotonic() + 30
            while created["id"] not in (snapshot.read_text() if snapshot.exists() else ""):
                assert time.monotonic() < deadline, "the history was not saved while the stack ran"
                time.sleep(0.5)
    finally:
        databases.drop(database_url)


def test_a_stack_killed_between_two_saves_keeps_its_imports_and_carries_on_their_reverts_and_replaces(
        databases: EmbeddedDatabases, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """kill -9 of the stack (no save at the stop, none since the import began): the import was gone from the
    API while its products stayed; a revert running at the stop stayed ``reverting`` for ever (or, lost with
    the import's item, refused for ever as 'being reverted' by PostgreSQL); a confirmed replace stayed
    confirmed and never carried out. Each one's messages were on the emulator's queues, lost at the stop."""
    from product_importer import runtime
    from product_importer.db.revert import plan_revert
    from product_importer.imports import service
    from product_importer.imports.jobs import ImportJobs

    from infra.local.history import STRANDED_APPLY, STRANDED_REPLACE, ProgressHistory
    from tests.integration.stack_fixture import HEADER, PipelineStack, csv_rows

    class Lost:  # the emulator's queues, as a kill leaves them: what was sent is gone
        def send_all(self, bodies: object) -> int:
            return 0

    lost = ImportJobs(splits=Lost(), chunks=Lost())
    monkeypatch.setattr(ProgressHistory, "save", lambda self: None)  # killed: no save, neither timed nor at the stop
    database_url = databases.create()
    try:
        with local_stack(tmp_path, database_url) as stack:
            pipe = PipelineStack(stack, database_url)
            reverting = pipe.wait_for(pipe.upload(HEADER + csv_rows("RA", 30)))["id"]
            forgotten = pipe.wait_for(pipe.upload(HEADER + csv_rows("RC", 5)))["id"]
            pipe.wait_for(pipe.upload(HEADER + csv_rows("RB", 10)))
            created = pipe.api.post("/api/imports", json={
                "filename": "only-one.csv", "replace": {"scope": "all", "max_deactivate_percent": 0}}).json()
            reply = httpx.post(created["upload"]["url"], data=created["upload"]["fields"],
                               files={"file": ("only-one.csv", HEADER + csv_rows("RB", 1), "text/csv")})
            assert reply.status_code in (200, 201, 204), reply.text
            held = pipe.wait_for(created["import"]["id"])
            assert held["replace"]["status"] == "held", held
            with psycopg.connect(database_url) as conn:
                service.request_revert(conn, runtime.import_requests(), lost, reverting)
                plan_revert(conn, forgotten)  # PostgreSQL's half of a revert whose item change the kill lost
            service.confirm_replace(runtime.import_requests(), lost, held["id"])
            created = pipe.api.post("/api/imports", json={"filename": "preview.csv", "mode": "preview"}).json()
            reply = httpx.post(created["upload"]["url"], data=created["upload"]["fields"],
                               files={"file": ("preview.csv", HEADER + csv_rows("RD", 3), "text/csv")})
            assert reply.status_code in (200, 201, 204), reply.text
            settled = pipe.wait_for(created["import"]["id"], until=lambda imp: imp["status"] not in ("pending", "processing"))
            assert settled["status"] == "previewed"
            with psycopg.connect(database_url) as conn:
                applied = service.apply_preview(conn, runtime.import_requests(), lost, created["import"]["id"]).id
            journal = tmp_path / "progress-journal.jsonl"
            deadline = time.monotonic() + 10
            while applied not in (journal.read_text() if journal.exists() else ""):  # the last change
                assert time.monotonic() < deadline, "the stream's changes were not journaled"
                time.sleep(0.1)
        assert not (tmp_path / "progress-table.json").exists()

        with local_stack(tmp_path, database_url) as stack:
            pipe = PipelineStack(stack, database_url)
            done = pipe.wait_for(reverting, until=lambda imp: imp["status"] != "reverting")
            assert (done["status"], done["revert"]["status"], done["revert"]["deleted"]) == ("reverted", "done", 30)
            live = "SELECT count(*) FROM products WHERE sku_key LIKE %s AND NOT deleted"
            assert pipe.sql(live, ("ra-%",)) == [(0,)]
            assert pipe.get_import(forgotten)["status"] == "completed"
            assert pipe.api.post(f"/api/imports/{forgotten}/revert").status_code == 202  # not 409 for ever
            assert pipe.wait_for(forgotten, until=lambda imp: imp["status"] == "reverted")["revert"]["deleted"] == 5 and pipe.sql(live, ("rc-%",)) == [(0,)]
            again = pipe.get_import(held["id"])
            assert "confirmed_at" not in again["replace"] and STRANDED_REPLACE in again["warnings"]
            assert pipe.api.post(f"/api/imports/{held['id']}/replace", params={"confirm": "true"}).status_code == 202
            replaced = pipe.wait_for(held["id"], until=lambda imp: imp["replace"]["status"] == "done")
            assert replaced["products_deactivated"] == 9
            gone = pipe.get_import(applied)  # its split request and its file were lost: failed now, not in 24 h
            assert (gone["status"], gone["error"]) == ("failed", STRANDED_APPLY)
    finally:
        databases.drop(database_url)
