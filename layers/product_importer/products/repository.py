"""Products in PostgreSQL for the API: list and search, get, replace, patch, delete.

Listing is keyset-paged by ``sku_key`` (the primary key, C collation). ``q`` matches a SKU prefix (a
range on the primary key) or all the words of name / description (``product_search``, GIN); the two
are fetched separately, each already in SKU order with ``LIMIT``, and merged, so the planner can pick
the best path for each (a primary-key walk for common words, the GIN index for rare ones).

A manual edit takes the version ``next import number << 32``: newer than every import created before it,
older than every import created after (DESIGN decisions 3 and 10). It sets each field only where that
field's version is older (``db/fields.py``), records a change record (import_id null) for the product's
history, and a delete leaves a tombstone (``deleted``): every read here filters tombstones out, and no late
chunk of an older import brings the product back. Delete-all records one watermark version.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from product_importer.db.changes import record_edit
from product_importer.db.chunks import version_base
from product_importer.db.fields import (
    GROUPS,
    MISSING,
    OPTIONAL_FIELDS,
    STATE_COLUMNS,
    ProductState,
    default_group_values,
)
from product_importer.products.search import CONFIG, filter_lexeme, refresh_products
from product_importer.products.validation import FIELDS, FieldError, ProductValidationError, validate_product
from psycopg import sql
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

COLUMNS = (*FIELDS, "attributes", "created_at", "updated_at", "last_import_id")
_SELECT = sql.SQL(", ").join(sql.SQL("p.{}").format(sql.Identifier(c)) for c in ("sku_key", *COLUMNS))


class ProductNotFoundError(Exception):
    """No product has this SKU."""


class NewerImportError(Exception):
    """An import created after this edit began has already written the product: the edit is not applied."""


class ConfirmationRequiredError(Exception):
    """A destructive request without its explicit confirmation."""


@dataclass(frozen=True)
class ProductFilter:
    q: str | None = None
    active: bool | None = None
    brand: str | None = None
    category: str | None = None


def sku_key(sku: str) -> str:
    return sku.strip().lower()


def _iso(value: datetime) -> str:
    return value.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def to_product(row: dict[str, Any]) -> dict[str, Any]:
    """The product object of CONTRACT §3."""
    out = {c: row[c] for c in COLUMNS}
    out["price"] = None if row["price"] is None else str(row["price"])
    out["created_at"] = _iso(row["created_at"])
    out["updated_at"] = _iso(row["updated_at"])
    return out


def prefix_bounds(prefix: str) -> tuple[str, str | None]:
    """``[lo, hi)`` of every string starting with ``prefix`` in code-point (C collation) order."""
    for cut in range(len(prefix) - 1, -1, -1):
        code = ord(prefix[cut]) + 1
        if 0xD800 <= code <= 0xDFFF:
            code = 0xE000
        if code <= 0x10FFFF:
            return prefix, prefix[:cut] + chr(code)
    return prefix, None


def _filters(f: ProductFilter, after: str | None) -> tuple[list[sql.Composable], dict[str, Any]]:
    where: list[sql.Composable] = [sql.SQL("NOT p.deleted")]
    params: dict[str, Any] = {}
    if after is not None:
        where.append(sql.SQL("p.sku_key > %(after)s"))
        params["after"] = after
    if f.active is not None:
        where.append(sql.SQL("p.active = %(active)s"))
        params["active"] = f.active
    if f.brand:
        where.append(sql.SQL("lower(p.brand) = lower(%(brand)s) AND p.brand IS NOT NULL"))
        params["brand"] = f.brand.strip()
    if f.category:
        where.append(sql.SQL("lower(p.category) = lower(%(category)s) AND p.category IS NOT NULL"))
        params["category"] = f.category.strip()
    return where, params


def _page_query(source: sql.Composable, where: list[sql.Composable]) -> sql.Composed:
    condition = sql.SQL(" AND ").join(where) if where else sql.SQL("true")
    return sql.SQL("SELECT {cols} FROM {source} WHERE {cond} ORDER BY p.sku_key LIMIT %(limit)s").format(
        cols=_SELECT, source=source, cond=condition
    )


def list_products(
    conn: psycopg.Connection, f: ProductFilter, *, limit: int, after: str | None = None
) -> tuple[list[dict[str, Any]], str | None]:
    """One page in SKU order and the SKU key to continue after (None at the end)."""
    where, params = _filters(f, after)
    params["limit"] = limit + 1
    q = (f.q or "").strip()
    with conn.cursor(row_factory=dict_row) as cur:
        if not q:
            rows = cur.execute(_page_query(sql.SQL("products p"), where), params).fetchall()
        else:
            rows = _search(cur, q, f, where, params, limit + 1)
    page = rows[:limit]
    next_after = page[-1]["sku_key"] if len(rows) > limit else None
    return [to_product(r) for r in page], next_after


def _search(
    cur: psycopg.Cursor[dict[str, Any]],
    q: str,
    f: ProductFilter,
    where: list[sql.Composable],
    params: dict[str, Any],
    limit: int,
) -> list[dict[str, Any]]:
    lo, hi = prefix_bounds(q.lower())
    prefix_where = [*where, sql.SQL("p.sku_key >= %(lo)s")]
    if hi is not None:
        prefix_where.append(sql.SQL("p.sku_key < %(hi)s"))
    by_sku = cur.execute(
        _page_query(sql.SQL("products p"), prefix_where), {**params, "lo": lo, "hi": hi}
    ).fetchall()
    by_words: list[dict[str, Any]] = []
    query = cur.execute(
        sql.SQL("SELECT plainto_tsquery({}, %s)::text AS q").format(sql.Literal(CONFIG)), (q,)
    ).fetchone()
    if query and query["q"]:
        with cur.connection.transaction():
            # Only indexed paths for word search: a seq scan of either table grows with the catalog.
            cur.execute("SET LOCAL enable_seqscan = off")
            # psycopg prepares a statement after 5 runs; a generic plan cannot see the words or filters
            cur.execute("SET LOCAL plan_cache_mode = force_custom_plan")
            by_words = _word_matches(cur, where, {**params, "tsq": _with_filters(query["q"], f)}, limit)
    merged: list[dict[str, Any]] = []
    for row in heapq.merge(by_sku, by_words, key=lambda r: r["sku_key"]):
        if not merged or merged[-1]["sku_key"] != row["sku_key"]:
            merged.append(row)
        if len(merged) == limit:
            break
    return merged


def _with_filters(tsquery: str, f: ProductFilter) -> str:
    parts = [f"({tsquery})"]
    if f.active is not None:
        parts.append(filter_lexeme("active", f.active))
    if f.brand:
        parts.append(filter_lexeme("brand", f.brand))
    if f.category:
        parts.append(filter_lexeme("category", f.category))
    return " & ".join(parts)


WORD_WINDOW = 3_000  # products walked in SKU order before switching to the GIN index


def _word_matches(
    cur: psycopg.Cursor[dict[str, Any]], where: list[sql.Composable], params: dict[str, Any], limit: int
) -> list[dict[str, Any]]:
    """The first ``limit`` products (SKU order, filters applied) whose document matches ``tsq``.

    Row estimates for text search are unreliable (a word missing from the statistics is guessed at 0.5 %),
    so the plan is chosen by measuring instead: walk the next ``WORD_WINDOW`` documents in SKU order and
    test them (fast when the words are common); if that window does not fill the page, the words are rare,
    and the GIN index gives the matches, of which only the first page by SKU is kept.
    """
    # The window walks search documents, not filtered products: the filters are lexemes of the document,
    # so a selective brand / category costs the same 3,000 documents as no filter at all.
    after = sql.SQL("s.sku_key > %(after)s") if "after" in params else sql.SQL("true")
    window = cur.execute(
        sql.SQL(
            "WITH cand AS MATERIALIZED (SELECT s.sku_key, s.document FROM product_search s WHERE {after}"
            " ORDER BY s.sku_key LIMIT %(window)s)"
            " SELECT (SELECT count(*) FROM cand) AS scanned, ARRAY(SELECT cand.sku_key FROM cand"
            "   WHERE cand.document @@ %(tsq)s::tsquery ORDER BY cand.sku_key LIMIT %(limit)s) AS hits"
        ).format(after=after),
        {**params, "window": WORD_WINDOW, "limit": limit},
    ).fetchone()
    assert window is not None
    keys: list[str]
    if len(window["hits"]) == limit or window["scanned"] < WORD_WINDOW:
        keys = window["hits"]
    else:
        # Rare among these products: the GIN index gives every match; the first page of them by SKU is a
        # top-N sort of keys, and only that page is read from products.
        keys = [row["sku_key"] for row in cur.execute(
            # MATERIALIZED keeps the GIN bitmap scan: with ORDER BY + LIMIT alone the planner may walk the
            # primary key hoping for an early stop, which reads every document when there are few matches.
            sql.SQL("WITH matches AS MATERIALIZED (SELECT s.sku_key FROM product_search s"
                    " WHERE s.document @@ %(tsq)s::tsquery AND {after})"
                    " SELECT m.sku_key FROM matches m ORDER BY m.sku_key LIMIT %(limit)s").format(after=after),
            {**params, "limit": limit},
        ).fetchall()]
    if not keys:
        return []
    # The filters again on the products themselves (a document may lag a product being imported).
    exact = [sql.SQL("p.sku_key = ANY(%(keys)s)"), *where]
    return cur.execute(_page_query(sql.SQL("products p"), exact), {**params, "keys": keys}).fetchall()


def get_product(conn: psycopg.Connection, sku: str) -> dict[str, Any]:
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(
            sql.SQL("SELECT {} FROM products p WHERE p.sku_key = %s AND NOT p.deleted").format(_SELECT),
            (sku_key(sku),),
        ).fetchone()
    if row is None:
        raise ProductNotFoundError(f"product {sku!r} not found")
    return to_product(row)


def put_product(conn: psycopg.Connection, sku: str, values: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """Create or replace (every field: missing ones take their defaults). Returns (product, created)."""
    body_sku = values.get("sku")
    if body_sku is not None and sku_key(str(body_sku)) != sku_key(sku):
        raise ProductValidationError(
            [FieldError("sku", "the body's sku differs from the one in the path", body_sku)]
        )
    row = validate_product({**values, "sku": body_sku or sku}, values.get("attributes") or {})
    return _write(conn, row)


def patch_product(conn: psycopg.Connection, sku: str, changes: dict[str, Any]) -> dict[str, Any]:
    """Change only the given fields; ``attributes`` merge by key (a null value removes the key)."""
    with conn.transaction():
        version = _edit_version(conn, sku_key(sku))
        current = _locked(conn, sku)
        if not any(k in FIELDS and k != "sku" for k in changes) and not changes.get("attributes"):
            return to_product(current)  # nothing to change: not an edit (and no conflict with a newer import)
        merged = {f: current[f] for f in FIELDS}
        merged.update({k: v for k, v in changes.items() if k in FIELDS and k != "sku"})
        attributes = dict(current["attributes"])
        for key, value in (changes.get("attributes") or {}).items():
            if value is None:
                attributes.pop(key, None)
            else:
                attributes[key] = value
        row = validate_product(merged, attributes)
        given = {k for k in changes if k in FIELDS and k != "sku"}
        keys = {k: (MISSING if v is None else row["attributes"][k]) for k, v in (changes.get("attributes") or {}).items()}
        product, _created = _apply(conn, row, version, lambda state: _patch(state, row, given, keys, version))
    return product


def _locked(conn: psycopg.Connection, sku: str) -> dict[str, Any]:
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(
            sql.SQL("SELECT {} FROM products p WHERE p.sku_key = %s AND NOT p.deleted FOR UPDATE").format(_SELECT),
            (sku_key(sku),),
        ).fetchone()
    if row is None:
        raise ProductNotFoundError(f"product {sku!r} not found")
    return row


def _write(conn: psycopg.Connection, row: dict[str, Any], *, version: int | None = None) -> tuple[dict[str, Any], bool]:
    """PUT: every field of ``row`` (and exactly its attributes) as of ``version`` (default: a new edit's,
    taken under the SKU's edit lock, see ``_edit_version``)."""
    with conn.transaction():
        stamp = version if version is not None else _edit_version(conn, row["sku_key"])

        def put(state: ProductState) -> bool:
            took = state.set_group("name", {"sku": row["sku"], "name": row["name"], "deleted": False}, stamp)
            for f in OPTIONAL_FIELDS:
                took = state.set_group(f, {f: row[f]}, stamp) or took
            return state.reset_attributes(stamp, row["attributes"]) or took

        return _apply(conn, row, stamp, put)


def _edit_version(conn: psycopg.Connection, key: str) -> int:
    """The version of an edit (PUT, PATCH, DELETE) of the SKU ``key``, taken inside the edit's transaction
    under a per-SKU lock held to its end: concurrent edits of one SKU take their numbers in the order they
    write. (Taken before the lock, a later edit could write first, and the earlier one then looked older
    than the product and answered 409 "written by an import created after this edit".)"""
    conn.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (_EDIT_LOCK_SPACE, key))
    # Before the number: a delete-all (ACCESS EXCLUSIVE) either committed already or waits for this edit,
    # so its number is never taken between this edit's number and its write.
    conn.execute("LOCK TABLE products IN ROW EXCLUSIVE MODE")
    row = conn.execute("SELECT nextval('import_number_seq')").fetchone()
    assert row is not None
    return version_base(int(row[0]))


_EDIT_LOCK_SPACE = 0x45444954  # the first half of the two-key advisory locks of edits ("EDIT")


def _patch(state: ProductState, row: dict[str, Any], given: set[str], keys: dict[str, Any], version: int) -> bool:
    took = False
    if "name" in given:
        took = state.set_group("name", {"name": row["name"]}, version) or took
    for f in OPTIONAL_FIELDS:
        if f in given:
            took = state.set_group(f, {f: row[f]}, version) or took
    for key, value in keys.items():
        took = state.set_key(key, value, version) or took
    return took


_STATE_SELECT = sql.SQL(", ").join(sql.Identifier(c) for c in (*STATE_COLUMNS, "last_import_id"))


def _state_row(conn: psycopg.Connection, key: str) -> dict[str, Any] | None:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            sql.SQL("SELECT {} FROM products WHERE sku_key = %s FOR UPDATE").format(_STATE_SELECT), (key,)
        ).fetchone()


def _apply(conn: psycopg.Connection, row: dict[str, Any], version: int, edit: Any) -> tuple[dict[str, Any], bool]:
    """Apply ``edit`` (a function of the product's state) under the row lock, write it, record the change."""
    key = row["sku_key"]
    stored = _state_row(conn, key)
    state = ProductState.from_row(stored) if stored else ProductState.absent()
    before = state.visible()
    if not edit(state):
        raise NewerImportError(f"product {row['sku']!r} was written by an import created after this edit")
    after = state.visible()
    _store(conn, key, state, stored, version)
    record_edit(conn, version, key, before, after)
    refresh_products(conn, [key])
    return get_product(conn, row["sku"]), before is None


def _store(conn: psycopg.Connection, key: str, state: ProductState, stored: dict[str, Any] | None,
           version: int) -> None:
    columns = state.columns()
    columns["attributes"] = Jsonb(columns["attributes"])
    columns["attr_versions"] = Jsonb(columns["attr_versions"]) if columns["attr_versions"] is not None else None
    last = None if state.version == version else (stored or {}).get("last_import_id")
    names = [*columns, "last_import_id"]
    params = {**columns, "last_import_id": last, "sku_key": key}
    conn.execute(
        sql.SQL(
            "INSERT INTO products AS p (sku_key, {cols}) VALUES (%(sku_key)s, {vals})"
            " ON CONFLICT (sku_key) DO UPDATE SET {sets}, updated_at = now(),"
            " created_by_no = CASE WHEN p.deleted AND NOT excluded.deleted THEN NULL ELSE p.created_by_no END"
        ).format(
            cols=sql.SQL(", ").join(map(sql.Identifier, names)),
            vals=sql.SQL(", ").join(sql.Placeholder(n) for n in names),
            sets=sql.SQL(", ").join(sql.SQL("{0} = excluded.{0}").format(sql.Identifier(n)) for n in names),
        ),
        params,
    )


def delete_product(conn: psycopg.Connection, sku: str) -> None:
    """Leave a tombstone as of a new version: the product disappears from every read, and an import
    created before this delete cannot bring it back (one created after can)."""
    key = sku_key(sku)
    with conn.transaction():
        version = _edit_version(conn, key)
        stored = _state_row(conn, key)
        if stored is None or stored["deleted"]:
            raise ProductNotFoundError(f"product {sku!r} not found")
        state = ProductState.from_row(stored)
        before = state.visible()
        took = False
        for group in GROUPS:
            took = state.set_group(group, default_group_values(group), version) or took
        state.reset_attributes(version)
        if not took:
            raise NewerImportError(f"product {sku!r} was written by an import created after this delete")
        _store(conn, key, state, stored, version)
        record_edit(conn, version, key, before, state.visible(), deleted=True)
        conn.execute("DELETE FROM product_search WHERE sku_key = %s", (key,))


def delete_all_products(conn: psycopg.Connection, *, confirm: bool) -> int:
    """Delete every product: one watermark version (rows of imports created before it write nothing
    afterwards), not a tombstone per product. Returns how many products there were."""
    if not confirm:
        raise ConfirmationRequiredError("deleting every product needs ?confirm=true")
    with conn.transaction():
        conn.execute("LOCK TABLE products IN ACCESS EXCLUSIVE MODE")
        # The number is taken under the lock: no write with a larger one can have happened yet.
        number = conn.execute("SELECT nextval('import_number_seq')").fetchone()
        assert number is not None
        count = conn.execute("SELECT count(*) FROM products WHERE NOT deleted").fetchone()
        conn.execute("UPDATE catalog_watermark SET version = %s, at = now()", (version_base(int(number[0])),))
        conn.execute("INSERT INTO catalog_deletions (import_no, at) VALUES (%s, now())", (int(number[0]),))
        conn.execute("TRUNCATE product_search, products")
    return int(count[0]) if count else 0
