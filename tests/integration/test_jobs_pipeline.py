"""Preview, apply, revert and replace through the whole local stack (issues 13 and 14): the API starts them,
the splitter and the consumers do them, the progress store ends them once, the broadcaster and the finisher
make their WebSocket updates and webhook events — and the catalog in PostgreSQL is what CONTRACT §2 says."""

from __future__ import annotations

import json
import threading
import time
import unicodedata
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
import standardwebhooks
from product_importer import cli
from product_importer.imports.store import ImportRequests
from product_importer.models import RevertRequest, utcnow
from websockets.sync.client import connect

from tests.integration.stack_fixture import PipelineStack, running_pipeline, unique
from tests.integration.test_live_progress import subscribe, websocket_url
from tests.integration.test_webhooks import Receiver, create, wait
from tests.pg import EmbeddedDatabases

pytestmark = pytest.mark.slow

CHUNK_ROWS = 500
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SETTLED = ("completed", "failed", "previewed", "reverted")


@pytest.fixture(scope="module")
def pipeline(databases: EmbeddedDatabases, tmp_path_factory: pytest.TempPathFactory) -> Iterator[PipelineStack]:
    with running_pipeline(
        databases,
        Path(tmp_path_factory.mktemp("jobs")),
        chunk_rows=CHUNK_ROWS,
        visibility_overrides={"chunks": 2, "object-events": 5, "webhooks": 2},
        extra_env={"WEBHOOKS_RETRY_BASE_S": "0.5", "WEBHOOKS_TIMEOUT_S": "2"},
    ) as stack:
        yield stack


# -- helpers --------------------------------------------------------------------------------------------------


def catalog(prefix: str, count: int, *, price: str = "{n}.10", start: int = 1, bad: set[int] | None = None,
            name: str = "Product {n}") -> bytes:
    lines = ["sku,name,price,quantity\n"]
    for n in range(start, start + count):
        cell = "-1" if bad and n in bad else price.format(n=n)
        lines.append(f"{prefix}-{n:05d},{name.format(n=n)},{cell},{n % 7}\n")
    return "".join(lines).encode()


def start(pipeline: PipelineStack, data: bytes, filename: str = "jobs.csv", **options: Any) -> str:
    """POST /api/imports with options, then the presigned POST of the file: the import's id."""
    reply = pipeline.api.post("/api/imports", json={"filename": filename, "size": len(data), **options})
    assert reply.status_code == 201, reply.text
    created = reply.json()
    upload = created["upload"]
    sent = httpx.post(upload["url"], data=upload["fields"], files={"file": (filename, data, "text/csv")}, timeout=60)
    assert sent.status_code in (200, 201, 204), sent.text
    import_id: str = created["import"]["id"]
    return import_id


def settled(pipeline: PipelineStack, import_id: str, timeout_s: float = 90) -> dict[str, Any]:
    return pipeline.wait_for(import_id, timeout_s=timeout_s, until=lambda imp: imp["status"] in SETTLED)


def imported(pipeline: PipelineStack, data: bytes, **options: Any) -> dict[str, Any]:
    imp = settled(pipeline, start(pipeline, data, **options))
    assert imp["status"] in ("completed", "previewed"), imp
    return imp


def products(pipeline: PipelineStack, prefix: str) -> dict[str, tuple[Any, ...]]:
    """sku suffix → (name, price, quantity, active) of the live (not deleted) products of a prefix."""
    rows = pipeline.sql("SELECT sku, name, price, quantity, active FROM products WHERE sku_key LIKE %s AND NOT deleted",
                        (prefix.lower() + "-%",))
    return {sku.split("-", 1)[1]: (name, price, quantity, active) for sku, name, price, quantity, active in rows}


def versions(pipeline: PipelineStack, prefix: str) -> list[tuple[Any, ...]]:
    return pipeline.sql("SELECT * FROM products WHERE sku_key LIKE %s ORDER BY sku_key", (prefix.lower() + "-%",))


def counts(imp: dict[str, Any]) -> tuple[int, ...]:
    return tuple(imp[k] for k in ("rows_total", "rows_processed", "rows_imported", "rows_failed", "rows_skipped",
                                  "products_created", "products_updated", "products_unchanged",
                                  "products_deactivated", "chunks_total", "chunks_done"))


def assert_no_transaction_left_open(pipeline: PipelineStack, within_s: float = 5) -> None:
    """No connection stays idle in a transaction: one seen between two statements of a job still running
    (the finisher refreshing search) is over within seconds; a transaction left open stays."""
    deadline = time.monotonic() + within_s
    while True:
        open_ = pipeline.sql("SELECT pid, query FROM pg_stat_activity WHERE state = 'idle in transaction'"
                             " AND datname = current_database()")
        if not open_ or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert not open_


def revert(pipeline: PipelineStack, import_id: str) -> dict[str, Any]:
    reply = pipeline.api.post(f"/api/imports/{import_id}/revert")
    assert reply.status_code == 202, reply.text
    return settled(pipeline, import_id)


def run_cli(pipeline: PipelineStack, *args: str) -> int:
    return cli.main([*args, "--api", pipeline.stack.config.api_url])


# -- preview and apply ----------------------------------------------------------------------------------------------


def test_a_preview_writes_no_product_and_its_apply_equals_a_direct_import(pipeline: PipelineStack) -> None:
    # given two identical catalogs under two prefixes
    a, b = unique("PVA"), unique("PVB")
    for prefix in (a, b):
        imported(pipeline, catalog(prefix, 1_500))

    def changed(prefix: str) -> bytes:  # every third price changes, 200 new products, 2 bad rows
        lines = ["sku,name,price,quantity\n"]
        for n in range(1, 1_701):
            price = "-1" if n in (5, 1_600) else (f"{n}.99" if n % 3 == 0 else f"{n}.10")
            lines.append(f"{prefix}-{n:05d},Product {n},{price},{n % 7}\n")
        return "".join(lines).encode()

    before = versions(pipeline, a)

    # when the file is previewed under the first prefix
    preview = imported(pipeline, changed(a), mode="preview")

    # then it ended previewed, counted what an import would do, and wrote no product (row level)
    assert preview["status"] == "previewed" and preview["mode"] == "preview"
    assert versions(pipeline, a) == before
    assert (preview["rows_total"], preview["rows_failed"]) == (1_700, 2)
    assert (preview["products_created"], preview["products_updated"], preview["products_unchanged"]) == (199, 500, 999)
    summary = pipeline.api.get(f"/api/imports/{preview['id']}/changes/summary").json()
    assert (summary["create"], summary["update"], summary["unchanged"]) == (
        preview["products_created"], preview["products_updated"], preview["products_unchanged"])
    assert summary["fields"] == {"price": preview["products_updated"]}

    # when it is applied, and the same file is imported directly under the second prefix
    reply = pipeline.api.post(f"/api/imports/{preview['id']}/apply")
    assert reply.status_code == 201, reply.text
    applied = settled(pipeline, reply.json()["import"]["id"])
    direct = imported(pipeline, changed(b))

    # then the applied import completed with the preview's counts, which are the direct import's
    assert applied["status"] == "completed" and applied["preview_of"] == preview["id"]
    assert pipeline.get_import(preview["id"])["applied_as"] == applied["id"]
    assert counts(applied) == counts(preview) == counts(direct)
    assert products(pipeline, a) == products(pipeline, b)
    assert products(pipeline, a)["00003"][1] == Decimal("3.99")  # a changed price landed
    assert pipeline.api.post(f"/api/imports/{preview['id']}/apply").status_code == 409  # applied once


def test_max_errors_stops_the_import_with_too_many_row_errors(pipeline: PipelineStack) -> None:
    prefix = unique("MAXE")
    imp = settled(pipeline, start(pipeline, catalog(prefix, 3_000, bad={10, 20, 700, 1_800, 2_900}), max_errors=2))

    assert (imp["status"], imp["error"]) == ("failed", "too many row errors")
    assert imp["rows_failed"] > 2 and imp["rows_processed"] < 3_000  # it stopped; what was committed stays
    assert len(products(pipeline, prefix)) == imp["rows_imported"]


# -- revert ------------------------------------------------------------------------------------------------------


def test_reverting_an_update_import_gives_the_products_back(pipeline: PipelineStack,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    prefix = unique("RVU")
    word = prefix.lower()
    imported(pipeline, catalog(prefix, 1_200, name="Product {n} " + word + "old"))
    before = products(pipeline, prefix)
    update = imported(pipeline, catalog(prefix, 1_300, price="{n}.77", name="Product {n} " + word + "new"))
    # (1 200 updates, 100 creates)

    code = run_cli(pipeline, "revert", update["id"])

    assert code == 0
    out = capsys.readouterr().out
    assert "1,200 restored, 100 deleted, 0 conflicts" in out
    imp = pipeline.get_import(update["id"])
    assert imp["status"] == "reverted" and imp["reverted_at"]
    assert {k: imp["revert"][k] for k in ("restored", "deleted", "conflicts", "status", "previous_status")} == {
        "restored": 1_200, "deleted": 100, "conflicts": 0, "status": "done", "previous_status": "completed"}
    assert products(pipeline, prefix) == before
    assert pipeline.api.post(f"/api/imports/{update['id']}/revert").status_code == 409  # once

    # and word search finds the products by their restored names once the finisher has refreshed them
    def found(q: str) -> int:
        reply = pipeline.api.get("/api/products", params={"q": q, "limit": 100})
        assert reply.status_code == 200, reply.text
        return len(reply.json()["items"])

    deadline = time.monotonic() + 30
    while (found(word + "old"), found(word + "new")) != (100, 0) and time.monotonic() < deadline:
        time.sleep(0.25)
    assert (found(word + "old"), found(word + "new")) == (100, 0)


def test_a_revert_while_a_later_import_of_the_same_skus_runs_keeps_the_later_values(
        pipeline: PipelineStack, capsys: pytest.CaptureFixture[str]) -> None:
    # given an import X of 6 000 products (two revert chunks), and a later import Y of the same SKUs starting
    prefix, rows = unique("RVR"), 6_000
    x = imported(pipeline, catalog(prefix, rows, price="{n}.11"))
    y_id = start(pipeline, catalog(prefix, rows, price="{n}.22"), filename="later.csv")
    pipeline.wait_for(y_id, until=lambda imp: imp["chunks_done"] >= 1)
    y_running = pipeline.get_import(y_id)["status"] == "processing"

    # when X is reverted while Y runs
    code = run_cli(pipeline, "revert", x["id"])
    y = settled(pipeline, y_id)

    # then Y's values win everywhere, every product of X is restored or reported, and the CLI says so
    assert y_running and y["status"] == "completed"
    reverted = pipeline.get_import(x["id"])
    assert reverted["status"] == "reverted"
    assert all(price == Decimal(f"{int(sku)}.22") for sku, (_n, price, _q, _a) in products(pipeline, prefix).items())
    assert len(products(pipeline, prefix)) == rows
    summary = reverted["revert"]
    assert summary["conflicts"] >= 1 and summary["deleted"] + summary["restored"] + summary["conflicts"] <= rows
    conflicts, cursor = [], None
    while True:
        page = pipeline.api.get(f"/api/imports/{x['id']}/revert/conflicts",
                                params={"limit": 500, **({"cursor": cursor} if cursor else {})}).json()
        conflicts += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(conflicts) == summary["conflicts"]
    assert {c["changed_by"]["import_id"] for c in conflicts} == {y_id}
    assert code == 3 and f"{summary['conflicts']:,} conflicts" in capsys.readouterr().out


def test_a_revert_chunk_that_dead_letters_fails_the_revert_and_the_import_keeps_its_status(
        pipeline: PipelineStack) -> None:
    # given a completed import whose revert was started, but that PostgreSQL never planned (a poison job)
    prefix = unique("RVD")
    done = imported(pipeline, catalog(prefix, 100))
    requests = ImportRequests(pipeline.resources.progress_table, pipeline.dynamodb)
    at = utcnow()
    assert requests.start_revert(done["id"], from_status="completed", requested_at=at) is not None

    # when its revert chunk fails every delivery
    pipeline.send("chunks", RevertRequest(import_id=done["id"], requested_at=at, chunk_no=0,
                                          chunks_total=1).model_dump(mode="json"))
    imp = pipeline.wait_for(done["id"], timeout_s=90, until=lambda i: (i["revert"] or {}).get("status") == "failed")

    # then the revert is failed, and the import is back to what it was, with its products
    assert imp["status"] == "completed"
    assert "revert the import again" in imp["revert"]["error"]
    assert len(products(pipeline, prefix)) == 100


# -- replace ------------------------------------------------------------------------------------------------------


def test_a_replace_under_the_cap_deactivates_before_the_import_completes(pipeline: PipelineStack) -> None:
    acme, other = unique("RPA"), unique("RPO")
    imported(pipeline, catalog(acme, 1_000), partner="acme")
    imported(pipeline, catalog(other, 300), partner="other")

    imp = imported(pipeline, catalog(acme, 950), partner="acme",
                   replace={"scope": "partner", "max_deactivate_percent": 10})

    assert imp["status"] == "completed" and imp["replace"]["status"] == "done"
    assert imp["products_deactivated"] == 50
    live = products(pipeline, acme)
    assert sorted(s for s, (*_x, active) in live.items() if not active) == [f"{n:05d}" for n in range(951, 1_001)]
    assert all(active for *_x, active in products(pipeline, other).values())  # another partner's are left alone


def test_an_older_imports_late_rows_that_a_replace_deactivates_count_on_the_replace(pipeline: PipelineStack) -> None:
    """CONTRACT §2: ``products_*`` count exactly one change record each. Found by a tester: an older import's
    file arriving after a newer replace completed created a product the replace then deactivated (creation
    order), with a ``deactivate`` record of the replace, while the replace's ``products_deactivated`` said 0."""
    prefix = unique("RPL")
    partner = prefix.lower()  # (scope partner: other tests' products are not in it)
    imported(pipeline, catalog(prefix, 10), partner=partner)
    reply = pipeline.api.post("/api/imports", json={"filename": "older.csv", "partner": partner})
    assert reply.status_code == 201, reply.text
    older = reply.json()["import"]["id"]  # created first, its file comes last
    replace = imported(pipeline, catalog(prefix, 10), partner=partner,
                       replace={"scope": "partner", "max_deactivate_percent": 50})
    assert replace["products_deactivated"] == 0

    pipeline.put_upload(older, catalog(prefix, 2, start=11))
    settled(pipeline, older)

    assert sorted(s for s, (*_x, active) in products(pipeline, prefix).items() if not active) == ["00011", "00012"]
    done = pipeline.wait_for(replace["id"], until=lambda i: i["products_deactivated"] == 2)
    assert done["status"] == "completed"
    summary = pipeline.api.get(f"/api/imports/{replace['id']}/changes/summary").json()
    assert summary["deactivate"] == done["products_deactivated"] == 2


def test_a_replace_over_the_cap_is_held_carried_out_once_confirmed_and_a_revert_reactivates(
        pipeline: PipelineStack) -> None:
    prefix = unique("RPH")
    imported(pipeline, catalog(prefix, 800), partner="held")

    imp = imported(pipeline, catalog(prefix, 400), partner="held", replace={"scope": "partner"})

    assert imp["status"] == "completed" and imp["replace"]["status"] == "held"
    assert imp["products_deactivated"] == 0 and "replace held" in imp["warnings"][-1]
    assert all(active for *_x, active in products(pipeline, prefix).values())

    reply = pipeline.api.post(f"/api/imports/{imp['id']}/replace", params={"confirm": "true"})
    assert reply.status_code == 202, reply.text
    done = pipeline.wait_for(imp["id"], until=lambda i: i["replace"]["status"] == "done")
    assert done["products_deactivated"] == 400 and done["status"] == "completed"
    assert sum(1 for *_x, active in products(pipeline, prefix).values() if not active) == 400
    assert pipeline.api.post(f"/api/imports/{imp['id']}/replace", params={"confirm": "true"}).status_code == 409
    # The job left no transaction open: an edit of a product it deactivated answers at once.
    assert_no_transaction_left_open(pipeline)
    edited = pipeline.api.patch(f"/api/products/{prefix}-00001", json={"quantity": 5}, timeout=10)
    assert edited.status_code == 200, edited.text

    reverted = revert(pipeline, imp["id"])
    assert reverted["status"] == "reverted"
    assert all(active for *_x, active in products(pipeline, prefix).values())


def test_a_drop_replaces_with_the_options_of_the_saved_mapping_bound_to_its_prefix(pipeline: PipelineStack) -> None:
    partner = unique("rpd").lower()
    prefix, bad = unique("RPD"), unique("RPDX")
    saved = pipeline.api.post("/api/mappings", json={
        "name": f"{partner} feed", "mapping": {"Item": "sku", "Title": "name"}, "prefix": f"incoming/{partner}/",
        "replace": {"scope": "partner", "max_deactivate_percent": 30}})
    assert saved.status_code == 201, saved.text

    def feed(count: int, *, failed: int | None = None) -> bytes:
        rows = "".join(f"{prefix}-{n:03d},Widget {n},{'-1' if n == failed else '1.00'}\n" for n in range(1, count + 1))
        return ("Item,Title,price\n" + rows).encode()

    pipeline.drop(f"incoming/{partner}/day1.csv", feed(10))
    [first] = pipeline.wait_for_import_of("day1.csv")
    assert settled(pipeline, first["id"])["products_created"] == 10
    pipeline.drop(f"incoming/other-{partner}/x.csv", catalog(bad, 5))  # another partner's products
    [other] = pipeline.wait_for_import_of("x.csv")
    settled(pipeline, other["id"])

    pipeline.drop(f"incoming/{partner}/day2.csv", feed(8, failed=8))  # 9 and 10 are gone; 8 is a failed row

    [second] = pipeline.wait_for_import_of("day2.csv")
    done = settled(pipeline, second["id"])
    assert done["replace"] == {"scope": "partner", "max_deactivate_percent": 30, "status": "done"}
    assert (done["products_deactivated"], done["rows_failed"]) == (2, 1)
    live = products(pipeline, prefix)
    assert sorted(s for s, (*_x, active) in live.items() if not active) == ["009", "010"]
    assert all(active for *_x, active in products(pipeline, bad).values())


def test_a_drop_in_a_mac_made_folder_finds_the_mapping_of_its_partner(pipeline: PipelineStack) -> None:
    """CONTRACT §4: "Müller GmbH" typed in the UI is NFC; the same folder created on a Mac arrives in the S3 key
    decomposed (u + U+0308). The drop is that partner's, and its prefix mapping applies."""
    partner = f"Müller {unique('GmbH')}"
    prefix = unique("MAC")
    saved = pipeline.api.post("/api/mappings", json={
        "name": partner, "mapping": {"Artikel": "sku", "Bezeichnung": "name"}, "prefix": f"incoming/{partner}/"})
    assert saved.status_code == 201, saved.text

    pipeline.drop(unicodedata.normalize("NFD", f"incoming/{partner}/2026/katalog.csv"),
                  f"Artikel,Bezeichnung\n{prefix}-1,Stuhl\n".encode())

    [imp] = pipeline.wait_for_import_of("katalog.csv")
    done = settled(pipeline, imp["id"])
    assert done["status"] == "completed", done["error"]
    assert done["partner"] == partner and done["mapping"]["id"] == saved.json()["id"]
    assert list(products(pipeline, prefix)) == ["1"]


# -- what subscribers and webhooks see ------------------------------------------------------------------------------


def test_previewed_and_reverted_are_delivered_once_each_signed_and_broadcast(pipeline: PipelineStack) -> None:
    receiver = Receiver()
    hook = create(pipeline, url=receiver.url, secret=SECRET, events=["import.previewed", "import.reverted"])
    seen: list[dict[str, Any]] = []
    stop = threading.Event()
    try:
        with connect(websocket_url(pipeline)) as ws:
            subscribe(pipeline, ws, "*")

            def listen() -> None:
                while not stop.is_set():
                    try:
                        seen.append(json.loads(ws.recv(timeout=0.5))["import"])
                    except TimeoutError:
                        continue
                    except Exception:
                        return

            listener = threading.Thread(target=listen, daemon=True)
            listener.start()
            prefix = unique("HOOK")
            preview = imported(pipeline, catalog(prefix, 600), mode="preview")
            applied = settled(pipeline, pipeline.api.post(f"/api/imports/{preview['id']}/apply").json()["import"]["id"])
            reverted = revert(pipeline, applied["id"])
            wait(lambda: receiver.events("import.reverted"), what="the import.reverted delivery")
            time.sleep(1.5)  # room for a duplicate, or a late broadcast, to show up
            stop.set()
            listener.join(timeout=5)
    finally:
        pipeline.api.delete(f"/api/webhooks/{hook['id']}")
        receiver.close()

    def mine(event: str, import_id: str) -> list[tuple[dict[str, str], bytes]]:
        return [(h, b) for h, b in receiver.events(event) if json.loads(b)["import"]["id"] == import_id]

    [(headers, body)] = mine("import.previewed", preview["id"])
    event = standardwebhooks.Webhook(SECRET).verify(body, headers)
    assert event["type"] == "import.previewed" and event["import"]["status"] == "previewed"
    [(headers, body)] = mine("import.reverted", applied["id"])
    event = standardwebhooks.Webhook(SECRET).verify(body, headers)
    assert event["import"]["status"] == "reverted" and event["import"]["revert"]["deleted"] == 600
    assert reverted["revert"]["deleted"] == 600
    assert not receiver.events("import.completed")  # not subscribed
    statuses = {(i["id"], i["status"]) for i in seen}
    assert {(preview["id"], "previewed"), (applied["id"], "completed"), (applied["id"], "reverting"),
            (applied["id"], "reverted")} <= statuses


# -- last: they change the whole catalog ---------------------------------------------------------------------------


def test_a_confirmed_replace_after_delete_all_leaves_no_transaction_open(pipeline: PipelineStack) -> None:
    """Found by a tester: after delete-all, products made by hand, and a held replace of scope all that is
    confirmed, edits of those products hung (a worker stayed idle in a transaction holding their search rows)."""
    assert pipeline.api.delete("/api/products", params={"confirm": "true"}).status_code == 200
    prefix = unique("RPK")
    for n in (1, 2, 3):
        assert pipeline.api.put(f"/api/products/{prefix}-{n}", json={"name": "by hand"}).status_code == 201
    imp = imported(pipeline, f"sku,name\n{prefix}-1,r\n".encode(), replace={"scope": "all", "max_deactivate_percent": 10})
    assert imp["replace"]["status"] == "held"
    assert pipeline.api.post(f"/api/imports/{imp['id']}/replace", params={"confirm": "true"}).status_code == 202
    pipeline.wait_for(imp["id"], until=lambda i: i["replace"]["status"] == "done")
    assert_no_transaction_left_open(pipeline)
    for n in (1, 2):
        edited = pipeline.api.patch(f"/api/products/{prefix}-{n}", json={"quantity": 1}, timeout=10)
        assert edited.status_code == 200, edited.text
