"""CLI and sign-in: ``--token`` / ``PRODUCT_IMPORTER_TOKEN`` go out as a bearer token on API calls only."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from product_importer import cli

API = "https://imports.example.com"
UPLOAD_URL = "https://uploads.s3.eu-west-1.amazonaws.com/"


@dataclass
class Sent:
    host: str
    method: str
    path: str
    headers: dict[str, str]


class FakeReply:
    def __init__(self, status: int, body: Any, content_type: str = "application/json") -> None:
        self.status = status
        self._data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self._content_type = content_type

    def read(self) -> bytes:
        return self._data

    def getheader(self, name: str, default: str = "") -> str:
        return self._content_type if name.lower() == "content-type" else default


@dataclass
class FakeNetwork:
    """Stands in for http.client: answers by (host, method, path) and records every request's headers."""

    routes: dict[tuple[str, str, str], FakeReply]
    sent: list[Sent] = field(default_factory=list)

    def connect(self, url: str, timeout: float = 60) -> tuple[Any, str]:
        host, path = url.split("://", 1)[1].split("/", 1)
        network = self

        class Connection:
            def request(self, method: str, target: str, body: Any = None, headers: dict[str, str] | None = None) -> None:
                if body is not None and not isinstance(body, bytes):
                    b"".join(body)  # drain a streamed upload body like a socket would
                network.sent.append(Sent(host, method, target, dict(headers or {})))
                self._reply = network.routes.get((host, method, target), FakeReply(404, {"detail": "no route"}))

            def getresponse(self) -> FakeReply:
                return self._reply

            def close(self) -> None:
                pass

        return Connection(), "/" + path  # type: ignore[return-value]


def imported() -> dict[str, Any]:
    return {"id": "imp-1", "status": "completed", "rows_total": 2, "rows_processed": 2, "rows_imported": 2,
            "rows_failed": 0, "products_created": 2, "products_updated": 0, "products_unchanged": 0}


def network() -> FakeNetwork:
    host = "imports.example.com"
    return FakeNetwork({
        (host, "POST", "/api/imports"): FakeReply(201, {
            "import": {"id": "imp-1"},
            "upload": {"method": "POST", "url": UPLOAD_URL, "fields": {"key": "uploads/imp-1/c.csv"}},
        }),
        ("uploads.s3.eu-west-1.amazonaws.com", "POST", "/"): FakeReply(204, b"", "text/plain"),
        (host, "GET", "/api/imports/imp-1"): FakeReply(200, imported()),
    })


def test_the_token_goes_on_every_api_call_but_not_on_the_upload(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    # given a deployment with sign-in and a CSV
    fake = network()
    csv = tmp_path / "c.csv"
    csv.write_text("sku,name\nA,a\nB,b\n")
    # when the CLI imports it with a token
    code = cli.import_file(cli.Api(API, "tok-123", connect=fake.connect), csv, timeout_s=5)
    # then every API call carried the bearer token, and the presigned POST to S3 did not
    assert code == cli.EXIT_OK
    api_calls = [s for s in fake.sent if s.host == "imports.example.com"]
    uploads = [s for s in fake.sent if s.host.startswith("uploads.")]
    assert [(s.method, s.path) for s in api_calls] == [("POST", "/api/imports"), ("GET", "/api/imports/imp-1")]
    assert all(s.headers["Authorization"] == "Bearer tok-123" for s in api_calls)
    assert len(uploads) == 1
    assert "Authorization" not in uploads[0].headers


def test_without_a_token_no_authorization_header_is_sent() -> None:
    fake = network()
    cli.Api(API, None, connect=fake.connect).call("GET", "/api/imports/imp-1")
    assert "Authorization" not in fake.sent[0].headers


def test_the_token_comes_from_the_flag_or_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(cli.TOKEN_ENV, "from-env")
    assert cli._api(cli.build_parser().parse_args(["status", "imp-1"])).token == "from-env"
    assert cli._api(cli.build_parser().parse_args(["status", "imp-1", "--token", "flag"])).token == "flag"
    assert cli._api(cli.build_parser().parse_args(["--token", "flag", "status", "imp-1"])).token == "flag"
    monkeypatch.delenv(cli.TOKEN_ENV)
    assert cli._api(cli.build_parser().parse_args(["status", "imp-1"])).token is None


def test_a_refused_token_says_how_to_give_one() -> None:
    fake = FakeNetwork({("imports.example.com", "GET", "/api/imports/x"): FakeReply(401, {"message": "Unauthorized"})})
    with pytest.raises(cli.ApiError, match="PRODUCT_IMPORTER_TOKEN") as refused:
        cli.Api(API, "expired", connect=fake.connect).call("GET", "/api/imports/x")
    assert refused.value.status == 401

