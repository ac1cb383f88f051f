"""What the ``websocket`` function decides: who may connect, and what a client message does.

API Gateway routes a message by its ``action`` (``subscribe`` / ``unsubscribe``, anything else to
``$default``); the body is the same for every route: ``{"action": …, "import_id": "<id>" | "*"}``.
"""

from __future__ import annotations

import hmac
import json
from dataclasses import dataclass
from enum import StrEnum

from pydantic import BaseModel, Field, ValidationError

from product_importer.realtime.connections import ConnectionStore


class Action(StrEnum):
    SUBSCRIBE = "subscribe"
    UNSUBSCRIBE = "unsubscribe"


class SubscriptionRequest(BaseModel):
    action: Action
    import_id: str = Field(min_length=1, max_length=200, pattern=r"^[^|\s]+$")


class BadMessageError(ValueError):
    """The client sent something that is not a subscription request."""


def parse_message(body: str | None) -> SubscriptionRequest:
    try:
        data = json.loads(body or "")
    except ValueError as exc:
        raise BadMessageError(
            'a message is JSON: {"action": "subscribe", "import_id": "<id>" | "*"}'
        ) from exc
    try:
        return SubscriptionRequest.model_validate(data)
    except ValidationError as exc:
        raise BadMessageError(f"not a subscription request: {exc.errors()[0]['msg']}") from exc


@dataclass(frozen=True)
class ConnectPolicy:
    """``$connect`` authorisation hook: a shared token in the query string, when one is configured.

    ``required_token`` empty means open (local mode always is).
    """

    required_token: str = ""

    def allows(self, token: str | None) -> bool:
        if not self.required_token:
            return True
        return token is not None and hmac.compare_digest(token.encode(), self.required_token.encode())


def open_connection(
    store: ConnectionStore,
    policy: ConnectPolicy,
    connection_id: str,
    *,
    token: str | None,
    source_ip: str | None = None,
) -> bool:
    """Record a new connection if the policy allows it; False = reject the handshake."""
    if not policy.allows(token):
        return False
    store.connect(connection_id, source_ip=source_ip)
    return True


def close_connection(store: ConnectionStore, connection_id: str) -> None:
    store.forget(connection_id)


def handle_message(store: ConnectionStore, connection_id: str, request: SubscriptionRequest) -> None:
    if request.action is Action.SUBSCRIBE:
        store.subscribe(connection_id, request.import_id)
    else:
        store.unsubscribe(connection_id, request.import_id)
