"""``product_search``: the word index over name and description, off the import hot path.

Imports and reverts write ``products`` only (a GIN index there made them ~10x slower). When an import
finishes (or its revert is done), ``refresh_for_import`` rebuilds the documents of the rows it wrote, in SKU-key batches of their
own short transactions; manual edits call ``refresh_products`` inside their own transaction. A document
only replaces one built from an older product version, so a late refresh never undoes a newer edit.
See docs/search.md for the consistency this gives.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import psycopg
from product_importer.db.registry import settle

CONFIG = "simple"  # no stemming: catalogs mix languages, brand names and model numbers
FILTER_PREFIX = "filter."  # lexemes no text parses into (they keep their dots, "=" and spaces)
# Words of name and description, plus one lexeme per filter value, so that a word search with filters is
# one GIN intersection (the filters are re-checked against products, which hold the current values).
DOCUMENT_SQL = (
    f"to_tsvector('{CONFIG}', p.name || ' ' || coalesce(p.description, '')) || array_to_tsvector(array_remove("
    f"ARRAY['{FILTER_PREFIX}active=' || p.active::text, '{FILTER_PREFIX}brand=' || lower(p.brand),"
    f" '{FILTER_PREFIX}category=' || lower(p.category)], NULL))"
)


def filter_lexeme(name: str, value: str | bool) -> str:
    """The tsquery text matching one filter value (quoted: the lexeme may hold spaces and quotes)."""
    text = str(value).lower() if isinstance(value, bool) else value.strip().lower()
    lexeme = f"{FILTER_PREFIX}{name}={text}".replace("\\", "\\\\").replace("'", "''")
    return f"'{lexeme}'"


REFRESH_BATCH = 20_000


def _upsert_from(source: str, replaces: str = "s.version < excluded.version") -> str:
    """Upsert the documents of ``source`` (products as ``p``); an existing document is replaced where
    ``replaces`` holds (by default: it was built from an older product version)."""
    return f"""
INSERT INTO product_search AS s (sku_key, document, version)
SELECT p.sku_key, {DOCUMENT_SQL}, p.version FROM {source}
ON CONFLICT (sku_key) DO UPDATE SET document = excluded.document, version = excluded.version
WHERE {replaces}
"""


_UPSERT_PRODUCTS = _upsert_from("products AS p WHERE p.sku_key = ANY(%s)")

# The products an import touched are found by its change records (their key is (import_no, sku_key)):
# products has no index on last_import_id (one would make every re-import's update non-HOT), and the scan
# took 1.5-6.5 s per finished import on a 3.6M-product catalog, holding back its webhooks.
_REFRESH_BATCH = f"""
WITH keys AS (
    SELECT sku_key FROM changes WHERE import_no = %(no)s AND sku_key > %(after)s ORDER BY sku_key LIMIT %(limit)s
), batch AS (
    SELECT p.sku_key, p.name, p.description, p.active, p.brand, p.category, p.version
    FROM keys k JOIN products p ON p.sku_key = k.sku_key WHERE p.last_import_id = %(import_id)s AND NOT p.deleted
), written AS (
    {_upsert_from("batch AS p")} RETURNING 1
)
SELECT (SELECT max(sku_key) FROM keys), (SELECT count(*) FROM keys), (SELECT count(*) FROM written)
"""


# A reverted import: the products it touched, by its change records, get the documents of what they hold
# now. Their versions went back, so "only newer replaces older" cannot decide: a document built from the
# reverted import's own versions (or an older one) is replaced, one a later edit built is kept.
_REFRESH_REVERTED = f"""
WITH keys AS (
    SELECT sku_key FROM changes WHERE import_no = %(no)s AND sku_key > %(after)s ORDER BY sku_key LIMIT %(limit)s
), batch AS (
    SELECT p.sku_key, p.name, p.description, p.active, p.brand, p.category, p.version
    FROM keys k JOIN products p ON p.sku_key = k.sku_key WHERE NOT p.deleted
), written AS (
    {_upsert_from("batch AS p", "(s.version >> 32) = %(no)s OR s.version < excluded.version")} RETURNING 1
)
SELECT (SELECT max(sku_key) FROM keys), (SELECT count(*) FROM keys), (SELECT count(*) FROM written)
"""


@dataclass
class RefreshResult:
    rows_seen: int = 0
    documents_written: int = 0
    resume_after: str | None = None  # set when the time budget ran out first


def refresh_for_import(
    conn: psycopg.Connection,
    import_id: str,
    *,
    after: str = "",
    batch: int = REFRESH_BATCH,
    time_left: Callable[[], float] | None = None,
) -> RefreshResult:
    """Build the documents of every product whose last writer is ``import_id``, found by its change records
    (idempotent, resumable);
    for an import that was reverted, of every product it touched (a revert restores products without
    rebuilding their documents, like an import's chunks: this runs when the revert is done)."""
    result = RefreshResult()
    settle(conn)
    with conn.transaction():  # not an implicit transaction: the batches below would be its savepoints, never committed
        registered = conn.execute(
            "SELECT import_no, revert_state = 'done' FROM import_registry WHERE import_id = %s", (import_id,)
        ).fetchone()
    if registered is None:  # no chunk of it ever ran: it wrote no product
        return result
    statement = _REFRESH_REVERTED if registered[1] else _REFRESH_BATCH
    params = {"import_id": import_id, "no": registered[0], "limit": batch}
    while True:
        with conn.transaction():
            row = conn.execute(statement, {**params, "after": after}).fetchone()
        assert row is not None
        last, seen, written = row
        result.rows_seen += seen
        result.documents_written += written
        if seen < batch or last is None:
            return result
        after = last
        if time_left is not None and time_left() < 10:
            result.resume_after = after
            return result


def refresh_products(conn: psycopg.Connection, sku_keys: Sequence[str]) -> None:
    """Rebuild the documents of these products now (in the caller's transaction)."""
    conn.execute(_UPSERT_PRODUCTS, (list(sku_keys),))


def deadline_clock(seconds: float) -> Callable[[], float]:
    end = time.monotonic() + seconds
    return lambda: end - time.monotonic()
