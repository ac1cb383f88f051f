"""The local stack's edge: only this machine's own pages may talk to the API, the WebSocket gateway and
the AWS emulator.

Local mode has no sign-in (everyone is ``admin``), so without a check any web page a developer visits
could read or wipe their local catalog: by DNS rebinding (a name of the attacker's that resolves to
127.0.0.1, so the browser treats the answers as same-origin) or by a plain cross-site request. CORS does
not stop the latter: a cross-site HTML form POSTs into ``incoming/`` on the emulator without any preflight
(and the emulator answers every origin with ``*`` anyway). So each server refuses, with 403:

- a ``Host`` header that is not a loopback name (``127.0.0.0/8``, ``[::1]``, ``localhost``,
  ``*.localhost``; any port): DNS rebinding brings the attacker's host name, never ours;
- an ``Origin`` header that is not one of the UI's origins (the API's own, and the Vite dev server's);
- a request that the browser marks cross-site or same-site (``Sec-Fetch-Site``) without an allowed
  ``Origin`` — except a plain top-level navigation (GET / HEAD), such as a link to the UI.

Programs (boto3, the CLI, curl) send no ``Origin`` and no ``Sec-Fetch-*`` headers and pass. The same
``OriginPolicy`` wraps an ASGI app (the API, the gateway, WebSocket handshakes included) or a WSGI app
(moto's emulator).
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

ENV_ALLOWED_ORIGINS = "PI_LOCAL_ALLOWED_ORIGINS"  # how the emulator's process learns the UI's origins
VITE_DEV_PORT = 5173
FORBIDDEN_BODY = b'{"detail": "refused: only this machine\'s own pages may call the local stack"}'
SAFE_NAVIGATION = ("GET", "HEAD")


def ui_origins(api_port: int, extra: Iterable[str] = ()) -> tuple[str, ...]:
    """The UI's origins: the API serves it; the Vite dev server (``npm run dev``) too."""
    origins = [f"http://{host}:{port}" for port in (api_port, VITE_DEV_PORT) for host in ("127.0.0.1", "localhost")]
    return tuple(dict.fromkeys([*origins, *extra]))


def is_loopback_host(host: str | None) -> bool:
    """``Host`` header value (``name[:port]`` or ``[v6]:port``) names this machine."""
    if not host:
        return False
    name = host.strip().lower()
    if name.startswith("["):
        name = name[1 : name.find("]")] if "]" in name else ""
    elif name.count(":") == 1:
        name = name.split(":", 1)[0]
    name = name.rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class OriginPolicy:
    allowed_origins: frozenset[str]

    @classmethod
    def of(cls, origins: Iterable[str]) -> OriginPolicy:
        return cls(frozenset(o.rstrip("/").lower() for o in origins if o))

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> OriginPolicy:
        return cls.of(environ.get(ENV_ALLOWED_ORIGINS, "").split(","))

    def refusal(self, method: str, headers: Mapping[str, str]) -> str | None:
        """Why the request is refused (None: it may pass). ``headers`` with lower-case names."""
        if not is_loopback_host(headers.get("host")):
            return "host is not this machine"
        origin = headers.get("origin")
        if origin is not None:
            return None if origin.rstrip("/").lower() in self.allowed_origins else "origin not allowed"
        site = headers.get("sec-fetch-site")
        if site in (None, "same-origin", "none"):
            return None
        if headers.get("sec-fetch-mode") == "navigate" and method.upper() in SAFE_NAVIGATION:
            return None
        return f"{site} request without an allowed origin"


# -- ASGI (the API, the WebSocket gateway) -------------------------------------------------------------------

ASGIApp = Callable[..., Any]


def _asgi_headers(scope: Mapping[str, Any]) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}


class GuardedASGI:
    def __init__(self, app: ASGIApp, policy: OriginPolicy) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        method = scope.get("method", "GET")
        reason = self.policy.refusal(method, _asgi_headers(scope))
        if reason is None:
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await receive()  # websocket.connect
            await send({"type": "websocket.close", "code": 1008})  # before accept: the handshake gets 403
            return
        await send({
            "type": "http.response.start",
            "status": 403,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(FORBIDDEN_BODY)).encode())],
        })
        await send({"type": "http.response.body", "body": FORBIDDEN_BODY})


def guard_asgi(app: ASGIApp, allowed_origins: Iterable[str]) -> GuardedASGI:
    return GuardedASGI(app, OriginPolicy.of(allowed_origins))


# -- WSGI (moto's emulator) ---------------------------------------------------------------------------------

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def _wsgi_headers(environ: Mapping[str, Any]) -> dict[str, str]:
    headers = {k[5:].replace("_", "-").lower(): str(v) for k, v in environ.items() if k.startswith("HTTP_")}
    return headers


class GuardedWSGI:
    def __init__(self, app: WSGIApp, policy: OriginPolicy) -> None:
        self.app = app
        self.policy = policy

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        reason = self.policy.refusal(environ.get("REQUEST_METHOD", "GET"), _wsgi_headers(environ))
        if reason is None:
            return self.app(environ, start_response)
        start_response(
            "403 Forbidden", [("Content-Type", "application/json"), ("Content-Length", str(len(FORBIDDEN_BODY)))]
        )
        return [FORBIDDEN_BODY]

    def __getattr__(self, name: str) -> Any:  # moto's dispatcher has attributes werkzeug may look at
        return getattr(self.app, name)


def guard_wsgi(app: WSGIApp, policy: OriginPolicy) -> GuardedWSGI:
    return GuardedWSGI(app, policy)
