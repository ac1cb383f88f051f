"""The local stack's edge: the API, the WebSocket gateway and the AWS emulator answer only this machine's
own pages (loopback Host, the UI's Origin) and programs — not any web page the developer visits."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import websockets
from botocore.exceptions import ClientError

from tests.integration.stack_fixture import PipelineStack, running_pipeline
from tests.pg import EmbeddedDatabases

EVIL = "https://evil.example"


@pytest.fixture(scope="module")
def pipeline(databases: EmbeddedDatabases, tmp_path_factory: pytest.TempPathFactory) -> Iterator[PipelineStack]:
    with running_pipeline(databases, Path(tmp_path_factory.mktemp("edge"))) as stack:
        yield stack


def ui_origin(pipeline: PipelineStack) -> str:
    return pipeline.stack.config.api_url  # http://127.0.0.1:<port>: the API serves the UI


def test_the_api_answers_programs_and_its_own_ui(pipeline: PipelineStack) -> None:
    assert pipeline.api.get("/api/health").status_code == 200  # a program: no Origin
    own = pipeline.api.get("/api/products", headers={"Origin": ui_origin(pipeline), "Sec-Fetch-Site": "same-origin"})
    assert own.status_code == 200
    reply = pipeline.api.delete("/api/products", params={"confirm": "false"}, headers={"Origin": ui_origin(pipeline)})
    assert reply.status_code == 400  # reached the route (which wants confirm=true)


@pytest.mark.parametrize(
    "headers",
    [
        {"Host": "rebound.evil.example"},  # DNS rebinding: the attacker's name, resolving to 127.0.0.1
        {"Host": "rebound.evil.example:8000"},
        {"Origin": EVIL},  # a cross-site fetch or form post
        {"Origin": "null"},  # a sandboxed frame or a data: page
        {"Origin": "http://localhost:3000"},  # another local dev server is another origin
        {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "no-cors"},  # <img>/<script> from elsewhere
    ],
)
def test_the_api_refuses_other_pages(pipeline: PipelineStack, headers: dict[str, str]) -> None:
    # when another page tries to wipe the catalog (local mode has no sign-in)
    reply = pipeline.api.delete("/api/products", params={"confirm": "true"}, headers=headers)
    # then it is refused before any route runs
    assert reply.status_code == 403
    assert pipeline.api.get("/api/health").status_code == 200


def test_a_link_to_the_ui_still_opens_it(pipeline: PipelineStack) -> None:
    reply = pipeline.api.get("/api/health", headers={"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate"})
    assert reply.status_code == 200


def test_a_cross_site_form_cannot_post_into_incoming(pipeline: PipelineStack) -> None:
    # Given the emulator's S3 endpoint, which a page could target with a plain HTML form (no preflight)
    endpoint = f"{pipeline.stack.config.aws_endpoint}/{pipeline.bucket}"
    key = f"incoming/evil/{uuid.uuid4().hex}.csv"
    form = {"key": key}
    files = {"file": ("x.csv", b"sku,name\nEVIL-1,Pwned\n", "text/csv")}
    # When the browser sends it from another site
    for headers in ({"Origin": EVIL}, {"Origin": "null"}, {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate"}):
        reply = httpx.post(endpoint, data=form, files=files, headers=headers, timeout=10)
        # Then the emulator refuses it and no object (so no import) appears
        assert reply.status_code == 403, reply.text
    with pytest.raises(ClientError):
        pipeline.s3.head_object(Bucket=pipeline.bucket, Key=key)
    # (a program's form is accepted once it carries a presigned policy, as S3 wants: see test_local_uploads)
    control = f"manual/{uuid.uuid4().hex}.txt"
    signed = pipeline.s3.generate_presigned_post(Bucket=pipeline.bucket, Key=control)
    assert httpx.post(endpoint, data=signed["fields"], files=files, timeout=10).status_code in (200, 201, 204)
    assert pipeline.s3.head_object(Bucket=pipeline.bucket, Key=control)["ContentLength"] > 0
    # (and a rebinding Host is refused too)
    reply = httpx.get(f"{pipeline.stack.config.aws_endpoint}/", headers={"Host": "rebound.evil.example"}, timeout=10)
    assert reply.status_code == 403


def test_the_ui_may_still_upload_to_the_emulator(pipeline: PipelineStack) -> None:
    # the browser's presigned POST from the UI's origin (and its CORS preflight) pass
    created = pipeline.create_import("fromui.csv", size=20)
    upload = created["upload"]
    preflight = httpx.options(upload["url"], headers={
        "Origin": ui_origin(pipeline), "Access-Control-Request-Method": "POST"}, timeout=10)
    assert preflight.status_code == 200
    reply = httpx.post(upload["url"], data=upload["fields"], files={"file": ("f.csv", b"sku,name\nA,B\n", "text/csv")},
                       headers={"Origin": ui_origin(pipeline), "Sec-Fetch-Site": "same-site"}, timeout=30)
    assert reply.status_code in (200, 201, 204), reply.text


def _handshake(url: str, origin: str | None, host: str | None = None) -> bool:
    async def attempt() -> bool:
        headers = {"Host": host} if host else {}
        try:
            async with websockets.connect(url, origin=origin, additional_headers=headers, open_timeout=5):  # type: ignore[arg-type]
                return True
        except websockets.exceptions.InvalidStatus as exc:
            assert exc.response.status_code == 403
            return False

    return asyncio.run(attempt())


def test_the_websocket_gateway_accepts_only_the_ui(pipeline: PipelineStack) -> None:
    url = f"ws://127.0.0.1:{pipeline.stack.config.ws_port}/"
    assert _handshake(url, ui_origin(pipeline))
    assert _handshake(url, None)  # a program
    assert not _handshake(url, EVIL)
    assert not _handshake(url, ui_origin(pipeline), host="rebound.evil.example")
