"""CLI and sign-in: ``--token`` / ``PRODUCT_IMPORTER_TOKEN`` go out as a bearer token on API calls only."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from product_importer import cli

from tests.unit.cli_fakes import API, FakeNetwork, an_import, created, json_reply, uploads_accepted


def network() -> FakeNetwork:
    fake = FakeNetwork()
    fake.on("POST", "/api/imports", created({"id": "imp-1"}))
    fake.on("GET", "/api/imports/imp-1", json_reply(an_import()))
    return uploads_accepted(fake)


def test_the_token_goes_on_every_api_call_but_not_on_the_upload(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    # given a deployment with sign-in and a CSV
    fake = network()
    csv = tmp_path / "c.csv"
    csv.write_text("sku,name\nA,a\nB,b\n")
    # when the CLI imports it with a token
    code = cli.import_file(cli.Api(API, "tok-123", fake.transport), csv, timeout_s=5)
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
    cli.Api(API, None, fake.transport).call("GET", "/api/imports/imp-1")
    assert "Authorization" not in fake.sent[0].headers


def test_the_token_comes_from_the_flag_or_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(cli.TOKEN_ENV, "from-env")
    assert cli._api(cli.build_parser().parse_args(["status", "imp-1"])).token == "from-env"
    assert cli._api(cli.build_parser().parse_args(["status", "imp-1", "--token", "flag"])).token == "flag"
    assert cli._api(cli.build_parser().parse_args(["--token", "flag", "status", "imp-1"])).token == "flag"
    monkeypatch.delenv(cli.TOKEN_ENV)
    assert cli._api(cli.build_parser().parse_args(["status", "imp-1"])).token is None


def test_a_refused_token_says_how_to_give_one() -> None:
    fake = FakeNetwork().on("GET", "/api/imports/x", httpx.Response(401, json={"message": "Unauthorized"}))
    with pytest.raises(cli.ApiError, match="PRODUCT_IMPORTER_TOKEN") as refused:
        cli.Api(API, "expired", fake.transport).call("GET", "/api/imports/x")
    assert refused.value.status == 401
