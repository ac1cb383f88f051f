"""Imports that end ``failed`` on the local stack (CONTRACT §1, §2): bad files, files over the size limit
and a poison chunk that goes to the DLQ; and what must not fail (a header-only file)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from tests import pg
from tests.integration.stack_fixture import HEADER, PipelineStack, csv_rows, running_pipeline, unique

pytestmark = pytest.mark.slow

MAX_UPLOAD_BYTES = 20_000


@pytest.fixture(scope="module")
def pipeline(
    databases: pg.EmbeddedDatabases, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PipelineStack]:
    # A one-second visibility timeout: a poison chunk goes around its five receives in seconds.
    with running_pipeline(
        databases,
        tmp_path_factory.mktemp("stack"),
        chunk_rows=500,
        max_upload_bytes=MAX_UPLOAD_BYTES,
        visibility_overrides={"chunks": 1, "object-events": 5},
    ) as stack:
        yield stack


def assert_failed(imp: dict, *expected_in_error: str) -> None:
    assert imp["status"] == "failed", imp
    assert imp["error"], imp
    for text in expected_in_error:
        assert text in imp["error"], imp["error"]
    assert imp["finished_at"]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"name,price\nWidget,1.00\n", ["missing required column", "sku"]),
        (b"sku,price\nW-1,1.00\n", ["missing required column", "name"]),
        (b"id,label,price\n1,Widget,1.00\n", ["missing required columns", "sku, name"]),
        (b"", ["empty"]),
        (b"\xef\xbb\xbf\r\n\r\n", ["empty"]),
        ("sku,name\nW-1,Widget\n".encode("utf-16"), ["UTF-8"]),
    ],
    ids=["no-sku", "no-name", "neither", "zero-bytes", "bom-and-blank-lines", "utf-16"],
)
def test_a_file_that_cannot_be_imported_fails_at_once_with_a_reason(
    pipeline: PipelineStack, data: bytes, expected: list[str]
) -> None:
    import_id = pipeline.upload(data, filename="bad.csv")

    imp = pipeline.wait_for(import_id, timeout_s=30)

    assert_failed(imp, *expected)
    assert (imp["chunks_total"], imp["chunks_done"], imp["rows_processed"]) == (None, 0, 0)
    assert pipeline.sql("SELECT count(*) FROM chunk_ledger WHERE import_id = %s", (import_id,)) == [(0,)]


@pytest.mark.parametrize(
    "data",
    [b"sku,name,price\n", b"sku,name,price", b"\xef\xbb\xbfSKU;Name\r\n"],
    ids=["lf", "no-final-newline", "bom-semicolon-crlf"],
)
def test_a_header_only_file_completes_with_zero_rows(pipeline: PipelineStack, data: bytes) -> None:
    import_id = pipeline.upload(data, filename="empty-catalog.csv")

    imp = pipeline.wait_for(import_id, timeout_s=30)

    assert imp["status"] == "completed", imp
    assert (
        imp["rows_total"],
        imp["rows_processed"],
        imp["chunks_total"],
        imp["chunks_done"],
        imp["error"],
    ) == (0, 0, 0, 0, None)


def test_a_declared_size_over_the_limit_is_refused_by_the_api(pipeline: PipelineStack) -> None:
    before = len(pipeline.imports())

    response = pipeline.api.post("/api/imports", json={"filename": "big.csv", "size": MAX_UPLOAD_BYTES + 1})

    assert response.status_code == 413
    assert f"{MAX_UPLOAD_BYTES:,}" in response.json()["detail"]
    assert len(pipeline.imports()) == before


def test_a_file_over_the_limit_that_reaches_the_bucket_fails_its_import(pipeline: PipelineStack) -> None:
    prefix = unique("BIG")
    data = HEADER + csv_rows(prefix, 1000)
    assert len(data) > MAX_UPLOAD_BYTES
    created = pipeline.create_import("big.csv", size=100)  # the client lied, or the emulator let it through

    pipeline.put_upload(created["import"]["id"], data)

    imp = pipeline.wait_for(created["import"]["id"], timeout_s=30)
    assert_failed(imp, f"{len(data):,} bytes", f"maximum is {MAX_UPLOAD_BYTES:,} bytes")
    assert imp["chunks_total"] is None
    assert pipeline.product_count(prefix) == 0


def test_a_partner_drop_over_the_limit_fails_too(pipeline: PipelineStack) -> None:
    prefix = unique("BIGDROP")
    data = HEADER + csv_rows(prefix, 1000)

    pipeline.drop(f"incoming/{prefix.lower()}.csv", data)

    [imp] = pipeline.wait_for_import_of(f"{prefix.lower()}.csv")
    assert_failed(pipeline.wait_for(imp["id"], timeout_s=30), "maximum is")


def test_a_poison_chunk_goes_to_the_dlq_and_fails_the_import_keeping_what_was_committed(
    pipeline: PipelineStack,
) -> None:
    prefix = unique("POISON")
    good_a, good_b, last = pipeline.manual_import(HEADER + csv_rows(prefix, 300, bad={5}), chunk_rows=100)
    import_id = last.import_id
    pipeline.send_chunks(good_a, good_b)
    pipeline.wait_for(import_id, until=lambda imp: imp["chunks_done"] == 2)
    poison = last.model_copy(update={"version_id": "3HL4kqtJlcpXroDTDmJ-rmSpXd3dIbrHY"})  # no such version

    pipeline.send_chunks(poison)

    imp = pipeline.wait_for(import_id, timeout_s=40)
    assert_failed(imp, "chunk 2", "rows 201", "failed 5 times")
    assert (imp["chunks_total"], imp["chunks_done"], imp["rows_processed"], imp["rows_failed"]) == (
        3,
        2,
        200,
        1,
    )
    assert pipeline.product_count(prefix) == 199  # what was committed stays committed
    dead = wait_for_dead_letter(pipeline, import_id)
    assert (dead["chunk_no"], dead["version_id"]) == (2, poison.version_id)
    # The good chunk delivered again after the failure changes nothing.
    pipeline.send_chunks(last)
    pipeline.wait_until_idle("chunks")
    assert pipeline.get_import(import_id)["status"] == "failed"


def wait_for_dead_letter(pipeline: PipelineStack, import_id: str, timeout_s: float = 15) -> dict:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = [m for m in pipeline.dead_letters("chunks") if m["import_id"] == import_id]
        if found:
            assert len(found) == 1
            return found[0]
        time.sleep(0.2)
    raise AssertionError("the poison chunk never reached the DLQ")
