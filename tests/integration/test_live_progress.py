"""Live progress on the local stack: real WebSocket clients, the local gateway, the broadcaster."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from product_importer.realtime.connections import ConnectionStore
from websockets.sync.client import ClientConnection, connect

from tests.integration.stack_fixture import HEADER, PipelineStack, csv_rows, running_pipeline, unique
from tests.pg import EmbeddedDatabases

ROWS = 3_000
CHUNK_ROWS = 250


@pytest.fixture(scope="module")
def pipeline(databases: EmbeddedDatabases, tmp_path_factory: pytest.TempPathFactory) -> Iterator[PipelineStack]:
    with running_pipeline(
        databases,
        Path(tmp_path_factory.mktemp("live")),
        chunk_rows=CHUNK_ROWS,
        visibility_overrides={"chunks": 5, "object-events": 10, "webhooks": 2},
    ) as stack:
        yield stack


def connections(pipeline: PipelineStack) -> ConnectionStore:
    assert pipeline.resources is not None
    return ConnectionStore(pipeline.resources.connections_table, pipeline.dynamodb)


def websocket_url(pipeline: PipelineStack) -> str:
    url: str = pipeline.api.get("/api/config").json()["websocket_url"]
    return url


def subscribe(pipeline: PipelineStack, ws: ClientConnection, import_id: str, *, expected: int = 1) -> None:
    """Send the subscription and wait until the index shows it (the gateway processes it asynchronously)."""
    ws.send(json.dumps({"action": "subscribe", "import_id": import_id}))
    deadline = time.monotonic() + 10
    while len(connections(pipeline).subscribers([import_id])) < expected:
        assert time.monotonic() < deadline, "subscription never showed up"
        time.sleep(0.05)


def upload_created(created: dict[str, Any], data: bytes) -> None:
    upload = created["upload"]
    reply = httpx.post(
        upload["url"], data=upload["fields"], files={"file": ("c.csv", data, "text/csv")}, timeout=60
    )
    assert reply.status_code in (200, 201, 204), reply.text


def messages_until_final(ws: ClientConnection, import_id: str, timeout_s: float = 60) -> list[dict[str, Any]]:
    received: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        message = json.loads(ws.recv(timeout=max(0.1, deadline - time.monotonic())))
        if message["import"]["id"] != import_id:
            continue
        received.append(message)
        if message["import"]["status"] in ("completed", "failed"):
            return received
    raise AssertionError(f"no final status within {timeout_s}s; got {len(received)} messages")


def test_a_subscriber_sees_the_import_move_in_order_and_end_completed_with_exact_counts(
    pipeline: PipelineStack,
) -> None:
    # given a browser subscribed to a new import
    prefix = unique("LIVE")
    data = HEADER + csv_rows(prefix, ROWS, bad={7, 700})
    created = pipeline.create_import("live.csv", size=len(data))
    import_id = created["import"]["id"]
    with connect(websocket_url(pipeline)) as ws:
        subscribe(pipeline, ws, import_id)
        # when the file is uploaded and imported
        upload_created(created, data)
        received = messages_until_final(ws, import_id)
    # then every message is an import.updated, the counts only grow, and the last one is final and exact
    assert {m["type"] for m in received} == {"import.updated"}
    progress = [(m["import"]["chunks_done"], m["import"]["rows_processed"]) for m in received]
    assert progress == sorted(progress)
    final = received[-1]["import"]
    assert final["status"] == "completed"
    assert final["rows_total"] == ROWS and final["rows_processed"] == ROWS
    assert final["rows_imported"] == ROWS - 2 and final["rows_failed"] == 2
    assert final["chunks_done"] == final["chunks_total"] == ROWS // CHUNK_ROWS
    assert len(received) >= 2  # progress was pushed before the end, not just the final state


def test_a_client_that_vanishes_is_cleaned_up_on_the_next_broadcast(pipeline: PipelineStack) -> None:
    # given two clients watching everything, one of which loses its network (no closing handshake)
    store = connections(pipeline)
    url = websocket_url(pipeline)
    with connect(url) as survivor:
        before = store.subscribers(["*"])
        subscribe(pipeline, survivor, "*", expected=len(before) + 1)
        [survivor_id] = store.subscribers(["*"]) - before
        doomed = connect(url)
        subscribe(pipeline, doomed, "*", expected=len(before) + 2)
        [doomed_id] = store.subscribers(["*"]) - before - {survivor_id}
        doomed.socket.shutdown(socket.SHUT_RDWR)  # abrupt: like a killed tab, no close frame
        doomed.socket.close()
        time.sleep(0.3)
        # (the local gateway, like API Gateway, does not promise $disconnect for a dropped link)
        assert store.exists(doomed_id)
        # when an import runs and is broadcast
        import_id = pipeline.upload(HEADER + csv_rows(unique("GONE"), 300), "gone.csv")
        messages_until_final(survivor, import_id)
        # then the dead connection was forgotten (it answered 410), the survivor was not
        deadline = time.monotonic() + 5
        while store.exists(doomed_id):
            assert time.monotonic() < deadline, "the vanished connection is still there"
            time.sleep(0.1)
        assert doomed_id not in store.subscribers(["*"])
        assert store.exists(survivor_id) and survivor_id in store.subscribers(["*"])


def test_fifty_concurrent_subscribers_all_receive_the_final_message(pipeline: PipelineStack) -> None:
    # given 50 browsers subscribed to one import
    prefix = unique("FIFTY")
    data = HEADER + csv_rows(prefix, 1_000)
    created = pipeline.create_import("fifty.csv", size=len(data))
    import_id = created["import"]["id"]
    url = websocket_url(pipeline)
    clients = [connect(url) for _ in range(50)]
    try:
        for ws in clients:
            ws.send(json.dumps({"action": "subscribe", "import_id": import_id}))
        deadline = time.monotonic() + 15
        while len(connections(pipeline).subscribers([import_id])) < 50:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        # when the import runs
        upload_created(created, data)
        finals: list[dict[str, Any] | None] = [None] * 50

        def listen(n: int) -> None:
            finals[n] = messages_until_final(clients[n], import_id)[-1]["import"]

        threads = [threading.Thread(target=listen, args=(n,)) for n in range(50)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
    finally:
        for ws in clients:
            ws.close()
    # then each one got the completed status with the same exact counts
    assert all(f is not None and f["status"] == "completed" and f["rows_imported"] == 1_000 for f in finals)


def test_a_refused_message_is_answered_with_an_error_and_an_accepted_one_with_nothing(pipeline: PipelineStack) -> None:
    """Found by a tester: bad messages got no reply, so a client could not tell its subscribe failed."""
    with connect(websocket_url(pipeline)) as ws:
        for bad in ("not json", '{"action": "subscribe"}', '{"action": "dance", "import_id": "x"}'):
            ws.send(bad)
            error = json.loads(ws.recv(timeout=10))
            assert error["type"] == "error" and error["message"], (bad, error)
        subscribe(pipeline, ws, unique("quiet"))
        with pytest.raises(TimeoutError):
            ws.recv(timeout=0.5)
