"""The audit trail through the API, on core's change records: an import's (or preview's) changes and their
summary, a product's history, a revert's conflicts; a discarded preview's changes go with it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from product_importer.db.revert import revert_chunk
from product_importer.models import ImportStatus

from tests.integration.api_harness import ApiHarness, api_harness


@pytest.fixture
def api(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[ApiHarness]:
    with api_harness(database_url, monkeypatch) as harness:
        yield harness


def pages(api: ApiHarness, path: str, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    for _ in range(50):
        reply = api.client.get(path, params={**params, **({"cursor": cursor} if cursor else {})})
        assert reply.status_code == 200, reply.text
        items += reply.json()["items"]
        cursor = reply.json()["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError("paging did not end")


def catalog_then_preview(api: ApiHarness) -> str:
    first = api.put_import(status=ImportStatus.COMPLETED)
    api.import_rows(first, [("A-1", "chair", "10.00"), ("B-1", "table", "20.00"), ("C-1", "lamp", "5.00")])
    preview = api.put_import(status=ImportStatus.PREVIEWED, mode="preview", finished_at="2099-01-01T00:00:00Z")
    api.import_rows(preview, [("A-1", "chair", "12.50"), ("B-1", "table", "20.00"), ("D-1", "desk", "150.00"),
                              ("D-2", "desk xl", "180.00")])
    return preview


def test_a_previews_planned_changes_page_by_sku_and_filter_by_action_and_prefix(api: ApiHarness) -> None:
    preview = catalog_then_preview(api)

    every = pages(api, f"/api/imports/{preview}/changes", limit=1)

    assert [(c["sku"], c["action"]) for c in every] == [("A-1", "update"), ("B-1", "unchanged"),
                                                        ("D-1", "create"), ("D-2", "create")]
    assert every[0]["changes"] == {"price": {"from": "10.00", "to": "12.50"}}
    assert every[2]["changes"] == {}
    creates = pages(api, f"/api/imports/{preview}/changes", action="create")
    assert [c["sku"] for c in creates] == ["D-1", "D-2"]
    assert [c["sku"] for c in pages(api, f"/api/imports/{preview}/changes", sku="d-")] == ["D-1", "D-2"]
    assert pages(api, f"/api/imports/{preview}/changes", action="deactivate") == []
    # the preview wrote no product
    assert [p["price"] for p in api.client.get("/api/products").json()["items"]] == ["10.00", "20.00", "5.00"]


def test_the_summary_counts_actions_and_changed_fields(api: ApiHarness) -> None:
    preview = catalog_then_preview(api)

    summary = api.client.get(f"/api/imports/{preview}/changes/summary").json()

    assert summary == {"create": 2, "update": 1, "unchanged": 1, "deactivate": 0, "fields": {"price": 1}}


@pytest.mark.parametrize("params", [{"action": "delete-all"}, {"cursor": "!!"}, {"cursor": "eyJrIjogMX0"},
                                    {"limit": 0}, {"limit": 501}, {"sku": "x" * 65}])
def test_changes_refuse_bad_parameters(api: ApiHarness, params: dict[str, Any]) -> None:
    preview = catalog_then_preview(api)

    response = api.client.get(f"/api/imports/{preview}/changes", params=params)

    assert response.status_code in (400, 422), response.text


def test_changes_of_an_unknown_import_are_404(api: ApiHarness) -> None:
    for path in ("changes", "changes/summary", "revert/conflicts"):
        assert api.client.get(f"/api/imports/nope/{path}").status_code == 404


def test_a_discarded_preview_takes_its_changes_along(api: ApiHarness) -> None:
    preview = catalog_then_preview(api)

    assert api.client.delete(f"/api/imports/{preview}").status_code == 204

    with api.connect() as conn:
        left = conn.execute("SELECT count(*) FROM changes c JOIN import_registry r USING (import_no)"
                            " WHERE r.import_id = %s", (preview,)).fetchone()
    assert left == (0,)
    assert api.client.get(f"/api/imports/{preview}/changes").status_code == 404


def test_an_applied_import_is_registered_in_postgresql_with_its_preview(api: ApiHarness) -> None:
    preview = catalog_then_preview(api)

    applied = api.client.post(f"/api/imports/{preview}/apply").json()["import"]

    with api.connect() as conn:
        row = conn.execute("SELECT mode, status, preview_of FROM import_registry WHERE import_id = %s",
                           (applied["id"],)).fetchone()
    assert row == ("import", "pending", preview)


def test_a_products_history_is_newest_first_and_marks_reverted_imports(api: ApiHarness) -> None:
    first = api.put_import(status=ImportStatus.COMPLETED)
    api.import_rows(first, [("A-1", "chair", "10.00")])
    second = api.put_import(status=ImportStatus.COMPLETED)
    api.import_rows(second, [("A-1", "chair", "12.00")])
    third = api.put_import(status=ImportStatus.COMPLETED)
    api.import_rows(third, [("A-1", "chair", "15.00")])
    assert api.client.post(f"/api/imports/{third}/revert").status_code == 202
    with api.connect() as conn:
        revert_chunk(conn, import_id=third, chunk_no=0)

    history = pages(api, "/api/products/a-1/history", limit=2)

    assert [(h["import_id"], h["action"], h["reverted"]) for h in history] == [
        (third, "update", True), (second, "update", False), (first, "create", False)]
    assert all(h["at"].endswith("Z") for h in history)
    assert api.client.get("/api/products/NOPE/history").status_code == 404
    assert api.client.get("/api/products/a-1/history", params={"cursor": "zz"}).status_code == 400


def test_a_reverts_conflicts_say_what_changed_the_product_since(api: ApiHarness) -> None:
    first = api.put_import(status=ImportStatus.COMPLETED)
    api.import_rows(first, [("A-1", "chair", "10.00"), ("B-1", "table", "20.00"), ("C-1", "lamp", "5.00")])
    later = api.put_import(status=ImportStatus.COMPLETED)
    api.import_rows(later, [("A-1", "chair", "11.00")])
    assert api.client.patch("/api/products/B-1", json={"price": "21.00"}).status_code == 200
    assert api.client.post(f"/api/imports/{first}/revert").status_code == 202
    with api.connect() as conn:
        revert_chunk(conn, import_id=first, chunk_no=0)

    conflicts = pages(api, f"/api/imports/{first}/revert/conflicts", limit=1)

    assert [(c["sku"], c["changed_by"]) for c in conflicts] == [("A-1", {"import_id": later}),
                                                               ("B-1", {"edit": True})]
    assert [p["sku"] for p in api.client.get("/api/products").json()["items"]] == ["A-1", "B-1"]
    # the history marks the revert where it gave the product back, not where it left the product alone
    assert [(h["import_id"], h["reverted"]) for h in pages(api, "/api/products/a-1/history", limit=5)] == [
        (later, False), (first, False)]
    assert [(h["import_id"], h["reverted"]) for h in pages(api, "/api/products/c-1/history", limit=5)] == [
        (first, True)]

    # Found by review: once the import that made A-1 a conflict is reverted too, A-1 is as if neither ran,
    # and the history marks both (the edit on B-1 stays: B-1's entry is not marked)
    assert api.client.post(f"/api/imports/{later}/revert").status_code == 202
    with api.connect() as conn:
        revert_chunk(conn, import_id=later, chunk_no=0)
    assert api.client.get("/api/products/A-1").status_code == 404
    assert [(h["import_id"], h["reverted"]) for h in pages(api, "/api/products/a-1/history", limit=5)] == [
        (later, True), (first, True)]
    assert [(h["import_id"], h["reverted"]) for h in pages(api, "/api/products/b-1/history", limit=5)][-1] == (
        first, False)


@pytest.mark.parametrize("sent", ["24.00", "24.0", "24", 24])
def test_an_edit_that_sends_the_same_price_records_no_price_change(api: ApiHarness, sent: Any) -> None:
    """Found in the UI: saving a product unchanged recorded "price 24.00 → 24.00" (text against a Decimal)."""
    first = api.put_import(status=ImportStatus.COMPLETED)
    api.import_rows(first, [("P-1", "chair", "24.00")])
    assert api.client.patch("/api/products/P-1", json={"price": sent, "quantity": 3}).status_code == 200

    (latest, *_rest) = pages(api, "/api/products/p-1/history")

    assert latest["action"] == "update" and set(latest["changes"]) == {"quantity"}, latest


def test_discarding_a_large_preview_answers_at_once_and_the_sweep_deletes_the_rest(
    api: ApiHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A preview of millions of rows has millions of change records: deleting them all within the request
    # outlasted the API's 29 s Lambda (API Gateway: 30 s). The request deletes a bounded batch (here 1 of 4).
    from product_importer.db import registry

    from functions.purge_undo.handler import handler as sweep
    from infra.local.events import LocalContext

    monkeypatch.setattr(registry, "DISCARD_BATCH_ROWS", 1)
    preview = catalog_then_preview(api)

    assert api.client.delete(f"/api/imports/{preview}").status_code == 204

    def left() -> int:
        with api.connect() as conn:
            row = conn.execute("SELECT count(*) FROM changes c JOIN import_registry r USING (import_no)"
                               " WHERE r.import_id = %s", (preview,)).fetchone()
        return int(row[0]) if row else 0

    assert left() == 3
    assert api.client.get(f"/api/imports/{preview}/changes").status_code == 404
    assert [h["action"] for h in api.client.get("/api/products/A-1/history").json()["items"]] == ["create"]
    # the scheduled sweep (purge_undo: EventBridge in AWS, the timer locally) deletes the rest
    with api.connect() as conn:
        result = sweep({"source": "aws.events"}, LocalContext("purge_undo"), connection=conn)
    assert result["discarded_changes"] == 3 and left() == 0
