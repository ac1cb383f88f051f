"""A fake deployment for the command line: the API (CONTRACT §3 shapes) and the presigned upload, behind
``httpx.MockTransport``, recording every request it was sent."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

API = "https://imports.example.com"
API_HOST = "imports.example.com"
UPLOAD_URL = "https://uploads.s3.eu-west-1.amazonaws.com/"

Answer = httpx.Response | Callable[[httpx.Request], httpx.Response]


@dataclass
class Sent:
    host: str
    method: str
    path: str
    headers: httpx.Headers  # case-insensitive, as HTTP headers are
    params: dict[str, str]
    body: bytes


@dataclass
class FakeNetwork:
    """Answers by (host, method, path); several answers for one route are given out in turn (the last
    one repeats), so an import can move from processing to completed between polls."""

    routes: dict[tuple[str, str, str], list[Answer]] = field(default_factory=dict)
    sent: list[Sent] = field(default_factory=list)

    def on(self, method: str, path: str, *answers: Answer, host: str = API_HOST) -> FakeNetwork:
        self.routes[(host, method, path)] = list(answers)
        return self

    def handle(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        self.sent.append(Sent(request.url.host, request.method, request.url.path, request.headers,
                              dict(request.url.params), body))
        answers = self.routes.get((request.url.host, request.method, request.url.path))
        if not answers:
            return httpx.Response(404, json={"detail": "no route"})
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        return answer(request) if callable(answer) else answer

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def api_calls(self) -> list[Sent]:
        return [s for s in self.sent if s.host == API_HOST]

    def json_sent(self, method: str, path: str) -> Any:
        [call] = [s for s in self.api_calls() if (s.method, s.path) == (method, path)]
        return json.loads(call.body)


def an_import(import_id: str = "imp-1", status: str = "completed", **fields: Any) -> dict[str, Any]:
    """CONTRACT §2's Import object."""
    values: dict[str, Any] = {
        "id": import_id, "filename": "c.csv", "source": "upload", "partner": None, "mode": "import",
        "status": status, "profile": "generic", "encoding": "utf-8", "mapping": None, "warnings": [],
        "rows_total": 2, "rows_processed": 2, "rows_imported": 2, "rows_failed": 0, "rows_skipped": 0,
        "products_created": 2, "products_updated": 0, "products_unchanged": 0, "products_deactivated": 0,
        "chunks_total": 1, "chunks_done": 1, "error": None, "preview_of": None, "applied_as": None,
        "replace": None, "revert": None, "created_at": "2026-01-01T00:00:00.000Z", "started_at": None,
        "finished_at": None, "reverted_at": None,
    }
    values.update(fields)
    return values


def json_reply(body: Any, status: int = 200) -> httpx.Response:
    return httpx.Response(status, json=body)


def created(imp: dict[str, Any]) -> httpx.Response:
    return json_reply({"import": imp, "upload": {"method": "POST", "url": UPLOAD_URL,
                                                  "fields": {"key": f"uploads/{imp['id']}.csv", "policy": "p"},
                                                  "expires_in": 900}}, 201)


def uploads_accepted(network: FakeNetwork) -> FakeNetwork:
    return network.on("POST", "/", httpx.Response(204), host="uploads.s3.eu-west-1.amazonaws.com")
