"""What the ``websocket`` function decides: who may connect, and what a client message does.

API Gateway routes a message by its ``action`` (``subscribe`` / ``unsubscribe``, anything else to
``$default``); the body is the same for every route: ``{"action": …, "import_id": "<id>" | "*"}``.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from product_importer.auth.groups import Group, highest_group, needs_message, rank
from product_importer.models import Import, ImportStatus
from product_importer.realtime.connections import ConnectionStore


class Action(StrEnum):
    SUBSCRIBE = "subscribe"
    UNSUBSCRIBE = "unsubscribe"


class SubscriptionRequest(BaseModel):
    action: Action
    import_id: str = Field(min_length=1, max_length=200, pattern=r"^[^|\s]+$")


class BadMessageError(ValueError):
    """The client sent something that is not a subscription request."""


class NotAllowedError(Exception):
    """The connection's caller is not in the group the message needs (CONTRACT §8)."""


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


# Subscribing reads imports: every group may (viewer reads everything but webhooks).
SUBSCRIBE_NEEDS: Group = "viewer"


@dataclass(frozen=True)
class ConnectPolicy:
    """``$connect`` authorisation: a shared token in the query string, when one is configured, and,
    where sign-in is on, the caller's group as the ``connect_authorizer`` found it in the token.

    ``required_token`` empty means open (local mode always is). ``sign_in`` off (local mode, stages
    without sign-in): every connection is ``admin``.
    """

    required_token: str = ""
    sign_in: bool = False

    def allows(self, token: str | None) -> bool:
        if not self.required_token:
            return True
        return token is not None and hmac.compare_digest(token.encode(), self.required_token.encode())

    def group_of(self, authorizer: Mapping[str, Any] | None) -> Group | None:
        """The connection's group: from the authorizer context with sign-in, else ``admin``."""
        if not self.sign_in:
            return "admin"
        group = (authorizer or {}).get("group")
        return highest_group([group]) if isinstance(group, str) else None


def open_connection(
    store: ConnectionStore,
    policy: ConnectPolicy,
    connection_id: str,
    *,
    token: str | None,
    source_ip: str | None = None,
    authorizer: Mapping[str, Any] | None = None,
) -> bool:
    """Record a new connection (with its caller's group) if the policy allows it; False = reject the
    handshake. With sign-in, a caller in no group is refused (the authorizer already denies it)."""
    if not policy.allows(token):
        return False
    group = policy.group_of(authorizer)
    if group is None:
        return False
    store.connect(connection_id, source_ip=source_ip, group=group)
    return True


def close_connection(store: ConnectionStore, connection_id: str) -> None:
    store.forget(connection_id)


def handle_message(
    store: ConnectionStore,
    connection_id: str,
    request: SubscriptionRequest,
    policy: ConnectPolicy | None = None,
) -> None:
    """Subscribe or unsubscribe. With sign-in, subscribing needs the connection's group (recorded at
    ``$connect``) to be ``viewer`` or above; a connection without one is refused."""
    if request.action is Action.SUBSCRIBE:
        if policy is not None and policy.sign_in and rank(store.group(connection_id)) < rank(SUBSCRIBE_NEEDS):
            raise NotAllowedError(needs_message(SUBSCRIBE_NEEDS))
        store.subscribe(connection_id, request.import_id)
    else:
        store.unsubscribe(connection_id, request.import_id)


# The statuses an import rests in until someone acts on it (a revert, an apply makes a new import).
SETTLED = frozenset({ImportStatus.COMPLETED, ImportStatus.FAILED, ImportStatus.PREVIEWED, ImportStatus.REVERTED})


def settled_snapshot(request: SubscriptionRequest, read: Callable[[str], Import | None]) -> Import | None:
    """The import a ``subscribe`` names, when it has already finished: CONTRACT §5 sends its final status
    once, and a client that subscribes after that (a small file is done within a second of its upload) would
    otherwise wait for it for ever. Sent back as the subscribe's reply. Not for an import still moving: its
    next update comes within 2 s, and a snapshot read here could reach the client after a newer one."""
    if request.action is not Action.SUBSCRIBE or request.import_id == "*":
        return None
    imp = read(request.import_id)
    if imp is None or imp.status not in SETTLED or (imp.revert or {}).get("status") == "running":
        return None
    return imp
