"""Black box: ``python -m infra.local`` (what ``make up`` runs) in the background, then the CLI imports a
generated 100k-row file with a few bad rows, and the API shows the exact counts and the products."""

from __future__ import annotations

import csv
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from infra.local.stack import free_port
from tests.bench.catalog import write_catalog

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
CLI = Path(sys.executable).parent / "product-importer"
ROWS = 100_000
BAD_EVERY = 10_000  # rows 10 000, 20 000, … 100 000 carry a negative price


@dataclass
class RunningStack:
    api: str
    process: subprocess.Popen[bytes]
    log: Path


def clean_environment() -> dict[str, str]:
    """This process's environment without anything an in-process stack may have left behind."""
    prefixes = (
        "AWS_",
        "DATABASE_URL",
        "LOCAL_",
        "POWERTOOLS_",
        "UPLOADS_",
        "CHUNK",
        "PROGRESS_",
        "OBJECT_EVENTS",
        "WEBHOOKS_",
        "WEBSOCKET_",
        "CONNECTIONS_",
        "MAX_UPLOAD",
        "STATIC_DIR",
        "PRODUCT_IMPORTER_",
    )
    return {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}


@pytest.fixture(scope="module")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    state = tmp_path_factory.mktemp("state")
    port = free_port()
    log = state / "stack.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "infra.local",
                "--port",
                str(port),
                "--aws-port",
                str(free_port()),
                "--ws-port",
                str(free_port()),
                "--state-dir",
                str(state),
            ],
            cwd=ROOT,
            env=clean_environment(),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    api = f"http://127.0.0.1:{port}"
    try:
        wait_for_health(api, process, log)
        yield RunningStack(api, process, log)
    finally:
        process.send_signal(signal.SIGINT)  # Ctrl-C
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            pytest.fail(f"the stack did not stop on Ctrl-C:\n{log.read_text()[-3000:]}")


def wait_for_health(api: str, process: subprocess.Popen[bytes], log: Path, timeout_s: float = 90) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the stack exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{api}/api/health", timeout=2).json() == {"status": "ok"}:
                return
        except (httpx.HTTPError, ValueError):
            pass
        time.sleep(0.3)
    pytest.fail(f"/api/health did not answer within {timeout_s}s:\n{log.read_text()[-3000:]}")


def cli(*args: str, timeout_s: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CLI), *args],
        capture_output=True,
        text=True,
        timeout=timeout_s,
        env=clean_environment(),
        check=False,
    )


def test_the_cli_imports_a_100k_row_file_and_the_api_shows_exact_counts(
    local_stack: RunningStack, tmp_path: Path
) -> None:
    catalog = write_catalog(tmp_path / "catalog-100k.csv", ROWS, seed=7, bad_every=BAD_EVERY)
    bad_rows = list(range(BAD_EVERY, ROWS + 1, BAD_EVERY))

    run = cli("import", str(catalog), "--api", local_stack.api)

    assert run.returncode == 3, f"stdout:\n{run.stdout}\nstderr:\n{run.stderr[-2000:]}"
    assert "status:     completed" in run.stdout
    assert "100,000 of 100,000 processed, 99,990 imported, 10 failed" in run.stdout
    assert "99,990 created, 0 updated, 0 unchanged" in run.stdout
    assert f"row {bad_rows[0]}: price:" in run.stdout
    match = re.search(r"import ([0-9a-f]{32})\s+catalog-100k\.csv", run.stderr)
    assert match, run.stderr[-2000:]
    import_id = match.group(1)

    api = httpx.Client(base_url=local_stack.api, timeout=30)
    imp = api.get(f"/api/imports/{import_id}").json()
    assert (imp["status"], imp["source"], imp["filename"], imp["error"]) == (
        "completed",
        "upload",
        "catalog-100k.csv",
        None,
    )
    assert (imp["rows_total"], imp["rows_processed"], imp["rows_imported"], imp["rows_failed"]) == (
        ROWS,
        ROWS,
        ROWS - 10,
        10,
    )
    assert (imp["products_created"], imp["products_updated"], imp["products_unchanged"]) == (ROWS - 10, 0, 0)
    assert imp["chunks_total"] == imp["chunks_done"] > 1
    errors = api.get(f"/api/imports/{import_id}/errors", params={"limit": 500}).json()
    assert [(e["row"], e["column"], e["value"]) for e in errors["items"]] == [
        (n, "price", "-1") for n in bad_rows
    ]

    with catalog.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    for n in (1, 54_321, ROWS - 1):
        expected = rows[n - 1]
        product = api.get(f"/api/products/{expected['sku'].lower()}").json()
        assert (product["sku"], product["name"], product["price"], product["quantity"], product["brand"]) == (
            expected["sku"],
            expected["name"],
            expected["price"],
            int(expected["quantity"]),
            expected["brand"],
        )
        assert product["attributes"] == {"color": expected["color"]}
        assert product["last_import_id"] == import_id
    assert api.get(f"/api/products/{rows[BAD_EVERY - 1]['sku']}").status_code == 404

    status = cli("status", import_id, "--api", local_stack.api)
    assert status.returncode == 3 and "status:     completed" in status.stdout
    errors_csv = cli("errors", import_id, "--api", local_stack.api)
    assert errors_csv.returncode == 0
    lines = list(csv.reader(errors_csv.stdout.removeprefix("\ufeff").splitlines()))
    assert lines[0] == ["row", "sku", "column", "message", "value"]
    assert [int(line[0]) for line in lines[1:]] == bad_rows
    assert all(line[4] == "'-1" for line in lines[1:])  # "-1" would be a formula in a spreadsheet


def test_a_file_the_stack_cannot_import_exits_1_with_the_reason(
    local_stack: RunningStack, tmp_path: Path
) -> None:
    bad = tmp_path / "no-name.csv"
    bad.write_text("sku,price\nA-1,1.00\n", encoding="utf-8")

    run = cli("import", str(bad), "--api", local_stack.api, timeout_s=120)

    assert run.returncode == 1, run.stdout + run.stderr
    assert "status:     failed" in run.stdout
    assert "name" in run.stdout


def test_a_clean_file_exits_0(local_stack: RunningStack, tmp_path: Path) -> None:
    catalog = write_catalog(tmp_path / "small.csv", 50, seed=3)

    run = cli("import", str(catalog), "--api", local_stack.api, timeout_s=120)

    assert run.returncode == 0, run.stdout + run.stderr
    assert "50 of 50 processed, 50 imported, 0 failed" in run.stdout


def test_a_dry_run_writes_nothing_then_apply_imports_it_and_revert_takes_it_back(
    local_stack: RunningStack, tmp_path: Path
) -> None:
    # given a file of products the catalog does not have, with a column the header does not name
    prefix = f"PRV-{uuid.uuid4().hex[:8]}"
    catalog = tmp_path / "preview.csv"
    catalog.write_text("Item Code,name,price\n" + "".join(f"{prefix}-{n},Product {n},{n}.50\n" for n in range(1, 31)))
    api = httpx.Client(base_url=local_stack.api, timeout=30)

    # when it is imported with --dry-run and a mapping
    preview = cli("import", str(catalog), "--dry-run", "--map", "Item Code=sku", "--api", local_stack.api)

    # then it is previewed: the plan is printed, nothing is written
    assert preview.returncode == 0, preview.stdout + preview.stderr
    assert "status:     previewed" in preview.stdout
    assert "30 to create, 0 to update, 0 unchanged" in preview.stdout
    assert "changes:    30 create, 0 update, 0 unchanged, 0 deactivate" in preview.stdout
    preview_id = re.search(r"product-importer apply ([0-9a-f]{32})", preview.stdout)
    assert preview_id, preview.stdout
    assert api.get(f"/api/products/{prefix}-1").status_code == 404

    # and its changes can be listed
    changes = cli("changes", preview_id.group(1), "--api", local_stack.api)
    assert changes.returncode == 0, changes.stderr
    assert sum(line.startswith("create") for line in changes.stdout.splitlines()) == 30

    # when the preview is applied, then a new import writes the products
    applied = cli("apply", preview_id.group(1), "--api", local_stack.api)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert "status:     completed" in applied.stdout and "30 created, 0 updated, 0 unchanged" in applied.stdout
    import_id = re.search(r"import ([0-9a-f]{32})", applied.stderr)
    assert import_id and import_id.group(1) != preview_id.group(1), applied.stderr
    assert api.get(f"/api/products/{prefix}-7").json()["price"] == "7.50"
    # and the list shows the preview and its import, newest first, with whole ids
    listed = cli("list", "--limit", "2", "--api", local_stack.api)
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert lines[1].startswith(import_id.group(1)) and " completed " in lines[1], listed.stdout
    assert lines[2].startswith(preview_id.group(1)) and " previewed " in lines[2], listed.stdout

    # when the import is reverted, then the products it created are gone again
    reverted = cli("revert", import_id.group(1), "--api", local_stack.api)
    assert reverted.returncode == 0, reverted.stdout + reverted.stderr
    assert "0 restored, 30 deleted, 0 conflicts" in reverted.stdout
    assert api.get(f"/api/products/{prefix}-7").status_code == 404
    # and the product's history says who created it, and that it was reverted
    history = cli("history", f"{prefix}-7", "--api", local_stack.api)
    assert history.returncode == 0, history.stderr
    assert f"import {import_id.group(1)}" in history.stdout and "create" in history.stdout
    assert history.stdout.rstrip().endswith("(reverted)"), history.stdout
