"""The local stack's presigned upload is as strict as S3's (CONTRACT §3: "a presigned S3 POST that only
accepts this one key, at most the configured max size, expiring within 15 minutes"). Found by an audit:
moto stored whatever was POSTed with the form's fields — another key, a file over the limit, a late upload,
a form without its policy — so the local stack let through what AWS refuses."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from product_importer import runtime

from tests.integration.stack_fixture import PipelineStack, running_pipeline
from tests.pg import EmbeddedDatabases

MAX_BYTES = 64
CSV = b"sku,name\nUP-1,Upload\n"


@pytest.fixture(scope="module")
def pipeline(databases: EmbeddedDatabases, tmp_path_factory: pytest.TempPathFactory) -> Iterator[PipelineStack]:
    with running_pipeline(databases, Path(tmp_path_factory.mktemp("uploads")), max_upload_bytes=MAX_BYTES) as stack:
        yield stack


def post_form(upload: dict[str, Any], data: bytes, **changes: str | None) -> httpx.Response:
    fields = {k: v for k, v in {**upload["fields"], **changes}.items() if v is not None}
    return httpx.post(upload["url"], data=fields, files={"file": ("catalog.csv", data, "text/csv")}, timeout=30)


def stored(pipeline: PipelineStack, key: str) -> bool:
    return "Contents" in pipeline.s3.list_objects_v2(Bucket=pipeline.bucket, Prefix=key)


def test_the_presigned_form_stores_its_own_key(pipeline: PipelineStack) -> None:
    created = pipeline.create_import()
    reply = post_form(created["upload"], CSV)
    assert reply.status_code == 204, reply.text
    assert pipeline.wait_for(created["import"]["id"])["status"] == "completed"


def test_a_file_of_exactly_the_max_size_is_stored(pipeline: PipelineStack) -> None:
    """content-length-range bounds the file, not the whole form (its fields are some hundreds of bytes)."""
    created = pipeline.create_import()
    data = CSV + b"UP-2," + b"n" * (MAX_BYTES - len(CSV) - 6) + b"\n"
    assert len(data) == MAX_BYTES
    reply = post_form(created["upload"], data)
    assert reply.status_code == 204, reply.text
    assert stored(pipeline, f"uploads/{created['import']['id']}.csv")


@pytest.mark.parametrize(
    ("changes", "data", "status", "code"),
    [
        ({"key": "uploads/someone-else.csv"}, CSV, 403, "Policy Condition failed"),  # only this one key
        ({"key": "incoming/acme/feed.csv"}, CSV, 403, "Policy Condition failed"),  # not a drop either
        ({}, b"x" * (MAX_BYTES + 1), 400, "EntityTooLarge"),  # at most the configured size
        ({"policy": None}, CSV, 403, "AccessDenied"),  # no policy: an anonymous write to a private bucket
        ({"success_action_status": "201"}, CSV, 403, "Extra input fields"),  # fields the policy does not name
        ({"Content-Type": "text/html"}, CSV, 403, "Policy Condition failed"),
    ],
)
def test_what_s3_refuses_is_refused(
    pipeline: PipelineStack, changes: dict[str, str | None], data: bytes, status: int, code: str
) -> None:
    created = pipeline.create_import()
    reply = post_form(created["upload"], data, **changes)
    assert reply.status_code == status and code in reply.text, reply.text
    assert not stored(pipeline, f"uploads/{created['import']['id']}.csv")
    assert not stored(pipeline, "uploads/someone-else.csv") and not stored(pipeline, "incoming/")


def test_an_expired_form_is_refused(pipeline: PipelineStack, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runtime.settings(), "upload_url_expires_s", 1)  # the API runs in this process
    created = pipeline.create_import()
    assert created["upload"]["expires_in"] == 1
    time.sleep(2.1)
    reply = post_form(created["upload"], CSV)
    assert reply.status_code == 403 and "Policy expired" in reply.text, reply.text
