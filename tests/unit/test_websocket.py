"""websocket function: $connect (token hook), subscriptions in the connections table, $disconnect."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from product_importer.models import Import, ImportStatus
from product_importer.progress import ProgressError
from product_importer.realtime.connections import TTL_S, ConnectionStore
from product_importer.realtime.sessions import ConnectPolicy

from functions.websocket.handler import WebSocketPorts, handler
from infra.local.events import LocalContext, websocket_event, websocket_route
from infra.topology import table_definition

TABLE = "connections"
ROUTES = ("$connect", "$disconnect", "$default", "subscribe", "unsubscribe")


@pytest.fixture
def store(monkeypatch: pytest.MonkeyPatch) -> Iterator[ConnectionStore]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():  # moto's in-process DynamoDB: no network
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(**table_definition("connections", TABLE))
        yield ConnectionStore(TABLE, client, clock=lambda: 1_000_000)


@pytest.fixture(autouse=True)
def _metrics_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")


def invoke(ports: WebSocketPorts, route: str, connection_id: str, **kwargs: Any) -> dict[str, Any]:
    return handler(websocket_event(route, connection_id, **kwargs), LocalContext("websocket"), ports=ports)


def send(ports: WebSocketPorts, connection_id: str, message: dict[str, Any] | str) -> dict[str, Any]:
    body = message if isinstance(message, str) else json.dumps(message)
    return invoke(ports, websocket_route(body, ROUTES), connection_id, body=body)


def test_subscribers_are_found_per_import_and_for_star(store: ConnectionStore) -> None:
    # given three connections with different subscriptions
    ports = WebSocketPorts(store, ConnectPolicy())
    for c in ("c1", "c2", "c3"):
        assert invoke(ports, "$connect", c)["statusCode"] == 200
    send(ports, "c1", {"action": "subscribe", "import_id": "imp-1"})
    send(ports, "c2", {"action": "subscribe", "import_id": "*"})
    send(ports, "c3", {"action": "subscribe", "import_id": "imp-2"})
    send(ports, "c3", {"action": "subscribe", "import_id": "imp-1"})
    # then the index answers who watches what
    assert store.subscribers(["imp-1"]) == {"c1", "c3"}
    assert store.subscribers(["imp-1", "*"]) == {"c1", "c2", "c3"}
    assert store.subscribers(["imp-9"]) == set()


def test_unsubscribe_and_disconnect_remove_exactly_that_connection(store: ConnectionStore) -> None:
    ports = WebSocketPorts(store, ConnectPolicy())
    for c in ("c1", "c2"):
        invoke(ports, "$connect", c)
        send(ports, c, {"action": "subscribe", "import_id": "imp-1"})
        send(ports, c, {"action": "subscribe", "import_id": "*"})
    # when c1 unsubscribes from the import and c2 disconnects
    send(ports, "c1", {"action": "unsubscribe", "import_id": "imp-1"})
    invoke(ports, "$disconnect", "c2")
    # then c1 still watches *, c2 has left no item behind
    assert store.subscribers(["imp-1"]) == set()
    assert store.subscribers(["*"]) == {"c1"}
    assert not store.exists("c2")


def test_the_default_route_takes_the_same_body(store: ConnectionStore) -> None:
    ports = WebSocketPorts(store, ConnectPolicy())
    invoke(ports, "$connect", "c1")
    body = json.dumps({"action": "subscribe", "import_id": "imp-7"})
    assert invoke(ports, "$default", "c1", body=body)["statusCode"] == 200
    assert store.subscribers(["imp-7"]) == {"c1"}


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        "{}",
        '{"action": "dance", "import_id": "x"}',
        '{"action": "subscribe"}',
        '{"action": "subscribe", "import_id": "a|b"}',
    ],
)
def test_malformed_messages_are_refused_without_side_effects(store: ConnectionStore, body: str) -> None:
    ports = WebSocketPorts(store, ConnectPolicy())
    invoke(ports, "$connect", "c1")
    reply = invoke(ports, "$default", "c1", body=body)
    assert reply["statusCode"] == 400
    assert store.subscriptions("c1") == set()
    # the route response tells the client why (it got nothing, and could not tell its subscribe failed)
    error = json.loads(reply["body"])
    assert error["type"] == "error" and error["message"]


def test_an_accepted_message_sends_nothing_back(store: ConnectionStore) -> None:
    ports = WebSocketPorts(store, ConnectPolicy())
    invoke(ports, "$connect", "c1")
    assert not invoke(ports, "subscribe", "c1", body='{"action": "subscribe", "import_id": "*"}').get("body")


def an_import(import_id: str, status: str, revert: dict[str, Any] | None = None) -> Import:
    return Import(id=import_id, filename="a.csv", source="upload", status=ImportStatus(status), revert=revert,
                  created_at="2026-01-01T00:00:00Z")


def test_subscribing_to_a_finished_import_sends_its_final_status_back(store: ConnectionStore) -> None:
    """CONTRACT §5 sends the final status once. Found by an audit: a client that subscribed once the import had
    finished (a small file is done within a second of its upload, before the client's subscribe) heard
    nothing, and waited for ever. Such a subscribe now gets the import.updated of its final state."""
    imports = {i.id: i for i in (an_import("done", "completed"), an_import("pre", "previewed"),
                                 an_import("bad", "failed"), an_import("back", "reverted", {"status": "done"}),
                                 an_import("moving", "processing"), an_import("waiting", "pending"),
                                 an_import("undoing", "reverting", {"status": "running"}))}
    ports = WebSocketPorts(store, ConnectPolicy(), imports.get)
    invoke(ports, "$connect", "c1")

    def reply_to(import_id: str) -> dict[str, Any] | None:
        body = send(ports, "c1", {"action": "subscribe", "import_id": import_id}).get("body")
        return json.loads(body) if body else None

    for import_id in ("done", "pre", "bad", "back"):
        assert reply_to(import_id) == {"type": "import.updated", "import": imports[import_id].model_dump(mode="json")}
    # an import still moving sends its next update within 2 s; an unknown one, "*" and unsubscribe nothing
    for import_id in ("moving", "waiting", "undoing", "unknown", "*"):
        assert reply_to(import_id) is None
    assert not send(ports, "c1", {"action": "unsubscribe", "import_id": "done"}).get("body")
    assert store.subscriptions("c1") >= {"pre", "moving", "unknown", "*"}  # subscribed all the same


def test_a_subscribe_stands_when_the_import_cannot_be_read(store: ConnectionStore) -> None:
    def unavailable(import_id: str) -> Import | None:
        raise ProgressError("throttled")

    ports = WebSocketPorts(store, ConnectPolicy(), unavailable)
    invoke(ports, "$connect", "c1")
    reply = send(ports, "c1", {"action": "subscribe", "import_id": "imp-1"})
    assert reply["statusCode"] == 200 and not reply.get("body")
    assert store.subscribers(["imp-1"]) == {"c1"}


def test_items_expire_after_api_gateways_two_hour_limit(store: ConnectionStore) -> None:
    ports = WebSocketPorts(store, ConnectPolicy())
    invoke(ports, "$connect", "c1")
    send(ports, "c1", {"action": "subscribe", "import_id": "imp-1"})
    items = store._db.scan(TableName=TABLE)["Items"]  # test-only look at the raw items
    assert {int(i["expires_at"]["N"]) for i in items} == {1_000_000 + TTL_S}
    assert TTL_S > 2 * 3600


def test_connect_requires_the_token_when_one_is_configured(store: ConnectionStore) -> None:
    ports = WebSocketPorts(store, ConnectPolicy(required_token="s3cret"))
    assert invoke(ports, "$connect", "c1")["statusCode"] == 403
    assert invoke(ports, "$connect", "c2", query={"token": "wrong"})["statusCode"] == 403
    assert invoke(ports, "$connect", "c3", query={"token": "s3cret"})["statusCode"] == 200
    assert not store.exists("c1") and store.exists("c3")


# -- groups (CONTRACT §8): with sign-in, the connect_authorizer's context names the caller's group ----------

def connect_as(ports: WebSocketPorts, connection_id: str, group: str | None) -> dict[str, Any]:
    event = websocket_event("$connect", connection_id)
    if group is not None:
        event["requestContext"]["authorizer"] = {"principalId": "user-1", "sub": "user-1", "group": group}
    return handler(event, LocalContext("websocket"), ports=ports)


@pytest.mark.parametrize("group", ["viewer", "importer", "admin"])
def test_with_sign_in_every_group_connects_and_subscribes(store: ConnectionStore, group: str) -> None:
    ports = WebSocketPorts(store, ConnectPolicy(sign_in=True))
    assert connect_as(ports, "c1", group)["statusCode"] == 200
    assert store.group("c1") == group
    assert send(ports, "c1", {"action": "subscribe", "import_id": "*"})["statusCode"] == 200
    assert store.subscribers(["*"]) == {"c1"}


@pytest.mark.parametrize("group", [None, "", "Admins"], ids=["no-authorizer", "empty", "unknown"])
def test_with_sign_in_a_connection_without_a_group_is_refused(store: ConnectionStore, group: str | None) -> None:
    ports = WebSocketPorts(store, ConnectPolicy(sign_in=True))
    assert connect_as(ports, "c1", group)["statusCode"] == 403
    assert not store.exists("c1")


def test_with_sign_in_subscribe_needs_a_group_recorded_at_connect(store: ConnectionStore) -> None:
    # given a connection item without a group (made before groups existed, or only by an earlier subscribe)
    store.connect("old", source_ip="10.0.0.1")
    ports = WebSocketPorts(store, ConnectPolicy(sign_in=True))
    # when it subscribes, then it is refused with the group it needs, and nothing is recorded
    reply = send(ports, "old", {"action": "subscribe", "import_id": "imp-1"})
    assert reply["statusCode"] == 403 and "viewer" in reply["body"]
    assert store.subscribers(["imp-1"]) == set()
    # and a connection that never connected cannot subscribe either
    assert send(ports, "ghost", {"action": "subscribe", "import_id": "*"})["statusCode"] == 403


def test_without_sign_in_every_connection_is_admin(store: ConnectionStore) -> None:
    ports = WebSocketPorts(store, ConnectPolicy(sign_in=False))
    assert connect_as(ports, "c1", None)["statusCode"] == 200
    assert store.group("c1") == "admin"
