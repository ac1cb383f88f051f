"""Black box (issues 13 and 14): ``python -m infra.local`` in the background, driven by the CLI as a user
would: ``import --dry-run`` → ``apply`` → ``revert``; a revert while a later import runs; a replace held
over its cap, confirmed, and undone; a webhook receiver gets ``import.previewed`` and ``import.reverted``
signed per Standard Webhooks."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import standardwebhooks

from infra.local.stack import free_port
from tests.e2e.test_cli_e2e import ROOT, RunningStack, clean_environment, cli, wait_for_health
from tests.integration.test_webhooks import Receiver

pytestmark = pytest.mark.slow

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    state = tmp_path_factory.mktemp("jobs-state")
    port = free_port()
    log = state / "stack.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "infra.local", "--port", str(port), "--aws-port", str(free_port()),
             "--ws-port", str(free_port()), "--state-dir", str(state), "--chunk-rows", "1000"],
            cwd=ROOT, env=clean_environment(), stdout=out, stderr=subprocess.STDOUT,
        )
    api = f"http://127.0.0.1:{port}"
    try:
        wait_for_health(api, process, log, timeout_s=300)  # a loaded machine starts the stack slowly
        yield RunningStack(api, process, log)
    finally:
        process.send_signal(signal.SIGINT)  # Ctrl-C
        try:
            process.wait(timeout=120)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def write(path: Path, prefix: str, count: int, *, price: str = "{n}.10", start: int = 1) -> Path:
    lines = ["sku,name,price\n"]
    lines += [f"{prefix}-{n:05d},Product {n},{price.format(n=n)}\n" for n in range(start, start + count)]
    path.write_text("".join(lines), encoding="utf-8")
    return path


def import_id_of(run: subprocess.CompletedProcess[str]) -> str:
    match = re.search(r"(?:import|revert) ([0-9a-f]{32})", run.stderr)
    assert match, run.stderr[-2000:]
    return match.group(1)


def counts(imp: dict[str, Any]) -> tuple[int, ...]:
    return tuple(imp[k] for k in ("rows_total", "rows_imported", "rows_failed", "products_created",
                                  "products_updated", "products_unchanged"))


def price(api: httpx.Client, sku: str) -> str:
    reply = api.get(f"/api/products/{sku}")
    assert reply.status_code == 200, reply.text
    value: str = reply.json()["price"]
    return value


def test_dry_run_apply_and_revert_through_the_cli(stack: RunningStack, tmp_path: Path) -> None:
    api = httpx.Client(base_url=stack.api, timeout=30)
    receiver = Receiver()
    hook = api.post("/api/webhooks", json={"url": receiver.url, "secret": SECRET,
                                           "events": ["import.previewed", "import.reverted"]})
    assert hook.status_code == 201, hook.text
    try:
        base = cli("import", str(write(tmp_path / "base.csv", "E2J", 3_000)), "--api", stack.api)
        assert base.returncode == 0, base.stdout + base.stderr
        update = write(tmp_path / "update.csv", "E2J", 3_200, price="{n}.55")

        # import --dry-run: previewed, the planned changes, nothing written
        dry = cli("import", str(update), "--dry-run", "--api", stack.api)
        assert dry.returncode == 0, dry.stdout + dry.stderr
        preview_id = import_id_of(dry)
        assert "status:     previewed" in dry.stdout
        assert "200 to create, 3,000 to update, 0 unchanged (nothing written yet)" in dry.stdout
        assert "changes:    200 create, 3,000 update, 0 unchanged" in dry.stdout
        assert "update     E2J-00001  price: 1.10 → 1.55" in dry.stdout
        assert f"product-importer apply {preview_id}" in dry.stdout
        assert price(api, "E2J-00001") == "1.10"
        assert api.get("/api/products/E2J-03100").status_code == 404

        # apply: a new import of the same file, completed with the preview's counts
        applied = cli("apply", preview_id, "--api", stack.api)
        assert applied.returncode == 0, applied.stdout + applied.stderr
        applied_id = import_id_of(applied)
        assert "status:     completed" in applied.stdout
        assert counts(api.get(f"/api/imports/{applied_id}").json()) == counts(
            api.get(f"/api/imports/{preview_id}").json())
        assert price(api, "E2J-00001") == "1.55"

        # revert: the products are back, exit 0
        reverted = cli("revert", applied_id, "--api", stack.api)
        assert reverted.returncode == 0, reverted.stdout + reverted.stderr
        assert "3,000 restored, 200 deleted, 0 conflicts" in reverted.stdout
        assert price(api, "E2J-00001") == "1.10" and api.get("/api/products/E2J-03100").status_code == 404
        assert api.get(f"/api/imports/{applied_id}").json()["status"] == "reverted"

        # the receiver got one of each event, signed per Standard Webhooks
        deadline = time.monotonic() + 30
        while not receiver.events("import.reverted") and time.monotonic() < deadline:
            time.sleep(0.2)
        [(headers, body)] = receiver.events("import.previewed")
        assert standardwebhooks.Webhook(SECRET).verify(body, headers)["import"]["id"] == preview_id
        [(headers, body)] = receiver.events("import.reverted")
        assert standardwebhooks.Webhook(SECRET).verify(body, headers)["import"]["id"] == applied_id
    finally:
        api.delete(f"/api/webhooks/{hook.json()['id']}")
        receiver.close()


def test_a_revert_while_a_later_import_runs_reports_conflicts_and_exits_3(stack: RunningStack, tmp_path: Path) -> None:
    api = httpx.Client(base_url=stack.api, timeout=30)
    first = cli("import", str(write(tmp_path / "x.csv", "E2R", 20_000, price="{n}.11")), "--api", stack.api)
    assert first.returncode == 0, first.stdout + first.stderr
    x = import_id_of(first)
    later = subprocess.Popen([str(Path(sys.executable).parent / "product-importer"), "import",
                              str(write(tmp_path / "y.csv", "E2R", 20_000, price="{n}.22")), "--api", stack.api],
                             env=clean_environment(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not any(i["filename"] == "y.csv" and i["chunks_done"] >= 1
                  for i in api.get("/api/imports", params={"limit": 5}).json()["items"]):
        assert time.monotonic() < deadline, "the later import never started"
        time.sleep(0.1)

    run = cli("revert", x, "--api", stack.api)
    out, err = later.communicate(timeout=300)

    assert later.returncode == 0, out + err
    assert run.returncode == 3, run.stdout + run.stderr
    assert "conflicts" in run.stdout and "left as they are (written since by a later import or an edit):" in run.stdout
    for n in (1, 9_999, 20_000):
        assert price(api, f"E2R-{n:05d}") == f"{n}.22"  # the later import's values win


def test_a_replace_over_its_cap_is_held_confirmed_and_undone(stack: RunningStack, tmp_path: Path) -> None:
    api = httpx.Client(base_url=stack.api, timeout=30)
    assert cli("import", str(write(tmp_path / "all.csv", "E2P", 1_000)), "--api", stack.api).returncode == 0
    run = cli("import", str(write(tmp_path / "half.csv", "E2P", 500)), "--replace", "--max-deactivate", "5",
              "--api", stack.api)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "replace:    held" in run.stdout
    import_id = import_id_of(run)
    assert api.get("/api/products/E2P-00900").json()["active"] is True

    confirmed = api.post(f"/api/imports/{import_id}/replace", params={"confirm": "true"})
    assert confirmed.status_code == 202, confirmed.text
    deadline = time.monotonic() + 60
    while api.get(f"/api/imports/{import_id}").json()["replace"]["status"] != "done":
        assert time.monotonic() < deadline, "the confirmed replace never finished"
        time.sleep(0.2)
    assert api.get("/api/products/E2P-00900").json()["active"] is False
    status = cli("status", import_id, "--api", stack.api, "--json")
    assert json.loads(status.stdout)["products_deactivated"] >= 500

    undone = cli("revert", import_id, "--api", stack.api)
    assert undone.returncode == 0, undone.stdout + undone.stderr
    assert api.get("/api/products/E2P-00900").json()["active"] is True
