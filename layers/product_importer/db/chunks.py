"""``upsert_chunk``: one chunk's products, row errors and ledger row in one PostgreSQL transaction.

DESIGN decisions 2–4: a chunk whose ledger row exists is a no-op that returns the recorded counts;
rows are de-duplicated by SKU key (last wins) and written in SKU-key order with ``COPY`` into a
session-scoped staging table and one ``INSERT … ON CONFLICT DO UPDATE … WHERE stored version is
older``; only the fields whose columns the file has are set.
"""

from __future__ import annotations

import logging
import operator
import random
import time
from collections.abc import Iterable, Sequence

import psycopg
from psycopg import sql

from product_importer.ingest.rows import ROW_FIELDS, RowError
from product_importer.models import ChunkCounts, ChunkResult, ImportTotals

logger = logging.getLogger(__name__)

ROW_SHIFT = 32  # version = (import number << 32) + row number
MAX_ATTEMPTS = 5

# Columns the file may or may not have, in ROW_FIELDS order (everything but row_no / sku_key / sku).
OPTIONAL_FIELDS = ("description", "price", "currency", "quantity", "active", "brand", "category", "barcode")
_STAGE_COLUMNS = ROW_FIELDS  # row_no, sku_key, sku, name, …, attributes

_CREATE_STAGE = """
CREATE TEMP TABLE IF NOT EXISTS stage_rows (
    row_no integer NOT NULL, sku_key text COLLATE "C" NOT NULL, sku text NOT NULL, name text NOT NULL,
    description text, price numeric, currency text, quantity bigint, active boolean,
    brand text, category text, barcode text, attributes jsonb
) ON COMMIT DELETE ROWS
"""


def version_base(import_no: int) -> int:
    return import_no << ROW_SHIFT


def next_import_number(conn: psycopg.Connection) -> int:
    """A number from the import sequence: imports (and manual edits) created later get larger ones."""
    row = conn.execute("SELECT nextval('import_number_seq')").fetchone()
    conn.commit()
    assert row is not None
    return int(row[0])


def upsert_chunk(
    conn: psycopg.Connection,
    *,
    import_id: str,
    import_no: int,
    chunk_no: int,
    present_fields: Iterable[str],
    rows: Sequence[tuple],
    errors: Sequence[RowError],
    rows_seen: int,
) -> ChunkResult:
    """Write one chunk exactly once; retried on deadlock / serialization failure.

    ``present_fields``: the canonical fields the file's header has (sku and name always); fields not
    in it keep their stored value. ``rows`` are tuples laid out as ``ROW_FIELDS``.
    """
    present = frozenset(present_fields)
    statement = _upsert_statement(present)
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            return _write_chunk(conn, statement, present, import_id, import_no, chunk_no, rows, errors, rows_seen)
        except (psycopg.errors.DeadlockDetected, psycopg.errors.SerializationFailure) as exc:
            conn.rollback()
            if attempt == MAX_ATTEMPTS:
                raise
            delay = random.uniform(0.01, 0.05 * 2**attempt)
            logger.warning("chunk %s/%s: %s, retry %d in %.2fs", import_id, chunk_no, type(exc).__name__, attempt, delay)
            time.sleep(delay)
    raise AssertionError("unreachable")


def _write_chunk(
    conn: psycopg.Connection,
    statement: sql.Composed,
    present: frozenset[str],
    import_id: str,
    import_no: int,
    chunk_no: int,
    rows: Sequence[tuple],
    errors: Sequence[RowError],
    rows_seen: int,
) -> ChunkResult:
    with conn.transaction():
        # Claim the chunk first: a concurrent delivery of the same chunk blocks here until we commit,
        # then sees the conflict and returns the recorded counts.
        claimed = conn.execute(
            "INSERT INTO chunk_ledger (import_id, chunk_no) VALUES (%s, %s) ON CONFLICT DO NOTHING RETURNING 1",
            (import_id, chunk_no),
        ).fetchone()
        if claimed is None:
            return ChunkResult(_recorded_counts(conn, import_id, chunk_no), read_totals(conn, import_id))

        created = updated = 0
        if rows:
            created, updated = _write_rows(conn, statement, present, rows, import_id, version_base(import_no))
        if errors:
            with conn.cursor().copy(
                "COPY row_errors (import_id, row_no, sku, column_name, message, value) FROM STDIN"
            ) as copy:
                for error in errors:
                    copy.write_row((import_id, error.row, error.sku, error.column, error.message, error.value))

        counts = ChunkCounts(
            rows_seen=rows_seen,
            rows_imported=len(rows),
            rows_failed=rows_seen - len(rows),
            products_created=created,
            products_updated=updated,
            products_unchanged=len(rows) - created - updated,
        )
        conn.execute(
            "UPDATE chunk_ledger SET rows_seen = %s, rows_imported = %s, rows_failed = %s,"
            " products_created = %s, products_updated = %s, products_unchanged = %s"
            " WHERE import_id = %s AND chunk_no = %s",
            (
                counts.rows_seen,
                counts.rows_imported,
                counts.rows_failed,
                counts.products_created,
                counts.products_updated,
                counts.products_unchanged,
                import_id,
                chunk_no,
            ),
        )
        # Last statement: the import's totals row is a hot lock shared by the import's chunks.
        totals_row = conn.execute(_ADD_TO_TOTALS, (import_id, *_count_values(counts))).fetchone()
        assert totals_row is not None
    return ChunkResult(counts, ImportTotals(*totals_row))


_TOTAL_COLUMNS = ("rows_processed", "rows_imported", "rows_failed", "products_created", "products_updated",
                  "products_unchanged")
_ADD_TO_TOTALS = (
    "INSERT INTO import_totals AS t (import_id, chunks_done, " + ", ".join(_TOTAL_COLUMNS) + ")"
    " VALUES (%s, 1, %s, %s, %s, %s, %s, %s)"
    " ON CONFLICT (import_id) DO UPDATE SET chunks_done = t.chunks_done + 1, "
    + ", ".join(f"{c} = t.{c} + excluded.{c}" for c in _TOTAL_COLUMNS)
    + ", updated_at = now() RETURNING chunks_done, " + ", ".join(_TOTAL_COLUMNS)
)


def _count_values(counts: ChunkCounts) -> tuple[int, ...]:
    return (counts.rows_seen, counts.rows_imported, counts.rows_failed, counts.products_created,
            counts.products_updated, counts.products_unchanged)


def read_totals(conn: psycopg.Connection, import_id: str) -> ImportTotals:
    """The committed totals of an import (zeros before its first chunk)."""
    row = conn.execute(
        "SELECT chunks_done, " + ", ".join(_TOTAL_COLUMNS) + " FROM import_totals WHERE import_id = %s",
        (import_id,),
    ).fetchone()
    return ImportTotals(*row) if row else ImportTotals(0, 0, 0, 0, 0, 0, 0)


# Imports for which this process saw a chunk of existing products: their next chunks go straight to the
# upsert instead of trying the insert-only COPY first (a re-import would fail it on every chunk).
_imports_with_existing_rows: set[str] = set()


def _write_rows(conn: psycopg.Connection, statement: sql.Composed, present: frozenset[str], rows: Sequence[tuple],
                import_id: str, base: int) -> tuple[int, int]:
    """Write the chunk's rows; return (created, updated).

    Fast path, tried first for each import: the de-duplicated rows go straight into ``products`` with one
    COPY, which only succeeds when none of the chunk's SKUs exist (a first import). A unique violation
    (an existing SKU, or a concurrent chunk inserting one meanwhile) rolls back to the savepoint and the
    staged set-based upsert decides row by row on versions.
    """
    if import_id not in _imports_with_existing_rows:
        latest = {row[1]: row for row in rows}  # sku_key -> last row with it (rows are in file order)
        try:
            with conn.transaction():  # a savepoint
                _copy_new_products(conn, present, [latest[k] for k in sorted(latest)], import_id, base)
            return len(latest), 0
        except psycopg.errors.UniqueViolation:
            _imports_with_existing_rows.add(import_id)
            if len(_imports_with_existing_rows) > 10_000:
                _imports_with_existing_rows.clear()
    conn.execute(_CREATE_STAGE)
    with conn.cursor().copy(
        sql.SQL("COPY stage_rows ({}) FROM STDIN").format(sql.SQL(", ").join(map(sql.Identifier, _STAGE_COLUMNS)))
    ) as copy:
        for row in rows:
            copy.write_row(row)
    result = conn.execute(statement, {"base": base, "import_id": import_id}).fetchone()
    assert result is not None
    return int(result[0]), int(result[1])


def _copy_new_products(conn: psycopg.Connection, present: frozenset[str], rows: list[tuple], import_id: str,
                       base: int) -> None:
    positions = [ROW_FIELDS.index(f) for f in ("row_no", "sku_key", "sku", "name")]
    columns = ["version", "sku_key", "sku", "name"]
    for name in (*OPTIONAL_FIELDS, "attributes"):
        if name in present:
            positions.append(ROW_FIELDS.index(name))
            columns.append(name)
    columns.append("last_import_id")
    pick = operator.itemgetter(*positions)
    with conn.cursor().copy(
        sql.SQL("COPY products ({}) FROM STDIN").format(sql.SQL(", ").join(map(sql.Identifier, columns)))
    ) as copy:
        for row in rows:
            values = pick(row)
            copy.write_row((base + values[0], *values[1:], import_id))


def _recorded_counts(conn: psycopg.Connection, import_id: str, chunk_no: int) -> ChunkCounts:
    row = conn.execute(
        "SELECT rows_seen, rows_imported, rows_failed, products_created, products_updated, products_unchanged"
        " FROM chunk_ledger WHERE import_id = %s AND chunk_no = %s",
        (import_id, chunk_no),
    ).fetchone()
    assert row is not None
    seen, imported, failed, created, updated, unchanged = row
    return ChunkCounts(seen, imported, failed, created, updated, unchanged, replayed=True)


_statement_cache: dict[frozenset[str], sql.Composed] = {}


def _upsert_statement(present: frozenset[str]) -> sql.Composed:
    """The set-based upsert for a file with these columns (cached: a handful of shapes per process)."""
    cached = _statement_cache.get(present)
    if cached is not None:
        return cached
    fields = [f for f in OPTIONAL_FIELDS if f in present]
    has_attributes = "attributes" in present
    insert_cols = ["sku_key", "sku", "name", *fields]
    select_exprs: list[sql.Composable] = [sql.Identifier(c) for c in insert_cols]
    if has_attributes:
        insert_cols.append("attributes")
        select_exprs.append(sql.SQL("coalesce(attributes, '{}'::jsonb)"))
    set_cols = ["sku", "name", *fields]
    sets: list[sql.Composable] = [sql.SQL("{0} = excluded.{0}").format(sql.Identifier(c)) for c in set_cols]
    # What the row becomes vs what it is: unchanged rows keep updated_at (and count as unchanged) but
    # still take the newer version, so an import created in between cannot overwrite them later.
    new_values: list[sql.Composable] = [sql.SQL("excluded.{}").format(sql.Identifier(c)) for c in set_cols]
    old_values: list[sql.Composable] = [sql.SQL("p.{}").format(sql.Identifier(c)) for c in set_cols]
    if has_attributes:
        sets.append(sql.SQL("attributes = p.attributes || excluded.attributes"))
        new_values.append(sql.SQL("p.attributes || excluded.attributes"))
        old_values.append(sql.SQL("p.attributes"))
    changed = sql.SQL("ROW({}) IS DISTINCT FROM ROW({})").format(
        sql.SQL(", ").join(new_values), sql.SQL(", ").join(old_values)
    )
    statement = sql.SQL(
        """
        WITH written AS (
            INSERT INTO products AS p ({insert_cols}, version, last_import_id)
            SELECT {select_exprs}, %(base)s + row_no, %(import_id)s
            FROM (SELECT DISTINCT ON (sku_key) * FROM stage_rows ORDER BY sku_key, row_no DESC) AS latest
            ORDER BY sku_key
            ON CONFLICT (sku_key) DO UPDATE SET
                {sets},
                version = excluded.version,
                last_import_id = excluded.last_import_id,
                updated_at = CASE WHEN {changed} THEN now() ELSE p.updated_at END
            WHERE p.version < excluded.version
            RETURNING (xmax = 0) AS inserted, (updated_at = now()) AS touched
        )
        SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE touched AND NOT inserted) FROM written
        """
    ).format(
        insert_cols=sql.SQL(", ").join(map(sql.Identifier, insert_cols)),
        select_exprs=sql.SQL(", ").join(select_exprs),
        sets=sql.SQL(", ").join(sets),
        changed=changed,
    )
    _statement_cache[present] = statement
    return statement
