"""Webhooks on the local stack: CRUD (the secret returned once), test delivery, a Standard Webhooks-signed
import.completed that the ``standardwebhooks`` library verifies, retries with a log, the cap, and a receiver
that never answers not delaying the search refresh."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import standardwebhooks

from tests.integration.stack_fixture import HEADER, PipelineStack, csv_rows, running_pipeline, unique
from tests.pg import EmbeddedDatabases

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


@pytest.fixture(scope="module")
def pipeline(databases: EmbeddedDatabases, tmp_path_factory: pytest.TempPathFactory) -> Iterator[PipelineStack]:
    with running_pipeline(
        databases,
        Path(tmp_path_factory.mktemp("hooks")),
        chunk_rows=500,
        visibility_overrides={"chunks": 5, "object-events": 10, "webhooks": 2},
        extra_env={"WEBHOOKS_RETRY_BASE_S": "0.5", "WEBHOOKS_TIMEOUT_S": "2", "WEBHOOKS_MAX": "6"},
    ) as stack:
        yield stack


class Receiver:
    """A local HTTP endpoint that records deliveries and answers with the queued status codes."""

    def __init__(self, statuses: list[int] | None = None, hang_s: float = 0) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.statuses = list(statuses or [])
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                receiver.received.append(({k: v for k, v in self.headers.items()}, body))
                if hang_s:
                    time.sleep(hang_s)  # never answers within any attempt's bound
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def events(self, event_type: str) -> list[tuple[dict[str, str], bytes]]:
        return [(h, b) for h, b in self.received if json.loads(b)["type"] == event_type]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def wait(condition: Any, timeout_s: float = 30, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def deliveries(pipeline: PipelineStack, hook_id: str) -> list[dict[str, Any]]:
    reply = pipeline.api.get(f"/api/webhooks/{hook_id}/deliveries", params={"limit": 100})
    assert reply.status_code == 200, reply.text
    items: list[dict[str, Any]] = reply.json()["items"]
    return items


def verify(body: bytes, secret: str, headers: dict[str, str]) -> Any:
    """What a receiver does: the Standard Webhooks library checks the signature and the timestamp."""
    return standardwebhooks.Webhook(secret).verify(body, headers)


def create(pipeline: PipelineStack, **body: Any) -> dict[str, Any]:
    reply = pipeline.api.post("/api/webhooks", json=body)
    assert reply.status_code == 201, reply.text
    created: dict[str, Any] = reply.json()
    return created


def test_the_secret_is_generated_returned_once_and_stored_sealed(pipeline: PipelineStack, receiver: Receiver) -> None:
    # when a webhook is created without a secret
    created = create(pipeline, url=receiver.url, events=["import.failed"])
    hook = {k: v for k, v in created.items() if k != "secret"}
    # then the 201 body carries a generated whsec_ secret, once
    assert created["secret"].startswith("whsec_") and created["has_secret"] is True
    assert pipeline.api.get(f"/api/webhooks/{hook['id']}").json() == hook
    assert all("secret" not in h for h in pipeline.api.get("/api/webhooks").json()["items"])
    # and the database holds it sealed, not in plaintext
    [(stored,)] = pipeline.sql("SELECT secret FROM webhooks WHERE id = %s", (hook["id"],))
    assert stored.startswith("aesgcm:v1:") and created["secret"] not in stored
    # a given secret must be a Standard Webhooks one; a new one can be set
    assert pipeline.api.post("/api/webhooks", json={"url": receiver.url, "secret": "s3cret"}).status_code == 422
    patched = pipeline.api.patch(f"/api/webhooks/{hook['id']}", json={"enabled": False}).json()
    assert patched["enabled"] is False and patched["has_secret"] is True and "secret" not in patched
    assert pipeline.api.delete(f"/api/webhooks/{hook['id']}").status_code == 204


def test_crud_never_returns_the_secret_again(pipeline: PipelineStack, receiver: Receiver) -> None:
    created = create(pipeline, url=receiver.url, events=["import.failed"], secret=SECRET)
    assert created["secret"] == SECRET
    hook = {k: v for k, v in created.items() if k != "secret"}
    assert hook["has_secret"] is True and hook["enabled"] is True
    assert pipeline.api.get(f"/api/webhooks/{hook['id']}").json() == hook
    patched = pipeline.api.patch(f"/api/webhooks/{hook['id']}", json={"enabled": False}).json()
    assert patched["enabled"] is False and patched["has_secret"] is True
    assert hook["id"] in [h["id"] for h in pipeline.api.get("/api/webhooks").json()["items"]]
    assert pipeline.api.post("/api/webhooks", json={"url": "ftp://x.example/"}).status_code == 422
    assert (
        pipeline.api.post("/api/webhooks", json={"url": receiver.url, "events": ["nope"]}).status_code == 422
    )
    assert pipeline.api.delete(f"/api/webhooks/{hook['id']}").status_code == 204
    assert pipeline.api.get(f"/api/webhooks/{hook['id']}").status_code == 404


def test_a_webhook_as_get_gives_it_can_be_patched_back(pipeline: PipelineStack, receiver: Receiver) -> None:
    """Found by an audit: PATCH with the object GET gave (id, has_secret, created_at, updated_at besides the
    fields) was a 422 on each read-only field, where products and mappings accept theirs; an unknown field
    still is one."""
    created = create(pipeline, url=receiver.url, events=["import.failed"])
    hook = pipeline.api.get(f"/api/webhooks/{created['id']}").json()
    try:
        patched = pipeline.api.patch(f"/api/webhooks/{hook['id']}", json={**hook, "events": ["import.completed"]})
        assert patched.status_code == 200, patched.text
        assert patched.json()["events"] == ["import.completed"] and patched.json()["has_secret"] is True
        assert patched.json()["created_at"] == hook["created_at"]
        assert pipeline.api.patch(f"/api/webhooks/{hook['id']}", json={"enable": False}).status_code == 422
    finally:
        pipeline.api.delete(f"/api/webhooks/{hook['id']}")


def test_the_test_endpoint_delivers_synchronously_and_logs_it(
    pipeline: PipelineStack, receiver: Receiver
) -> None:
    hook = create(pipeline, url=receiver.url)
    try:
        result = pipeline.api.post(f"/api/webhooks/{hook['id']}/test").json()
        assert result["ok"] is True and result["status_code"] == 200 and result["error"] is None
        [(headers, body)] = receiver.events("webhook.test")
        assert verify(body, hook["secret"], headers)["type"] == "webhook.test"
        [logged] = deliveries(pipeline, hook["id"])
        assert (logged["event"], logged["attempt"], logged["status_code"]) == ("webhook.test", 1, 200)
    finally:
        pipeline.api.delete(f"/api/webhooks/{hook['id']}")


def test_a_completed_import_is_delivered_once_correctly_signed(
    pipeline: PipelineStack, receiver: Receiver
) -> None:
    # given a webhook with a secret
    hook = create(pipeline, url=receiver.url, secret=SECRET, events=["import.completed"])
    try:
        # when an import completes
        import_id = pipeline.upload(HEADER + csv_rows(unique("HOOK"), 1_200), "hooked.csv")
        assert pipeline.wait_for(import_id)["status"] == "completed"
        wait(
            lambda: any(
                json.loads(b)["import"]["id"] == import_id for _, b in receiver.events("import.completed")
            ),
            what="the import.completed delivery",
        )
        time.sleep(1.5)  # room for a duplicate to show up, if there were one
        # then exactly one delivery arrived, with a signature over the exact body
        mine = [
            (h, b)
            for h, b in receiver.events("import.completed")
            if json.loads(b)["import"]["id"] == import_id
        ]
        assert len(mine) == 1
        headers, body = mine[0]
        event = verify(body, SECRET, headers)
        assert event["import"]["status"] == "completed" and event["import"]["rows_imported"] == 1_200
        assert headers["X-Product-Importer-Event"] == "import.completed"
        assert pipeline.sql("SELECT count(*) FROM import_events WHERE import_id = %s", (import_id,)) == [(1,)]
    finally:
        pipeline.api.delete(f"/api/webhooks/{hook['id']}")


def _import_for(pipeline: PipelineStack, data: bytes, **options: Any) -> dict[str, Any]:
    created = pipeline.api.post("/api/imports", json={"filename": "replace.csv", "size": len(data), **options})
    assert created.status_code == 201, created.text
    upload = created.json()["upload"]
    reply = httpx.post(upload["url"], data=upload["fields"], files={"file": ("replace.csv", data, "text/csv")})
    assert reply.status_code in (200, 201, 204), reply.text
    return pipeline.wait_for(created.json()["import"]["id"])


def test_a_confirmed_held_replace_is_told_as_import_completed_after_the_replace(
    pipeline: PipelineStack, receiver: Receiver
) -> None:
    """CONTRACT §2/§6: an import whose replace was held completes (import.completed, replace held); when the
    replace is confirmed and carried out, the import's receivers never heard of it. They now get
    import.completed again, a new event (webhook-id) with the Import after the replace."""
    partner = unique("rep").lower()
    keep, drop = unique("KEEP"), unique("DROP")
    hook = create(pipeline, url=receiver.url, secret=SECRET, events=["import.completed"])
    try:
        first = _import_for(pipeline, HEADER + csv_rows(keep, 1) + csv_rows(drop, 1), partner=partner)
        assert first["status"] == "completed" and first["products_created"] == 2, first
        held = _import_for(pipeline, HEADER + csv_rows(keep, 1), partner=partner,
                           replace={"scope": "partner", "max_deactivate_percent": 0})
        assert held["replace"]["status"] == "held", held

        confirmed = pipeline.api.post(f"/api/imports/{held['id']}/replace", params={"confirm": "true"})
        assert confirmed.status_code == 202, confirmed.text
        done = pipeline.wait_for(held["id"], until=lambda imp: (imp["replace"] or {}).get("status") == "done")

        def mine() -> list[tuple[dict[str, str], bytes]]:
            return [(h, b) for h, b in receiver.events("import.completed") if json.loads(b)["import"]["id"] == held["id"]]

        wait(lambda: len(mine()) >= 2, what="import.completed after the confirmed replace")
        time.sleep(1.5)  # room for a duplicate to show up, if there were one
        events = [verify(b, SECRET, h) for h, b in mine()]
        assert [e["import"]["replace"]["status"] for e in events] == ["held", "done"]
        assert events[1]["import"]["products_deactivated"] == done["products_deactivated"] == 1
        assert len({h["webhook-id"] for h, _ in mine()}) == 2
    finally:
        pipeline.api.delete(f"/api/webhooks/{hook['id']}")


def test_a_webhook_for_a_partner_hears_only_of_its_drops(pipeline: PipelineStack, receiver: Receiver) -> None:
    """A partner's receiver got every import's event, other partners' file names and errors included."""
    acme, beta = unique("acme").lower(), unique("beta").lower()
    hook = create(pipeline, url=receiver.url, secret=SECRET, events=["import.completed"], partner=acme)
    try:
        assert hook["partner"] == acme
        pipeline.drop(f"incoming/{beta}/{beta}.csv", HEADER + csv_rows(unique("BETA"), 3))
        [theirs] = pipeline.wait_for_import_of(f"{beta}.csv")
        assert pipeline.wait_for(theirs["id"])["status"] == "completed"
        pipeline.drop(f"incoming/{acme}/daily/{acme}.csv", HEADER + csv_rows(unique("ACME"), 3))
        [mine] = pipeline.wait_for_import_of(f"{acme}.csv")
        assert pipeline.wait_for(mine["id"])["status"] == "completed"
        wait(lambda: receiver.events("import.completed"), what="acme's import.completed")
        time.sleep(1.5)  # room for beta's to show up, if it were sent

        received = [verify(b, SECRET, h)["import"] for h, b in receiver.events("import.completed")]
        assert [(i["id"], i["partner"]) for i in received] == [(mine["id"], acme)]
        cleared = pipeline.api.patch(f"/api/webhooks/{hook['id']}", json={"partner": None})
        assert cleared.status_code == 200 and cleared.json()["partner"] is None
        refused = pipeline.api.patch(f"/api/webhooks/{hook['id']}", json={"partner": "a/b"})
        assert refused.status_code == 422 and refused.json()["detail"][0]["loc"] == ["body", "partner"]
    finally:
        pipeline.api.delete(f"/api/webhooks/{hook['id']}")


def test_the_search_index_is_refreshed_before_the_event(pipeline: PipelineStack, receiver: Receiver) -> None:
    hook = create(pipeline, url=receiver.url)
    try:
        prefix = unique("SRCH")
        word = f"zq{prefix.lower()}"
        data = HEADER + "".join(f"{prefix}-{n},Widget {word} {n},1.00,red\n" for n in range(50)).encode()
        import_id = pipeline.upload(data, "search.csv")
        wait(
            lambda: any(
                json.loads(b)["import"]["id"] == import_id for _, b in receiver.events("import.completed")
            ),
            what="the import.completed delivery",
        )
        found = pipeline.api.get("/api/products", params={"q": word, "limit": 100}).json()["items"]
        assert len(found) == 50
    finally:
        pipeline.api.delete(f"/api/webhooks/{hook['id']}")


def test_a_failing_receiver_is_retried_and_every_attempt_is_logged(pipeline: PipelineStack) -> None:
    # given a receiver that fails twice, then recovers
    flaky = Receiver(statuses=[500, 503])
    hook = create(pipeline, url=flaky.url)
    try:
        # when an import completes
        import_id = pipeline.upload(HEADER + csv_rows(unique("RETRY"), 100), "retry.csv")
        wait(lambda: len(deliveries(pipeline, hook["id"])) >= 3, timeout_s=45, what="three attempts")
        # then the log shows each attempt (newest first) and the receiver got three identical signed bodies
        log = deliveries(pipeline, hook["id"])
        assert [(d["attempt"], d["status_code"], d["ok"]) for d in log] == [
            (3, 200, True),
            (2, 503, False),
            (1, 500, False),
        ]
        assert all(d["event"] == "import.completed" for d in log)
        assert log[1]["error"] and "503" in log[1]["error"]
        bodies = {b for _, b in flaky.received}
        assert len(flaky.received) == 3 and len(bodies) == 1
        # every attempt is signed anew (its own timestamp) under the same webhook-id, and verifies
        assert len({h["webhook-id"] for h, _ in flaky.received}) == 1
        for headers, body in flaky.received:
            verify(body, hook["secret"], headers)
        assert json.loads(next(iter(bodies)))["import"]["id"] == import_id
    finally:
        pipeline.api.delete(f"/api/webhooks/{hook['id']}")
        flaky.close()


def test_a_receiver_that_never_answers_does_not_delay_the_search_refresh(pipeline: PipelineStack) -> None:
    # given webhooks whose receiver holds every delivery past the attempt bound (2 s here)
    silent = Receiver(hang_s=30)
    hooks = [create(pipeline, url=silent.url) for _ in range(5)]
    try:
        # and a first import whose deliveries now keep the webhooks worker busy
        pipeline.upload(HEADER + csv_rows(unique("BUSY"), 10), "busy.csv")
        wait(lambda: len(silent.received) >= 1, what="the first stuck delivery")
        # when another import completes while deliveries are stuck
        prefix = unique("FAST")
        word = f"zq{prefix.lower()}"
        data = HEADER + "".join(f"{prefix}-{n},Gadget {word} {n},1.00,red\n" for n in range(20)).encode()
        import_id = pipeline.upload(data, "fast.csv")
        assert pipeline.wait_for(import_id)["status"] == "completed"
        finished = time.monotonic()
        # then its products are found by word search within a second or two, not after the deliveries
        wait(lambda: len(pipeline.api.get("/api/products", params={"q": word}).json()["items"]) == 20,
             timeout_s=10, what="the search refresh")
        assert time.monotonic() - finished < 5
    finally:
        for hook in hooks:
            pipeline.api.delete(f"/api/webhooks/{hook['id']}")
        silent.close()


def test_webhooks_are_capped(pipeline: PipelineStack, receiver: Receiver) -> None:
    existing = len(pipeline.api.get("/api/webhooks", params={"limit": 500}).json()["items"])
    made = [create(pipeline, url=receiver.url) for _ in range(6 - existing)]
    try:
        refused = pipeline.api.post("/api/webhooks", json={"url": receiver.url})
        assert refused.status_code == 409 and "at most 6" in refused.json()["detail"]
    finally:
        for hook in made:
            pipeline.api.delete(f"/api/webhooks/{hook['id']}")
