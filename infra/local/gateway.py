"""The local API Gateway WebSocket API: one port serving both the WebSocket and ``@connections``.

- WebSocket (any path): every connect, message and disconnect invokes the very same ``websocket``
  handler with an API Gateway-shaped event (``infra.local.events.websocket_event``). A ``$connect``
  answering anything but 200 refuses the handshake (HTTP 403). Messages are routed like
  ``route_selection_expression = $request.body.action``.
- ``@connections/{id}`` (HTTP, any signature accepted): ``POST`` sends the body to the client, ``GET``
  describes the connection, ``DELETE`` closes it; an unknown or closed connection answers 410
  ``GoneException``, as API Gateway does — the broadcaster's boto3 client is pointed here.

Like API Gateway, whose ``$disconnect`` is best-effort, a connection that drops without a closing
handshake (a killed tab, a lost network) is *not* reported with ``$disconnect``: it stays in the
connections table until the next broadcast to it answers 410 (or its TTL passes). This keeps the
Gone path exercised locally, not just in the cloud.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import os
import threading
import time
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from infra.local.events import LocalContext, websocket_event, websocket_route

logger = logging.getLogger("gateway")


def _lost_without_close_frame(message: MutableMapping[str, Any]) -> bool:
    """The TCP connection ended without a closing handshake. uvicorn's sans-I/O protocol reports that as
    code 1005 (1006 before the handshake completed) *without* a ``reason`` key, while a received close
    frame always comes with one (possibly empty)."""
    return message.get("code") in (1005, 1006) and "reason" not in message


def new_connection_id() -> str:
    """16 characters, like API Gateway's (URL-safe so it can sit in a path unescaped)."""
    return base64.urlsafe_b64encode(os.urandom(11)).decode()


@dataclass
class _Connection:
    socket: WebSocket
    source_ip: str
    user_agent: str
    connected_at: float = field(default_factory=time.time)
    last_active_at: float = field(default_factory=time.time)
    send_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    closed_by_server: bool = False


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# API Gateway refuses a PostToConnection larger than a WebSocket message may be (128 KB); the local one does
# too, so a message that would never reach a browser in AWS fails on the laptop as well.
MAX_MESSAGE_BYTES = 128 * 1024


def _too_large(size: int) -> Response:
    return JSONResponse(
        {"message": f"the message is {size} bytes; at most {MAX_MESSAGE_BYTES} may be sent"},
        status_code=413,
        headers={"x-amzn-ErrorType": "PayloadTooLargeException"},
    )


def _gone(connection_id: str) -> Response:
    return JSONResponse(
        {"message": f"connection {connection_id} is gone"},
        status_code=410,
        headers={"x-amzn-ErrorType": "GoneException"},
    )


class LocalGateway:
    def __init__(self, handler: Any, routes: tuple[str, ...], *, domain: str = "localhost") -> None:
        self._handler = handler
        self._routes = routes
        self._domain = domain
        self._connections: dict[str, _Connection] = {}
        self.app = Starlette(
            routes=[
                Route("/@connections/{connection_id:path}", self._manage, methods=["GET", "POST", "DELETE"]),
                Route(
                    "/{stage}/@connections/{connection_id:path}",
                    self._manage,
                    methods=["GET", "POST", "DELETE"],
                ),
                WebSocketRoute("/{path:path}", self._websocket),
            ]
        )

    async def _invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        def call() -> dict[str, Any]:
            reply: dict[str, Any] = self._handler(event, LocalContext("websocket", 10)) or {}
            return reply

        try:
            return await asyncio.to_thread(call)
        except Exception:  # an invocation error is a 500 from API Gateway
            logger.exception("websocket handler failed for %s", event["requestContext"]["routeKey"])
            return {"statusCode": 500}

    async def _websocket(self, socket: WebSocket) -> None:
        connection_id = new_connection_id()
        source_ip = socket.client.host if socket.client else "127.0.0.1"
        headers = {k: v for k, v in socket.headers.items()}
        reply = await self._invoke(
            websocket_event(
                "$connect",
                connection_id,
                query=dict(socket.query_params) or None,
                headers=headers,
                source_ip=source_ip,
                domain=self._domain,
            )
        )
        if reply.get("statusCode", 200) != 200:
            await socket.close(code=1008)  # before accept: the handshake is refused with HTTP 403
            return
        await socket.accept()
        connection = _Connection(socket, source_ip, headers.get("user-agent", ""))
        self._connections[connection_id] = connection
        lost = False
        try:
            while True:
                message = await socket.receive()  # the raw ASGI message: Starlette hides how a link ended
                if message["type"] == "websocket.disconnect":
                    lost = _lost_without_close_frame(message)
                    break
                body = message.get("text")
                if body is None:
                    body = (message.get("bytes") or b"").decode("utf-8", "replace")
                connection.last_active_at = time.time()
                reply = await self._invoke(
                    websocket_event(
                        websocket_route(body, self._routes),
                        connection_id,
                        body=body,
                        source_ip=source_ip,
                        domain=self._domain,
                    )
                )
                if reply.get("body"):  # the route response, as API Gateway sends it (returnResponse)
                    async with connection.send_lock:
                        await socket.send_text(str(reply["body"]))
        finally:
            self._connections.pop(connection_id, None)
        if not lost or connection.closed_by_server:
            await self._invoke(
                websocket_event("$disconnect", connection_id, source_ip=source_ip, domain=self._domain)
            )

    async def _manage(self, request: Request) -> Response:
        connection_id = request.path_params["connection_id"]
        connection = self._connections.get(connection_id)
        if connection is None:
            return _gone(connection_id)
        if request.method == "GET":
            return JSONResponse(
                {
                    "connectedAt": _iso(connection.connected_at),
                    "lastActiveAt": _iso(connection.last_active_at),
                    "identity": {"sourceIp": connection.source_ip, "userAgent": connection.user_agent},
                }
            )
        if request.method == "DELETE":
            connection.closed_by_server = True
            try:
                await connection.socket.close(code=1000)
            except RuntimeError:
                return _gone(connection_id)
            return Response(status_code=204)
        data = await request.body()
        if len(data) > MAX_MESSAGE_BYTES:
            return _too_large(len(data))
        try:
            async with connection.send_lock:
                try:
                    await connection.socket.send_text(data.decode("utf-8"))
                except UnicodeDecodeError:
                    await connection.socket.send_bytes(data)
        except (RuntimeError, WebSocketDisconnect, OSError):
            self._connections.pop(connection_id, None)
            return _gone(connection_id)
        return Response(status_code=200)

    @property
    def connection_ids(self) -> list[str]:
        return list(self._connections)

    def drop_silently(self, connection_id: str) -> None:
        """Forget a connection without ``$disconnect`` (what a lost network looks like to API Gateway)."""
        self._connections.pop(connection_id, None)


class GatewayServer:
    """The gateway served by uvicorn in a background thread; ``stop()`` shuts it down."""

    def __init__(self, gateway: LocalGateway, host: str, port: int) -> None:
        self.gateway = gateway
        config = uvicorn.Config(
            gateway.app,
            host=host,
            port=port,
            log_level="warning",
            access_log=False,
            lifespan="off",
            ws="websockets-sansio",
            ws_ping_interval=20,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="ws-gateway", daemon=True)

    def start(self, timeout_s: float = 10) -> GatewayServer:
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the local WebSocket gateway did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=5)


def start_gateway(host: str, port: int, allowed_origins: tuple[str, ...] | None = None) -> GatewayServer:
    """Called by the local stack: the ``websocket`` function behind a local WebSocket API on ``port``
    (with ``allowed_origins``, only for this machine and those pages: ``infra.local.origin_guard``)."""
    from infra import topology
    from infra.local.origin_guard import guard_asgi
    from infra.local.pump import load_handler

    trigger = topology.FUNCTIONS["websocket"].trigger
    assert isinstance(trigger, topology.WebSocketTrigger)
    gateway = LocalGateway(load_handler("websocket"), trigger.routes, domain=f"{host}:{port}")
    if allowed_origins is not None:
        gateway.app = guard_asgi(gateway.app, allowed_origins)  # type: ignore[assignment]
    return GatewayServer(gateway, host, port).start()


__all__ = ["GatewayServer", "LocalGateway", "start_gateway"]
