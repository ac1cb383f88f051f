"""CONTRACT §2 "Replace" at the database layer: products in scope missing from the file are deactivated,
recorded as changes, counted, and reactivated by a revert."""

from __future__ import annotations

import psycopg
import pytest
from product_importer.db.chunks import next_import_number, upsert_chunk
from product_importer.db.registry import register_import
from product_importer.db.replace import deactivate_missing, plan_replace
from product_importer.ingest.rows import RowError

from tests.integration.catalog_model import catalog_of, make_row, revert


def _import(conn: psycopg.Connection, import_id: str, skus: list[str], *, partner: str | None = None,
            replace: str | None = None, failed: tuple[str, ...] = (), mode: str = "import") -> None:
    register_import(conn, import_id, import_no=(no := next_import_number(conn)), partner=partner,
                    replace_scope=replace, mode=mode)  # type: ignore[arg-type]
    rows = [make_row(i + 1, sku, f"name {sku}", {"price": "1.00"}, None) for i, sku in enumerate(skus)]
    errors = [RowError(len(rows) + i + 1, sku, "price", "price must be a decimal", "x") for i, sku in enumerate(failed)]
    upsert_chunk(conn, import_id=import_id, import_no=no, chunk_no=0, present_fields={"price"}, rows=rows,
                 errors=errors, rows_seen=len(rows) + len(errors), mode=mode)  # type: ignore[arg-type]


def _active(conn: psycopg.Connection) -> dict[str, bool]:
    rows = conn.execute("SELECT sku_key, active FROM products WHERE NOT deleted ORDER BY 1").fetchall()
    conn.rollback()
    return dict(rows)


def test_a_partner_replace_deactivates_only_that_partners_missing_products(conn: psycopg.Connection) -> None:
    _import(conn, "acme-1", ["A", "B", "C", "D"], partner="acme")
    _import(conn, "other-1", ["X", "Y"], partner="other")
    _import(conn, "acme-2", ["A"], partner="acme", replace="partner", failed=("b",))

    assert plan_replace(conn, "acme-2", scope="partner", partner="acme").__dict__ == {"in_scope": 4,
                                                                                      "would_deactivate": 2}
    steps = []
    after = None
    while True:
        step = deactivate_missing(conn, "acme-2", scope="partner", partner="acme", after=after, limit=2)
        steps.append(step)
        if step.next_after is None:
            break
        after = step.next_after

    assert sum(s.deactivated for s in steps) == 2 and steps[-1].products_deactivated == 2
    assert _active(conn) == {"a": True, "b": True, "c": False, "d": False, "x": True, "y": True}
    # idempotent: a second pass deactivates (and counts) nothing more
    assert deactivate_missing(conn, "acme-2", scope="partner", partner="acme").products_deactivated == 2
    changes = conn.execute("SELECT sku_key, action, changes FROM changes c JOIN import_registry r"
                           " USING (import_no) WHERE r.import_id = 'acme-2' ORDER BY 1").fetchall()
    assert changes[1:] == [
                           ("c", "d", {"active": [True, False]}), ("d", "d", {"active": [True, False]})]
    assert conn.execute("SELECT products_deactivated FROM import_totals WHERE import_id = 'acme-2'").fetchone() == (2,)

    # a revert of the replacing import reactivates them
    totals = revert(conn, "acme-2")
    assert totals.restored == 2
    assert _active(conn) == {"a": True, "b": True, "c": True, "d": True, "x": True, "y": True}


def test_scope_all_and_a_previews_planned_deactivations(conn: psycopg.Connection) -> None:
    _import(conn, "first", ["A", "B", "C"])
    _import(conn, "preview", ["A"], replace="all", mode="preview")
    step = deactivate_missing(conn, "preview", scope="all")
    assert (step.deactivated, step.next_after) == (2, None)
    assert all(_active(conn).values())  # a preview writes no product
    _import(conn, "real", ["A"], replace="all")
    assert deactivate_missing(conn, "real", scope="all").deactivated == 2
    assert _active(conn) == {"a": True, "b": False, "c": False}
    assert catalog_of(conn)["b"]["active"] is False


def test_scope_partner_needs_a_partner(conn: psycopg.Connection) -> None:
    _import(conn, "first", ["A"])
    with pytest.raises(ValueError):
        plan_replace(conn, "first", scope="partner")


def test_a_replace_deactivates_nothing_once_its_imports_revert_is_planned(conn: psycopg.Connection) -> None:
    # A deactivation after the revert's plan would escape it: nothing could reactivate the product
    from product_importer.db.registry import finish_import
    from product_importer.db.replace import ReplaceRefusedError
    from product_importer.db.revert import plan_revert

    _import(conn, "first", ["A", "B"])
    _import(conn, "second", ["A"], replace="all")
    finish_import(conn, "second", "completed")
    conn.commit()
    plan_revert(conn, "second")

    with pytest.raises(ReplaceRefusedError):
        deactivate_missing(conn, "second", scope="all")
    conn.rollback()
    assert _active(conn) == {"a": True, "b": True}


@pytest.mark.parametrize("scope", ["all", "partner"])
def test_products_created_by_a_later_import_are_not_in_a_replaces_scope(conn: psycopg.Connection, scope: str) -> None:
    """Found by a tester: a held replace confirmed after a later import deactivated that import's new
    products for good (a revert of the replace listed them as conflicts). In creation order they did not
    exist when the replace ran (CONTRACT §1: the catalog ends as the imports one by one)."""
    partner = "acme" if scope == "partner" else None
    _import(conn, "first", ["A", "B", "C"], partner=partner)
    _import(conn, "replacing", ["A"], partner=partner, replace=scope)
    _import(conn, "later", ["NEW"], partner=partner)  # created after "replacing", processed before its replace
    _import(conn, "later-other", ["OTHER"], partner="other")

    assert plan_replace(conn, "replacing", scope=scope, partner=partner).__dict__ == {  # type: ignore[arg-type]
        "in_scope": 3, "would_deactivate": 2}
    assert deactivate_missing(conn, "replacing", scope=scope, partner=partner).deactivated == 2  # type: ignore[arg-type]
    assert _active(conn) == {"a": True, "b": False, "c": False, "new": True, "other": True}

    totals = revert(conn, "replacing")
    assert (totals.restored, totals.conflicts) == (2, 0)  # A was unchanged: its version only
    assert all(_active(conn).values())


def test_an_edit_made_while_a_replace_was_held_does_not_keep_its_deactivation_after_a_revert(
        conn: psycopg.Connection) -> None:
    # Found by a newcomer: P9 edited (its name) while the replace waited for its confirmation, then deactivated
    # by it; the revert kept P9 deactivated, "changed by an edit" made before the deactivation
    from product_importer.products import repository

    _import(conn, "first", ["P8", "P9", "P10"], partner="acme")
    _import(conn, "replacing", ["P1"], partner="acme", replace="partner")
    repository.patch_product(conn, "P9", {"name": "P9 by hand"})  # before the replace is carried out
    assert deactivate_missing(conn, "replacing", scope="partner", partner="acme").deactivated == 3
    repository.patch_product(conn, "P10", {"name": "P10 by hand"})  # after it: a change since
    conn.commit()

    totals = revert(conn, "replacing")

    assert (totals.restored, totals.conflicts) == (2, 1)
    assert _active(conn) == {"p8": True, "p9": True, "p10": False}  # (P1, the replace's own, is gone)
    assert catalog_of(conn)["p9"]["name"] == "P9 by hand"


def test_a_replace_step_looks_each_product_up_by_sku_even_without_statistics(conn: psycopg.Connection) -> None:
    """Right after a big import (``changes`` not analysed since), a step of the replace compared every product
    of the step with every change record of the import (an anti-join on the import's number alone, SKUs in
    a join filter): a step after a 1.8M-row catalog ran for minutes, past the consumer's timeout, on every
    retry. Each product must be looked up by (import, SKU), statistics or not."""
    from product_importer.db.replace import _scope, step_candidates

    conn.execute("ALTER TABLE changes SET (autovacuum_enabled = false)")
    conn.execute("ALTER TABLE products SET (autovacuum_enabled = false)")
    conn.execute("INSERT INTO changes (import_no, sku_key, action)"
                 " SELECT 7, 'sku-' || lpad(g::text, 6, '0'), 'c' FROM generate_series(1, 20000) g")
    conn.commit()
    where, params = _scope("all", None)
    plan = "\n".join(r[0] for r in conn.execute(
        f"EXPLAIN SELECT p.sku_key FROM products p WHERE {step_candidates(where)}",
        {**params, "after": "a", "last": "z", "no": 7}).fetchall())
    scans = [line for line in plan.splitlines() if "Index Cond" in line and "import_no" in line]
    assert scans and all("sku_key" in line for line in scans), plan
