"""websocket: API Gateway WebSocket routes — ``$connect`` (token hook), ``$disconnect``, and
``subscribe`` / ``unsubscribe`` / ``$default`` carrying ``{"action", "import_id": <id> | "*"}``."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from product_importer.aws import cached_client
from product_importer.models import Import
from product_importer.progress import DynamoProgressStore, ProgressError
from product_importer.realtime.broadcast import encode_update
from product_importer.realtime.connections import ConnectionStore, TooManySubscriptionsError
from product_importer.realtime.sessions import (
    BadMessageError,
    ConnectPolicy,
    NotAllowedError,
    close_connection,
    handle_message,
    open_connection,
    parse_message,
    settled_snapshot,
)
from product_importer.settings import get_settings

logger = Logger(service="websocket")
tracer = Tracer(service="websocket")
metrics = Metrics(service="websocket")


@dataclass
class WebSocketPorts:
    connections: ConnectionStore
    policy: ConnectPolicy
    imports: Callable[[str], Import | None] | None = None  # reads an import (the progress table)


def default_ports() -> WebSocketPorts:
    settings = get_settings()
    token = "" if settings.local_mode else settings.websocket_token
    return WebSocketPorts(
        ConnectionStore(settings.connections_table, cached_client("dynamodb")),
        ConnectPolicy(required_token=token, sign_in=settings.auth_enabled),
        DynamoProgressStore(settings.progress_table, cached_client("dynamodb")).get,
    )


def _reply(status: int, body: str = "") -> dict[str, Any]:
    return {"statusCode": status, "body": body}


def _refused(status: int, reason: str) -> dict[str, Any]:
    """A message refused: the route response sends ``{"type": "error", "message"}`` back to the client
    (CONTRACT §5 names only ``import.updated``; a client that does not know ``error`` ignores it)."""
    return _reply(status, json.dumps({"type": "error", "message": reason}))


@logger.inject_lambda_context(correlation_id_path="requestContext.requestId")
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(
    event: dict[str, Any], context: LambdaContext, ports: WebSocketPorts | None = None
) -> dict[str, Any]:
    active = ports or default_ports()
    request = event.get("requestContext", {})
    route = request.get("routeKey", "$default")
    connection_id = request["connectionId"]
    logger.append_keys(connection_id=connection_id, route=route)

    if route == "$connect":
        # In stages with sign-in, the connect_authorizer admitted this handshake and names the user
        # and the user's group (CONTRACT §8).
        authorizer = request.get("authorizer") or {}
        user = authorizer.get("principalId")
        if user:
            logger.append_keys(user=user)
        token = (event.get("queryStringParameters") or {}).get("token")
        source_ip = request.get("identity", {}).get("sourceIp")
        if not open_connection(
            active.connections, active.policy, connection_id, token=token, source_ip=source_ip,
            authorizer=authorizer,
        ):
            metrics.add_metric(name="ConnectionsRejected", unit=MetricUnit.Count, value=1)
            return _reply(403, "forbidden")
        metrics.add_metric(name="Connections", unit=MetricUnit.Count, value=1)
        return _reply(200)
    if route == "$disconnect":
        close_connection(active.connections, connection_id)
        return _reply(200)
    try:
        message = parse_message(event.get("body"))
        handle_message(active.connections, connection_id, message, active.policy)
    except NotAllowedError as exc:
        logger.info("message refused", extra={"reason": str(exc)})
        return _refused(403, str(exc))
    except (BadMessageError, TooManySubscriptionsError) as exc:
        logger.info("message refused", extra={"reason": str(exc)})
        return _refused(400, str(exc))
    snapshot = _settled(active, message)
    if snapshot is not None:  # already finished: its final status, as the subscribe's reply (CONTRACT §5)
        return _reply(200, encode_update(snapshot).decode())
    return {"statusCode": 200}  # no body: nothing is sent back


def _settled(ports: WebSocketPorts, message: Any) -> Import | None:
    if ports.imports is None:
        return None
    try:
        return settled_snapshot(message, ports.imports)
    except ProgressError as exc:  # the subscription stands; the import's next change is sent as usual
        logger.warning("could not read the subscribed import", extra={"reason": str(exc)})
        return None
