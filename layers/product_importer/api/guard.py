"""``InputGuard``: requests that no route can store are answered 4xx before any route runs.

CONTRACT §3: never a 500 for bad input. What would otherwise reach a store and fail there:

- a NUL anywhere in the path or the query (PostgreSQL text cannot hold it) → 400;
- a JSON body with ``NaN``/``Infinity`` or a number too large for a float (not JSON; PostgreSQL's jsonb
  refuses them), a lone UTF-16 surrogate in a string (no store can encode it), a NUL in a string or a key
  (except ``filename``, which is only shown and sent back, its control characters dropped) → 422, answered
  by the app's validation handler once the route's group check passed (``REFUSED_BODY``);
- a JSON body over ``max_json_bytes`` → 413.

Everything else is left to the routes' own validation. The body is read once here and handed on as is.
"""

from __future__ import annotations

import json
import math
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import unquote_to_bytes

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

MAX_JSON_BYTES = 1024 * 1024
REFUSED_BODY = "input_guard_refused"  # request.state key: the 422 detail of a body no store can hold
NUL_ALLOWED_KEYS = frozenset({"filename"})
_WITH_BODY = frozenset({"POST", "PUT", "PATCH"})


class _Refused(ValueError):
    def __init__(self, loc: list[str | int], message: str) -> None:
        super().__init__(message)
        self.loc = loc


class InputGuard:
    def __init__(self, app: App, *, max_json_bytes: int = MAX_JSON_BYTES) -> None:
        self.app = app
        self.max_json_bytes = max_json_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        problem = url_problem(scope)
        if problem is not None:
            await _reply(send, 400, problem)
            return
        if scope.get("method") not in _WITH_BODY or not _is_json(scope):
            await self.app(scope, receive, send)
            return
        body = bytearray()
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self.max_json_bytes:
                await _reply(send, 413, f"a JSON body is at most {self.max_json_bytes // 1024} KB")
                return
        try:
            check_json(bytes(body))
        except _Refused as refused:
            # Answered by the app's validation handler, after the route's group check (CONTRACT §8: 401 / 403
            # before anything is said about the body): the route sees a body that is not JSON.
            scope.setdefault("state", {})[REFUSED_BODY] = [
                {"loc": ["body", *refused.loc], "msg": str(refused), "type": "value_error"}]
            body = bytearray(b"\x00")
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": bytes(body), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


def raw_path(scope: Scope) -> bytes | None:
    """The path as the client sent it, percent-encoding kept (None when the server does not say). Uvicorn
    gives it as ``raw_path``; behind API Gateway, Mangum leaves that None, and the HTTP API v2 event it
    keeps in the scope has it as ``rawPath``."""
    raw = scope.get("raw_path")
    if raw:
        return bytes(raw)
    event = scope.get("aws.event")
    if isinstance(event, dict) and isinstance(event.get("rawPath"), str):
        return str(event["rawPath"]).encode("utf-8", "surrogateescape")
    return None


def url_problem(scope: Scope) -> str | None:
    """Why the path or query cannot be served (None: they are fine). CONTRACT §3: never a 500 for odd bytes;
    a path or query whose percent-encoded bytes are not UTF-8 is refused rather than read with U+FFFD in
    place of the bytes (a SKU ``%FF`` was stored as "\ufffd")."""
    path = scope.get("path", "")
    raw = raw_path(scope) or b""
    if "\x00" in path or b"%00" in raw.lower():
        return "the path contains a NUL character"
    query: bytes = scope.get("query_string") or b""
    if b"\x00" in query or b"\x00" in unquote_to_bytes(query):
        return "the query string contains a NUL character"
    try:
        unquote_to_bytes(raw).decode("utf-8")
    except UnicodeDecodeError:
        return "the path is not UTF-8 text: percent-encoded bytes must spell UTF-8 characters"
    try:
        unquote_to_bytes(query).decode("utf-8")
    except UnicodeDecodeError:
        return "the query string is not UTF-8 text: percent-encoded bytes must spell UTF-8 characters"
    return None


def _is_json(scope: Scope) -> bool:
    for name, value in scope.get("headers", ()):
        if name == b"content-type":
            media = value.split(b";", 1)[0].strip().lower()
            return media == b"application/json" or media.endswith(b"+json")
    return False


def _not_a_number(value: str) -> float:
    raise _Refused([], f"{value} is not a JSON number: numbers must be finite")


def _finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise _Refused([], f"{text[:40]} is too large a number")
    return number


def check_json(body: bytes) -> None:
    """Raise ``_Refused`` for what JSON parsers accept but no store can hold; leave malformed JSON to the
    route (it answers 422/400 itself)."""
    try:
        value = json.loads(body, parse_constant=_not_a_number, parse_float=_finite)
    except _Refused:
        raise
    except (ValueError, RecursionError):
        return
    stack: list[tuple[list[str | int], Any, bool]] = [([], value, False)]
    while stack:
        loc, item, nul_allowed = stack.pop()
        if isinstance(item, str):
            _check_text(loc, item, nul_allowed)
        elif isinstance(item, dict):
            for key, child in item.items():
                _check_text([*loc, key], key, False)
                stack.append(([*loc, key], child, key in NUL_ALLOWED_KEYS and not loc))
        elif isinstance(item, list):
            stack.extend(([*loc, i], child, False) for i, child in enumerate(item))


def _check_text(loc: list[str | int], text: str, nul_allowed: bool) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise _Refused(loc, "text must be valid Unicode (a lone UTF-16 surrogate is not)") from exc
    if not nul_allowed and "\x00" in text:
        raise _Refused(loc, "text cannot contain NUL characters")


async def _reply(send: Send, status: int, detail: Any) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
