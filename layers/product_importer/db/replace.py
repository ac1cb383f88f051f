"""Replace mode (CONTRACT §2 "Replace"): after every row of an import is committed, deactivate the
products in scope that its file did not contain (a SKU on a failed row counts as contained).

Scope ``all``: every product; ``partner``: products created by imports of that partner. A deactivation
is a write of ``active=false`` by the import itself (version after all its rows), recorded as a
``deactivate`` change record with undo data, so a revert of the import reactivates them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, cast

import psycopg

from product_importer.db.connection import planner_off
from product_importer.db.fields import GROUPS, STATE_COLUMNS
from product_importer.db.registry import settle
from product_importer.ports import ReplaceRefusedError

# (ReplaceRefusedError: a revert plans from the change records there are, so a deactivation after its plan
# would escape it)
__all__ = ["ReplacePlan", "ReplaceRefusedError", "ReplaceStep", "Scope", "deactivate_missing", "late_deactivations",
           "lock_late_replaces", "plan_replace"]

Scope = Literal["all", "partner"]
_UNDO_COLUMNS = [*STATE_COLUMNS, "last_import_id", "created_by_no", "updated_at"]


@dataclass(frozen=True)
class ReplacePlan:
    in_scope: int  # products in scope (existing, not deleted)
    would_deactivate: int  # active products in scope that the file does not contain


@dataclass(frozen=True)
class ReplaceStep:
    deactivated: int  # by this call
    next_after: str | None  # pass as ``after`` to continue; None when the whole scope is done
    products_deactivated: int  # the import's total so far


_DEACTIVATE_SHIFT = 0xFFFFFFFF  # a deactivation is the import's write after all its rows


# Products created by a later import are not in any replace's scope: replaying the imports one by one in
# creation order (CONTRACT §1), they did not exist yet when this one ran. (A product made by hand later
# has every field at a newer version, so the deactivation loses on ``active`` anyway.)
_EXISTED = "(p.created_by_no IS NULL OR p.created_by_no <= %(no)s)"


def _scope(scope: Scope, partner: str | None) -> tuple[str, dict[str, Any]]:
    if scope == "all":
        return _EXISTED, {}
    if scope != "partner" or not partner:
        raise ValueError("scope 'partner' needs a partner")
    return (f"{_EXISTED} AND p.created_by_no IN (SELECT import_no FROM import_registry WHERE partner = %(partner)s)",
            {"partner": partner})


_NOT_IN_FILE = (
    "NOT EXISTS (SELECT 1 FROM changes c WHERE c.import_no = %(no)s AND c.sku_key = p.sku_key)"
    " AND NOT EXISTS (SELECT 1 FROM failed_skus f WHERE f.import_no = %(no)s AND f.sku_key = p.sku_key)"
)
# The same test for one step's few thousand products: each product looked up by (import, SKU), whatever the
# statistics say. As an anti-join, right after the import committed its rows (``changes`` not analysed
# since, the import's number past its histogram: 1 row estimated), the planner scanned the import's change
# records by its number alone and compared SKUs in a join filter: every record of the import for every
# product of the step. A step of a replace right after a 1.8M-row catalog ran for minutes past the
# consumer's 120 s, again on every retry (found confirming a held replace). ``OFFSET 0`` keeps each
# EXISTS a subplan (PostgreSQL does not pull such a subquery up into a join).
_NOT_IN_FILE_BY_SKU = _NOT_IN_FILE.replace("p.sku_key)", "p.sku_key OFFSET 0)")


def step_candidates(where: str) -> str:
    """The products one step of ``deactivate_missing`` deactivates (SQL condition on ``p``, parameters
    ``after``, ``last``, ``no`` and ``where``'s)."""
    return (f"p.sku_key > %(after)s AND p.sku_key <= %(last)s AND NOT p.deleted AND p.active"
            f" AND {where} AND {_NOT_IN_FILE_BY_SKU}")


def _registration(conn: psycopg.Connection, import_id: str) -> tuple[int, str, Any]:
    row = conn.execute(
        "SELECT import_no, mode, undo_day FROM import_registry WHERE import_id = %s", (import_id,)
    ).fetchone()
    if row is None:
        raise LookupError(f"import {import_id} is unknown to the database")
    return int(row[0]), row[1], row[2]


def plan_replace(conn: psycopg.Connection, import_id: str, *, scope: Scope, partner: str | None = None) -> ReplacePlan:
    """Count what a replace would do now (for ``max_deactivate_percent``)."""
    import_no, _mode, _day = _registration(conn, import_id)
    where, params = _scope(scope, partner)
    row = conn.execute(
        f"SELECT count(*), count(*) FILTER (WHERE p.active AND {_NOT_IN_FILE})"
        f" FROM products p WHERE NOT p.deleted AND {where}",
        {**params, "no": import_no},
    ).fetchone()
    assert row is not None
    return ReplacePlan(int(row[0]), int(row[1]))


def deactivate_missing(
    conn: psycopg.Connection,
    import_id: str,
    *,
    scope: Scope,
    partner: str | None = None,
    after: str | None = None,
    limit: int = 5000,
) -> ReplaceStep:
    """Deactivate up to ``limit`` products in scope (SKU order, after the key ``after``) that the file did
    not contain; idempotent (a product already deactivated by this import is not counted again).
    Call again with ``next_after`` until it is None. For a preview it records the planned deactivations
    and counts without writing products. Commits. Raises ``ReplaceRefusedError`` once the import's revert
    is planned (checked under the locks ``plan_revert`` takes, in its order)."""
    where, params = _scope(scope, partner)
    settle(conn)
    with conn.transaction():
        conn.execute("SELECT 1 FROM import_totals WHERE import_id = %s FOR UPDATE", (import_id,))
        state = conn.execute("SELECT revert_state FROM import_registry WHERE import_id = %s FOR UPDATE",
                             (import_id,)).fetchone()
        if state is not None and state[0] is not None:
            raise ReplaceRefusedError(f"import {import_id} is reverted or being reverted")
        import_no, mode, day = _registration(conn, import_id)
        if mode != "preview":  # from now on an older import's late chunk deactivates for it (late_deactivations)
            conn.execute("UPDATE import_registry SET replace_ran_at = coalesce(replace_ran_at, now())"
                         " WHERE import_id = %s", (import_id,))
        params = {**params, "no": import_no, "after": after or "", "limit": max(1, limit), "day": day,
                  "dv": (import_no << 32) | _DEACTIVATE_SHIFT, "import_id": import_id}
        # The step's page walks the primary key from ``after``. Without statistics on products (right after
        # a bulk import, before autovacuum analysed it: when a replace runs) the planner read and sorted the
        # whole catalog at every step instead (steps x catalog for one replace): sorting is off for this
        # statement, as for the revert's plan (revert.cut_ranges).
        with planner_off(conn, "sort"):
            page = conn.execute(
                f"SELECT max(sku_key), count(*) FROM (SELECT p.sku_key FROM products p WHERE p.sku_key > %(after)s"
                f" AND NOT p.deleted AND {where} ORDER BY p.sku_key LIMIT %(limit)s) t",
                params,
            ).fetchone()
        assert page is not None
        last, seen = page
        deactivated = 0
        if last is not None:
            params["last"] = last
            candidates = step_candidates(where)
            statement = _PREVIEW if mode == "preview" else _DEACTIVATE
            # The step's products are written by key, one probe each: a partner's step spans the catalog's
            # SKUs between two of its products, and estimated that large its update was hash-joined to a
            # sequential scan of the whole catalog at every step. (An ``= ANY(array)`` of the step's keys
            # instead made each probe walk the array: 0.87 s a step of 5,000, measured.)
            with planner_off(conn, "hashjoin", "mergejoin"):
                keys = [r[0] for r in conn.execute(statement.replace("{candidates}", candidates), params)]
            deactivated = len(keys)
            if keys and mode != "preview":
                from product_importer.products.search import refresh_products

                refresh_products(conn, keys)
        totals = conn.execute(
            "UPDATE import_totals SET products_deactivated = products_deactivated + %s WHERE import_id = %s"
            " RETURNING products_deactivated",
            (deactivated, import_id),
        ).fetchone()
    return ReplaceStep(deactivated, last if last is not None and seen >= limit else None,
                       int(totals[0]) if totals else deactivated)


def lock_late_replaces(conn: psycopg.Connection, import_no: int) -> list[tuple[str, int, str, str | None]]:
    """The newer imports whose replace has begun, not being reverted: (id, number, scope, partner), their
    totals rows locked in number order (the lock ``deactivate_missing`` and ``plan_revert`` take first), in
    the caller's transaction. A chunk takes them before it locks any product, as those do."""
    rows = conn.execute(
        "SELECT import_id, import_no, replace_scope, partner FROM import_registry WHERE import_no > %s"
        " AND mode = 'import' AND replace_ran_at IS NOT NULL AND revert_state IS NULL ORDER BY import_no",
        (import_no,),
    ).fetchall()
    locked = []
    for import_id, number, scope, partner in rows:
        conn.execute("SELECT 1 FROM import_totals WHERE import_id = %s FOR UPDATE", (import_id,))
        state = conn.execute("SELECT revert_state FROM import_registry WHERE import_id = %s", (import_id,)).fetchone()
        if state is not None and state[0] is None:
            locked.append((str(import_id), int(number), str(scope), partner))
    return locked


def late_deactivations(conn: psycopg.Connection, replaces: list[tuple[str, int, str, str | None]],
                       keys: list[str]) -> list[tuple[str, int]]:
    """A chunk of an older import wrote ``keys`` after these newer imports' replaces began: in creation order
    each replace ran after it, so each deactivates, as it would have, those of the keys in its scope that its
    file lacks (at its deactivation version: a write newer than the replace still wins). In the caller's
    transaction, after the chunk's rows; ``replaces`` from ``lock_late_replaces``, in number order. Returns
    ``(import id, its products_deactivated now)`` of each replace that deactivated some: the caller carries
    the count to the import object (a tester read 0 there beside a ``deactivate`` change record)."""
    counts: list[tuple[str, int]] = []
    for import_id, import_no, scope, partner in replaces:
        where, params = _scope(cast(Scope, scope), partner)
        day = conn.execute("SELECT undo_day FROM import_registry WHERE import_id = %s", (import_id,)).fetchone()
        assert day is not None
        params = {**params, "no": import_no, "day": day[0], "keys": keys, "dv": (import_no << 32) | _DEACTIVATE_SHIFT,
                  "import_id": import_id}
        candidates = f"p.sku_key = ANY(%(keys)s) AND NOT p.deleted AND p.active AND {where} AND {_NOT_IN_FILE_BY_SKU}"
        done = [r[0] for r in conn.execute(_DEACTIVATE.replace("{candidates}", candidates), params)]
        if done:
            from product_importer.products.search import refresh_products

            refresh_products(conn, done)
            total = conn.execute("UPDATE import_totals SET products_deactivated = products_deactivated + %s"
                                 " WHERE import_id = %s RETURNING products_deactivated", (len(done), import_id)).fetchone()
            if total is not None:
                counts.append((import_id, int(total[0])))
    return counts


_OTHER_GROUPS = [g for g in GROUPS if g != "active"]
_DEACTIVATE = (
    "WITH o AS MATERIALIZED (SELECT p.* FROM products p WHERE {candidates}"
    " AND coalesce(p.v_active, p.version) < %(dv)s ORDER BY p.sku_key FOR UPDATE),"
    " upd AS (UPDATE products p SET active = false,"
    " v_active = CASE WHEN o.version < %(dv)s THEN NULL ELSE %(dv)s END, "
    + ", ".join(f"v_{g} = CASE WHEN o.version < %(dv)s THEN coalesce(o.v_{g}, o.version) ELSE o.v_{g} END"
                for g in _OTHER_GROUPS)
    + ", v_attributes = CASE WHEN o.version < %(dv)s THEN coalesce(o.v_attributes, o.version) ELSE o.v_attributes END,"
    " version = greatest(o.version, %(dv)s),"
    " last_import_id = CASE WHEN o.version < %(dv)s THEN %(import_id)s ELSE o.last_import_id END,"
    " updated_at = now() FROM o WHERE p.sku_key = o.sku_key RETURNING p.sku_key),"
    " un AS (INSERT INTO undo (day, import_no, sku_key, " + ", ".join(_UNDO_COLUMNS) + ")"
    " SELECT %(day)s, %(no)s, o.sku_key, " + ", ".join(f"o.{c}" for c in _UNDO_COLUMNS)
    + " FROM o ON CONFLICT (sku_key, import_no, day) DO NOTHING),"
    " ch AS (INSERT INTO changes (import_no, sku_key, action, changes)"
    " SELECT %(no)s, sku_key, 'd', '{\"active\": [true, false]}'::jsonb FROM upd"
    " ON CONFLICT (import_no, sku_key) DO NOTHING RETURNING sku_key)"
    " SELECT sku_key FROM ch ORDER BY sku_key"
)
_PREVIEW = (
    "INSERT INTO changes (import_no, sku_key, action, changes, sku)"
    " SELECT %(no)s, p.sku_key, 'd', '{\"active\": [true, false]}'::jsonb, p.sku FROM products p"
    " WHERE {candidates} ON CONFLICT (import_no, sku_key) DO NOTHING RETURNING sku_key"
)
