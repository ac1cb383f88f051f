"""The local WebSocket gateway's ``@connections`` as API Gateway's: a message over 128 KB is refused."""

from __future__ import annotations

from typing import Any

from product_importer.realtime.broadcast import MAX_MESSAGE_BYTES as BROADCAST_LIMIT
from starlette.testclient import TestClient

from infra.local.gateway import MAX_MESSAGE_BYTES, LocalGateway


def test_a_post_over_128_kb_is_refused_as_api_gateway_refuses_it() -> None:
    connected: list[str] = []

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        connected.append(event["requestContext"]["connectionId"])
        return {"statusCode": 200}

    gateway = LocalGateway(handler, ("$connect", "$disconnect", "$default"))
    with TestClient(gateway.app) as client, client.websocket_connect("/dev") as socket:
        (connection_id,) = set(connected)
        refused = client.post(f"/dev/@connections/{connection_id}", content=b"x" * (MAX_MESSAGE_BYTES + 1))
        assert refused.status_code == 413
        assert refused.headers["x-amzn-ErrorType"] == "PayloadTooLargeException"
        sent = client.post(f"/dev/@connections/{connection_id}", content=b"y" * MAX_MESSAGE_BYTES)
        assert sent.status_code == 200
        assert socket.receive_text() == "y" * MAX_MESSAGE_BYTES
    assert BROADCAST_LIMIT == MAX_MESSAGE_BYTES  # the broadcaster keeps its messages under the same limit
