"""``HeadAsGet``: ``HEAD`` answers as ``GET`` would, without the body (RFC 9110 §9.3.2).

FastAPI routes declared with ``GET`` answer ``HEAD`` with 405, so ``curl -I``, uptime monitors and link
checkers saw "Method Not Allowed" on ``/api/health`` and on the UI's pages. The request runs as a ``GET``
(the same group check, the same status and headers, ``Content-Length`` included); the body is dropped
here because not every server in front of the app does it (Mangum passes the body on to API Gateway).
A path without a ``GET`` still answers 405, its ``Allow`` header unchanged.
"""

from __future__ import annotations

from product_importer.api.guard import App, Message, Receive, Scope, Send


class HeadAsGet:
    def __init__(self, app: App) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "HEAD":
            await self.app(scope, receive, send)
            return

        async def without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return  # the end of the body comes as an empty last message
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, without_body)
