"""Change records (CONTRACT §2 "Changes"): how edits record theirs, and the reads for the API — an
import's changes, their summary, and a product's history. Imports and previews record theirs in
``upsert_chunk`` (db/chunk_sql.py), replaces in ``deactivate_missing``; see docs/changes-and-undo.md.

Stored per (import or edit number, SKU key): ``action`` (c create, u update, n unchanged, d deactivate,
x delete) and ``changes`` = ``{"<field>": [from, to], "attributes": {"<key>": [from, to]}}`` for the
changed fields only. Items use CONTRACT §3's shapes: ``{"sku", "action", "changes": {"<field>":
{"from", "to"}}}``, ``attributes`` one field whose ``from``/``to`` list only the changed keys. Cursors
are opaque strings; a malformed one raises ``CursorError`` (400).
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from product_importer.db.fields import OPTIONAL_FIELDS, ROW_SHIFT
from product_importer.progress import CursorError, cursor_text

ACTIONS = {"c": "create", "u": "update", "n": "unchanged", "d": "deactivate", "x": "delete"}
ACTION_CODES = {name: code for code, name in ACTIONS.items()}
MAX_LIMIT = 500


# -- writing (edits) ---------------------------------------------------------------------------------

def _json_value(name: str, value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    return value


def _same(name: str, before: Any, after: Any) -> bool:
    """Equal as stored values: a price compares as a number (``24.00`` = ``24.0``, as PostgreSQL compares
    it in the chunk statements), whether it came as text from a request or as a Decimal from a row."""
    if name == "price" and before is not None and after is not None:
        return bool(Decimal(str(before)) == Decimal(str(after)))
    return bool(before == after)


def diff(before: dict[str, Any] | None, after: dict[str, Any] | None) -> dict[str, Any] | None:
    """The stored ``changes`` between two visible products (None when equal or either is absent)."""
    if before is None or after is None:
        return None
    out: dict[str, Any] = {}
    for name in ("sku", "name", *OPTIONAL_FIELDS):
        if not _same(name, before[name], after[name]):
            out[name] = [_json_value(name, before[name]), _json_value(name, after[name])]
    old, new = before["attributes"], after["attributes"]
    keys = {k: [old.get(k), new.get(k)] for k in old.keys() | new.keys() if old.get(k) != new.get(k)
            or (k in old) != (k in new)}
    if keys:
        out["attributes"] = keys
    return out or None


def record_edit(conn: psycopg.Connection, version: int, sku_key: str, before: dict[str, Any] | None,
                after: dict[str, Any] | None, *, deleted: bool = False) -> None:
    """The change record of a manual edit or delete (in the caller's transaction)."""
    changes = diff(before, after)
    if deleted:
        action = "x"
    elif before is None and after is not None:
        action = "c"
    else:
        action = "u" if changes else "n"
    conn.execute(
        "INSERT INTO changes (import_no, sku_key, action, changes) VALUES (%s, %s, %s, %s)"
        " ON CONFLICT (import_no, sku_key) DO UPDATE SET action = excluded.action, changes = excluded.changes",
        (version >> ROW_SHIFT, sku_key, action, Jsonb(changes) if changes is not None else None),
    )


# -- reading -------------------------------------------------------------------------------------------

def encode_cursor(value: str | int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"k": value}).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, kind: type) -> Any:
    try:
        if len(cursor) > 2000:
            raise ValueError("too long")
        value = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))["k"]
    except (ValueError, TypeError, KeyError, UnicodeDecodeError) as exc:
        raise CursorError("invalid cursor") from exc
    if not isinstance(value, kind) or isinstance(value, bool):
        raise CursorError("invalid cursor")
    if isinstance(value, int) and not -(2**63) <= value < 2**63:  # a key PostgreSQL's bigint cannot hold
        raise CursorError("invalid cursor")
    return cursor_text(value) if isinstance(value, str) else value


def present_changes(changes: dict[str, Any] | None) -> dict[str, Any]:
    """Stored ``changes`` → CONTRACT §3's ``{"<field>": {"from", "to"}}``."""
    out: dict[str, Any] = {}
    for name, pair in (changes or {}).items():
        if name == "attributes":
            out[name] = {"from": {k: v[0] for k, v in pair.items()}, "to": {k: v[1] for k, v in pair.items()}}
        else:
            out[name] = {"from": pair[0], "to": pair[1]}
    return out


def _import_no(conn: psycopg.Connection, import_id: str) -> int | None:
    row = conn.execute("SELECT import_no FROM import_registry WHERE import_id = %s", (import_id,)).fetchone()
    return int(row[0]) if row else None


def _prefix_bounds(prefix: str) -> tuple[str, str | None]:
    from product_importer.products.repository import prefix_bounds

    return prefix_bounds(prefix)


def list_changes(
    conn: psycopg.Connection,
    import_id: str,
    *,
    action: str | None = None,
    sku_prefix: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of the import's (or preview's) change records in SKU order, and the cursor of the next
    page (None at the end). ``action``: create / update / unchanged / deactivate; ``sku_prefix``:
    case-insensitive SKU prefix. An unknown import gives an empty page."""
    after = decode_cursor(cursor, str) if cursor else None
    limit = max(1, min(limit, MAX_LIMIT))
    number = _import_no(conn, import_id)
    if number is None or (action is not None and action not in ACTION_CODES):
        return [], None
    where = ["c.import_no = %(no)s"]
    params: dict[str, Any] = {"no": number, "limit": limit + 1}
    if action is not None:
        where.append("c.action = %(action)s")
        params["action"] = ACTION_CODES[action]
    if sku_prefix and sku_prefix.strip():
        lo, hi = _prefix_bounds(sku_prefix.strip().lower())
        where.append("c.sku_key >= %(lo)s")
        params["lo"] = lo
        if hi is not None:
            where.append("c.sku_key < %(hi)s")
            params["hi"] = hi
    if after is not None:
        where.append("c.sku_key > %(after)s")
        params["after"] = after
    # Each row's displayed SKU looked up by key: a join let the planner merge the page with products from the
    # catalog's first key, so a page cost the SKUs before its cursor (0.27 s at 900k, 294 s to page through
    # 1M changes; found at scale).
    rows = conn.execute(
        "SELECT c.sku_key, coalesce(c.sku, (SELECT p.sku FROM products p WHERE p.sku_key = c.sku_key), c.sku_key),"
        " c.action, c.changes FROM changes c"
        f" WHERE {' AND '.join(where)} ORDER BY c.sku_key LIMIT %(limit)s",
        params,
    ).fetchall()
    items = [{"sku": sku, "action": ACTIONS[code], "changes": present_changes(changes)}
             for _key, sku, code, changes in rows[:limit]]
    next_cursor = encode_cursor(rows[limit - 1][0]) if len(rows) > limit else None
    return items, next_cursor


def changes_summary(conn: psycopg.Connection, import_id: str) -> dict[str, Any]:
    """``{"create", "update", "unchanged", "deactivate", "fields": {"<field>": products where it changes}}``."""
    summary: dict[str, Any] = {"create": 0, "update": 0, "unchanged": 0, "deactivate": 0, "fields": {}}
    number = _import_no(conn, import_id)
    if number is not None:
        for code, count in conn.execute(
            "SELECT action, count(*) FROM changes WHERE import_no = %s GROUP BY action", (number,)
        ):
            if ACTIONS[code] in summary:
                summary[ACTIONS[code]] = int(count)
        summary["fields"] = {
            name: int(count) for name, count in conn.execute(
                "SELECT k, count(*) FROM changes, jsonb_object_keys(changes) AS k"
                " WHERE import_no = %s AND changes IS NOT NULL GROUP BY k ORDER BY k",
                (number,),
            )
        }
    return summary


def product_history(
    conn: psycopg.Connection, sku: str, *, cursor: str | None = None, limit: int = 50
) -> tuple[list[dict[str, Any]], str | None]:
    """The change records that touched this product (imports and edits, not previews), newest first:
    ``{"import_id" (None for an edit, and for the catalog's delete-all, which records no change per product
    but shows here as a delete), "action", "changes", "at", "reverted"}`` — ``reverted`` when the
    import was reverted and the revert gave this product back (a conflict it left alone is not, until the
    import that made it one is reverted too)."""
    before = decode_cursor(cursor, int) if cursor else None
    limit = max(1, min(limit, MAX_LIMIT))
    params: dict[str, Any] = {"key": sku.strip().lower(), "limit": limit + 1, "before": before}
    rows = conn.execute(
        "WITH recs AS (SELECT c.import_no AS no, r.import_id, c.action, c.changes, c.at,"
        # reverted: the import was reverted and this product was not left alone as one of its conflicts, or
        # the import that made it a conflict was reverted since without leaving it alone (that revert gave
        # back the state as if neither ran)
        " coalesce(r.revert_state IN ('running', 'done'), false) AND NOT EXISTS (SELECT 1 FROM revert_conflicts x"
        " WHERE x.import_no = c.import_no AND x.sku_key = c.sku_key AND NOT coalesce((SELECT w.revert_state"
        " FROM import_registry w WHERE w.import_no = x.changed_by_no) = 'done'"
        " AND NOT EXISTS (SELECT 1 FROM revert_conflicts y WHERE y.import_no = x.changed_by_no"
        " AND y.sku_key = x.sku_key), false)) AS reverted"
        # (each record's import looked up by its number: joined by the planner, the registry, one row per
        # import for good, was read whole when changes had no statistics)
        " FROM changes c LEFT JOIN LATERAL (SELECT r.import_id, r.mode, r.revert_state FROM import_registry r"
        " WHERE r.import_no = c.import_no OFFSET 0) r ON true"
        " WHERE c.sku_key = %(key)s AND (r.mode IS NULL OR r.mode = 'import')),"
        # A delete-all writes no record per product: it shows where it falls for a product that was live
        # just before it (its newest earlier record is no delete, and no other delete-all came after that).
        " dels AS (SELECT d.import_no AS no, NULL::text AS import_id, 'x'::\"char\" AS action, NULL::jsonb AS changes,"
        " d.at, false AS reverted FROM catalog_deletions d"
        " CROSS JOIN LATERAL (SELECT x.no, x.action FROM recs x WHERE x.no < d.import_no ORDER BY x.no DESC LIMIT 1) p"
        " WHERE p.action <> 'x' AND NOT EXISTS (SELECT 1 FROM catalog_deletions e"
        " WHERE e.import_no > p.no AND e.import_no < d.import_no))"
        " SELECT * FROM (SELECT * FROM recs UNION ALL SELECT * FROM dels) h"
        " WHERE %(before)s::bigint IS NULL OR h.no < %(before)s::bigint"
        " ORDER BY h.no DESC LIMIT %(limit)s",
        params,
    ).fetchall()
    page = rows[:limit]
    items = [{"import_id": import_id, "action": ACTIONS[code], "changes": present_changes(changes),
              "at": _iso(at), "reverted": bool(reverted)}
             for _no, import_id, code, changes, at, reverted in page]
    next_cursor = encode_cursor(int(rows[limit - 1][0])) if len(rows) > limit else None
    return items, next_cursor


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
