"""``upsert_chunk``: one chunk's products, change records, undo data, row errors and ledger row in one
PostgreSQL transaction.

DESIGN decisions 2–4 and 10–11 (docs/changes-and-undo.md): a chunk whose ledger row exists is a no-op
that returns the recorded counts; rows are de-duplicated by SKU key (last wins) and written in SKU-key
order; a row sets a field only where that field's version is older than the row's (per-field versions,
``db/fields.py``), so any processing order ends as the one-by-one replay in creation order. Writes are
set-based: ``COPY`` straight into ``products`` while an import's SKUs are all new (its first import),
else ``COPY`` into a staging table and the statements of ``chunk_sql`` (the fast one for rows newer than
their whole product; then insert the new SKUs; lock, compare and update the rest) that also write the
change records and undo data. A preview runs the same comparison
against the catalog overlaid with its own earlier chunks and writes no product.
"""

from __future__ import annotations

import json
import logging
import operator
import random
import time
from collections.abc import Iterable, Sequence
from typing import Literal

import psycopg
from psycopg import sql

from product_importer.db import chunk_sql
from product_importer.db.copy_text import text_column, write_rows
from product_importer.db.fields import OPTIONAL_FIELDS, ROW_SHIFT
from product_importer.db.registry import WRITABLE, ensure_undo_partition, settle
from product_importer.db.replace import late_deactivations, lock_late_replaces
from product_importer.ingest.rows import ROW_FIELDS, RowError
from product_importer.models import ChunkCounts, ChunkResult, ImportTotals

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
MAX_STORED_ERRORS = 100_000  # per import (CONTRACT §1); rows_failed stays exact
TOO_MANY_ERRORS = "too many row errors"

_STAGE_COLUMNS = ROW_FIELDS  # row_no, sku_key, sku, name, …, attributes
_ATTRIBUTES = ROW_FIELDS.index("attributes")
_ROW_NO = ROW_FIELDS.index("row_no")
# each column's kind in a COPY text block (copy_text): row_no and quantity integers, active a boolean
_KIND = {"row_no": "i", "quantity": "i", "active": "b"}
_STAGE_KINDS = "".join(_KIND.get(f, "s") for f in _STAGE_COLUMNS)

_CREATE_STAGE = """
CREATE TEMP TABLE IF NOT EXISTS stage_rows (
    row_no integer NOT NULL, sku_key text COLLATE "C" NOT NULL, sku text NOT NULL, name text NOT NULL,
    description text, price numeric, currency text, quantity bigint, active boolean,
    brand text, category text, barcode text, attributes jsonb
) ON COMMIT DELETE ROWS
"""

__all__ = ["MAX_STORED_ERRORS", "OPTIONAL_FIELDS", "ROW_SHIFT", "TOO_MANY_ERRORS", "ChunkCounts", "ChunkResult",
           "ImportTotals", "next_import_number", "read_totals", "upsert_chunk", "version_base"]


def version_base(import_no: int) -> int:
    return import_no << ROW_SHIFT


def next_import_number(conn: psycopg.Connection) -> int:
    """A number from the import sequence: imports (and manual edits) created later get larger ones."""
    row = conn.execute("SELECT nextval('import_number_seq')").fetchone()
    conn.commit()
    assert row is not None
    return int(row[0])


class _ImportEnded(Exception):
    def __init__(self, status: str) -> None:
        self.status = status


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
    rows_skipped: int = 0,
    max_errors: int | None = None,
    mode: Literal["import", "preview"] = "import",
) -> ChunkResult:
    """Write one chunk exactly once; retried on deadlock / serialization failure, and when a preview's
    chunk finds that another of its chunks took one of its SKUs first (``changes_pkey``, see chunk_sql).

    ``present_fields``: the canonical fields the file's header has (sku and name always, ``attributes``
    when it has attribute columns); fields not in it keep their stored value. ``rows`` are tuples laid
    out as ``ROW_FIELDS``. ``rows_seen``: data rows read (valid + failed); ``rows_skipped``: blank or
    profile-skipped rows, added to ``rows_processed`` and ``rows_skipped``. ``max_errors``: when the
    import's committed ``rows_failed`` passes it, this transaction marks the import failed and the result
    has ``import_failed`` and ``error`` = "too many row errors" (the chunk's own rows stay committed).
    ``mode="preview"``: compare and record change records and counts, write no product.

    A chunk of an import that is no longer ``pending``/``processing`` in the registry (failed, reverted,
    finished) writes nothing: ``written`` is False and ``import_failed`` says whether it had failed.
    """
    present = frozenset(present_fields) | {"sku", "name"}
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            return _write_chunk(conn, present, import_id, import_no, chunk_no, rows, errors, rows_seen,
                                rows_skipped, max_errors, mode)
        except (psycopg.errors.DeadlockDetected, psycopg.errors.SerializationFailure,
                psycopg.errors.UniqueViolation) as exc:
            conn.rollback()
            if isinstance(exc, psycopg.errors.UniqueViolation) and exc.diag.constraint_name != "changes_pkey":
                raise
            # changes_pkey: a preview's chunk met a SKU another of its chunks took first (chunk_sql)
            if attempt == MAX_ATTEMPTS:
                raise
            delay = random.uniform(0.01, 0.05 * 2**attempt)
            logger.warning("chunk %s/%s: %s, retry %d in %.2fs", import_id, chunk_no, type(exc).__name__, attempt, delay)
            time.sleep(delay)
    raise AssertionError("unreachable")


def _registration(conn: psycopg.Connection, import_id: str, import_no: int, mode: str) -> tuple:
    """(status, replace_scope, undo_day) of the import, registering it if it is unknown."""
    row = conn.execute(
        "SELECT status, replace_scope, undo_day FROM import_registry WHERE import_id = %s", (import_id,)
    ).fetchone()
    if row is None:
        from product_importer.db.registry import register_import

        register_import(conn, import_id, import_no=import_no, mode="preview" if mode == "preview" else "import")
        row = conn.execute(
            "SELECT status, replace_scope, undo_day FROM import_registry WHERE import_id = %s", (import_id,)
        ).fetchone()
        assert row is not None
    else:
        ensure_undo_partition(conn, row[2])
    settle(conn)
    return row


def _write_chunk(
    conn: psycopg.Connection,
    present: frozenset[str],
    import_id: str,
    import_no: int,
    chunk_no: int,
    rows: Sequence[tuple],
    errors: Sequence[RowError],
    rows_seen: int,
    rows_skipped: int,
    max_errors: int | None,
    mode: str,
) -> ChunkResult:
    settle(conn)
    status, replace_scope, undo_day = _registration(conn, import_id, import_no, mode)
    preview = mode == "preview"
    try:
        with conn.transaction():
            # Claim the chunk first: a concurrent delivery of the same chunk blocks here until we commit,
            # then sees the conflict and returns the recorded counts.
            claimed = conn.execute(
                "INSERT INTO chunk_ledger (import_id, chunk_no) VALUES (%s, %s) ON CONFLICT DO NOTHING RETURNING 1",
                (import_id, chunk_no),
            ).fetchone()
            if claimed is None:
                return ChunkResult(_recorded_counts(conn, import_id, chunk_no), read_totals(conn, import_id))
            if status not in WRITABLE:
                raise _ImportEnded(status)

            base = version_base(import_no)
            params = {"base": base, "import_id": import_id, "no": import_no, "day": undo_day,
                      "mask": chunk_sql.present_mask(present)}
            created = updated = unchanged = 0
            late_deactivated: list[tuple[str, int]] = []
            # newer imports whose replace began: taken before any product lock, as their replace takes them
            late = [] if preview or not rows else lock_late_replaces(conn, import_no)
            if rows:
                latest = _latest_rows(conn, rows, base, preview)
                if latest:
                    created, updated, unchanged = _write_rows(conn, present, latest, params, preview)
                    if late:
                        late_deactivated = late_deactivations(conn, late, [r[1] for r in latest])
            if errors and replace_scope is not None:
                _record_failed_skus(conn, import_no, errors)

            counts = ChunkCounts(
                rows_seen=rows_seen,
                rows_imported=len(rows),
                rows_failed=rows_seen - len(rows),
                products_created=created,
                products_updated=updated,
                products_unchanged=unchanged,
                rows_skipped=rows_skipped,
            )
            conn.execute(
                "UPDATE chunk_ledger SET rows_seen = %s, rows_imported = %s, rows_failed = %s,"
                " products_created = %s, products_updated = %s, products_unchanged = %s, rows_skipped = %s"
                " WHERE import_id = %s AND chunk_no = %s",
                (counts.rows_seen, counts.rows_imported, counts.rows_failed, counts.products_created,
                 counts.products_updated, counts.products_unchanged, counts.rows_skipped, import_id, chunk_no),
            )
            # Last: the import's totals row, a hot lock shared by the import's chunks and fail_import.
            totals, failed_now = _add_to_totals(conn, import_id, counts, errors, max_errors)
    except _ImportEnded as ended:
        return ChunkResult(ChunkCounts(0, 0, 0, 0, 0, 0), read_totals(conn, import_id),
                           import_failed=ended.status == "failed", written=False,
                           error=_registry_error(conn, import_id))
    if failed_now:
        return ChunkResult(counts, totals, import_failed=True, error=TOO_MANY_ERRORS,
                           late_deactivated=tuple(late_deactivated))
    return ChunkResult(counts, totals, late_deactivated=tuple(late_deactivated))


def _latest_rows(conn: psycopg.Connection, rows: Sequence[tuple], base: int, preview: bool) -> list[tuple]:
    """The chunk's rows de-duplicated by SKU key (the last wins), in SKU-key order, without the rows older
    than the catalog's delete-all watermark (deleted, in creation order)."""
    if not preview:
        # Before reading the watermark: a delete-all (ACCESS EXCLUSIVE) either committed already, and its
        # watermark is visible to the next statement, or waits for this transaction.
        conn.execute("LOCK TABLE products IN ROW EXCLUSIVE MODE")
    row = conn.execute("SELECT version FROM catalog_watermark").fetchone()
    watermark = int(row[0]) if row else 0
    latest = {r[1]: r for r in rows}  # sku_key -> last row with it (rows are in file order)
    keep = [latest[k] for k in sorted(latest)]
    if watermark and base + max(r[_ROW_NO] for r in keep) < watermark:
        return []
    if watermark:
        keep = [r for r in keep if base + r[_ROW_NO] > watermark]
    return keep


# Imports for which this process saw a chunk of existing products: their next chunks go straight to the
# staged statements instead of trying the insert-only COPY first (a re-import would fail it on every chunk).
_imports_with_existing_rows: set[str] = set()


def _remember_existing(import_id: str) -> None:
    _imports_with_existing_rows.add(import_id)
    if len(_imports_with_existing_rows) > 10_000:
        _imports_with_existing_rows.clear()


def _ends_exist(conn: psycopg.Connection, rows: list[tuple]) -> bool:
    """Whether the product row (live or a tombstone) of the chunk's first or last SKU key exists (``rows``
    in SKU-key order): two primary-key probes that send a re-import straight to the staged statements. Its
    insert-only COPY would fail on the first existing SKU, and PostgreSQL logs every such failure as an
    ERROR (a duplicate key in the database's log per re-import and consumer process, which an operator
    reads as a fault). A chunk whose ends are new and that still meets an existing SKU falls back as before."""
    keys = [rows[0][1], rows[-1][1]]
    return conn.execute("SELECT EXISTS (SELECT 1 FROM products WHERE sku_key = ANY(%s))", (keys,)).fetchone() == (True,)


def _write_rows(conn: psycopg.Connection, present: frozenset[str], rows: list[tuple], params: dict,
                preview: bool) -> tuple[int, int, int]:
    """Write the de-duplicated rows; return the (created, updated, unchanged) deltas of this chunk."""
    import_id = params["import_id"]
    if not preview and import_id not in _imports_with_existing_rows:
        if _ends_exist(conn, rows):
            _remember_existing(import_id)
        else:
            try:
                with conn.transaction():  # a savepoint
                    _copy_new_products(conn, present, rows, params)
                return len(rows), 0, 0
            except psycopg.errors.UniqueViolation:
                _remember_existing(import_id)
    conn.execute(_CREATE_STAGE)
    with conn.cursor().copy(
        sql.SQL("COPY stage_rows ({}) FROM STDIN").format(sql.SQL(", ").join(map(sql.Identifier, _STAGE_COLUMNS)))
    ) as copy:
        write_rows(copy, rows, _STAGE_KINDS)
    params = {**params, "keys": _attribute_keys(rows) if "attributes" in present else []}
    # The common case first: the first touch of live products older than the import (the row wins every
    # field). Plain inserts, no per-field comparison; what it leaves goes through the general statements.
    fast = conn.execute(_statement(present, "preview-fast" if preview else "fast"), params).fetchone()
    assert fast is not None
    created, updated, unchanged, handled = 0, int(fast[0]), int(fast[1]), int(fast[2])
    if handled >= len(rows):
        return created, updated, unchanged
    if preview:
        # Lock the chunk's other SKUs in the preview (in SKU order): a chunk of the same preview holding one
        # of them commits first, and the statement below, a new snapshot, reads its overlay. Imports are not
        # blocked, and chunks with other SKUs run side by side.
        conn.execute(_LOCK_PREVIEW_SKUS, params)
        result = conn.execute(_statement(present, "preview"), params).fetchone()
        assert result is not None
        return int(result[0]), updated + int(result[1]), unchanged + int(result[2])
    # The existing products (a re-import: every row, and the insert is skipped); then the new SKUs.
    # A SKU another chunk inserted meanwhile is left by the insert: the existing statement takes it on a
    # second pass (a pass is idempotent for the rows it already wrote).
    for attempt in range(3):
        result = conn.execute(_statement(present, "existing"), params).fetchone()
        assert result is not None
        created, updated, unchanged = created + int(result[0]), updated + int(result[1]), unchanged + int(result[2])
        handled += int(result[3])
        if handled >= len(rows) or attempt == 2:
            break
        inserted = conn.execute(_statement(present, "insert"), params).fetchone()
        added = int(inserted[0]) if inserted else 0
        created += added
        handled += added
        if handled >= len(rows):
            break
    return created, updated, unchanged


_LOCK_PREVIEW_SKUS = (
    "INSERT INTO preview_locks AS l (import_no, sku_key) SELECT %(no)s, s.sku_key FROM stage_rows s"
    " WHERE NOT EXISTS (SELECT 1 FROM preview_products sh WHERE sh.import_no = %(no)s AND sh.sku_key = s.sku_key"
    " AND sh.version = %(base)s + s.row_no)"  # not the rows the fast statement took
    " ORDER BY s.sku_key"
    " ON CONFLICT (import_no, sku_key) DO UPDATE SET sku_key = excluded.sku_key"  # locks a row that exists
)


def _attribute_keys(rows: list[tuple]) -> list[str]:
    """The attribute keys of the chunk's rows (one header: the same keys on every row; a row with other
    keys is handled per row by the statement)."""
    first = rows[0][_ATTRIBUTES]
    if first is None:
        return []
    return list(json.loads(first) if isinstance(first, str) else first)


_statement_cache: dict[tuple[frozenset[str], str], sql.SQL] = {}


def _statement(present: frozenset[str], kind: str) -> sql.SQL:
    key = (present, kind)
    cached = _statement_cache.get(key)
    if cached is None:
        if kind == "insert":
            cached = chunk_sql.insert_statement(present)
        elif kind in ("fast", "preview-fast"):
            cached = chunk_sql.fast_statement(present, preview=kind == "preview-fast")
        else:
            cached = chunk_sql.existing_statement(present, preview=kind == "preview")
        _statement_cache[key] = cached
    return cached


def _copy_new_products(conn: psycopg.Connection, present: frozenset[str], rows: list[tuple], params: dict) -> None:
    """The insert-only fast path: every SKU of the chunk is new (a first import)."""
    positions = [ROW_FIELDS.index(f) for f in ("row_no", "sku_key", "sku", "name")]
    for name in (*OPTIONAL_FIELDS, "attributes"):
        if name in present:
            positions.append(ROW_FIELDS.index(name))
    absent = (0,) * sum(1 for f in OPTIONAL_FIELDS if f not in present)
    pick = operator.itemgetter(*positions)
    base, import_id, import_no = params["base"], params["import_id"], params["no"]
    columns = chunk_sql.copy_columns(present)
    # version, the picked row fields, the absent fields' versions, last_import_id, created_by_no
    kinds = "i" + "".join(_KIND.get(ROW_FIELDS[i], "s") for i in positions[1:]) + "i" * len(absent) + "si"
    ends = (*absent, import_id, import_no)
    with conn.cursor().copy(
        sql.SQL("COPY products ({}) FROM STDIN").format(sql.SQL(", ").join(map(sql.Identifier, columns)))
    ) as copy:
        write_rows(copy, [(base + values[0], *values[1:], *ends) for values in map(pick, rows)], kinds)
    _copy_created(conn, import_no, [row[1] for row in rows])


def _copy_created(conn: psycopg.Connection, import_no: int, keys: list[str]) -> None:
    """The ``create`` change records of ``keys``, one COPY block (a sixth faster than a row at a time), the
    keys escaped as COPY's text format needs (``copy_text``)."""
    if not keys:
        return
    with conn.cursor().copy("COPY changes (import_no, sku_key, action) FROM STDIN") as copy:
        head, tail = f"{import_no}\t", "\tc\n"
        copy.write(head + (tail + head).join(text_column(keys)) + tail)


def _record_failed_skus(conn: psycopg.Connection, import_no: int, errors: Sequence[RowError]) -> None:
    keys = sorted({e.sku.strip().lower() for e in errors if e.sku and e.sku.strip()})
    if keys:
        conn.execute(
            "INSERT INTO failed_skus (import_no, sku_key) SELECT %s, unnest(%s::text[]) ON CONFLICT DO NOTHING",
            (import_no, keys),
        )


_TOTAL_COLUMNS = ("rows_processed", "rows_imported", "rows_failed", "products_created", "products_updated",
                  "products_unchanged", "rows_skipped", "products_deactivated")
_RETURN_TOTALS = "chunks_done, " + ", ".join(_TOTAL_COLUMNS)


def _add_to_totals(conn: psycopg.Connection, import_id: str, counts: ChunkCounts, errors: Sequence[RowError],
                   max_errors: int | None) -> tuple[ImportTotals, bool]:
    """Lock the import's totals row, check the import may still write, store the row errors within the
    cap, add the chunk's counts; mark the import failed when ``max_errors`` is passed."""
    locked = conn.execute(
        "SELECT errors_stored FROM import_totals WHERE import_id = %s FOR UPDATE", (import_id,)
    ).fetchone()
    if locked is None:
        conn.execute("INSERT INTO import_totals (import_id) VALUES (%s) ON CONFLICT DO NOTHING", (import_id,))
        locked = conn.execute(
            "SELECT errors_stored FROM import_totals WHERE import_id = %s FOR UPDATE", (import_id,)
        ).fetchone()
        assert locked is not None
    # After the lock: a fail_import that committed meanwhile is visible to this statement.
    status = conn.execute("SELECT status FROM import_registry WHERE import_id = %s", (import_id,)).fetchone()
    if status is not None and status[0] not in WRITABLE:
        raise _ImportEnded(status[0])
    stored = min(len(errors), max(0, MAX_STORED_ERRORS - int(locked[0])))
    if stored:
        with conn.cursor().copy(
            "COPY row_errors (import_id, row_no, sku, column_name, message, value) FROM STDIN"
        ) as copy:
            write_rows(copy, [(import_id, e.row, e.sku, e.column, e.message, e.value) for e in errors[:stored]],
                       "sissss")
    row = conn.execute(
        "UPDATE import_totals SET chunks_done = chunks_done + 1, rows_processed = rows_processed + %s,"
        " rows_imported = rows_imported + %s, rows_failed = rows_failed + %s,"
        " products_created = products_created + %s, products_updated = products_updated + %s,"
        " products_unchanged = products_unchanged + %s, rows_skipped = rows_skipped + %s,"
        " errors_stored = errors_stored + %s, updated_at = now()"
        f" WHERE import_id = %s RETURNING {_RETURN_TOTALS}",
        (counts.rows_seen + counts.rows_skipped, counts.rows_imported, counts.rows_failed, counts.products_created,
         counts.products_updated, counts.products_unchanged, counts.rows_skipped, stored, import_id),
    ).fetchone()
    assert row is not None
    totals = ImportTotals(*row)
    failed_now = False
    if max_errors is not None and totals.rows_failed > max_errors:
        failed_now = conn.execute(
            "UPDATE import_registry SET status = 'failed', error = %s, finished_at = now()"
            " WHERE import_id = %s AND status IN ('pending', 'processing') RETURNING 1",
            (TOO_MANY_ERRORS, import_id),
        ).fetchone() is not None
    return totals, failed_now


def _registry_error(conn: psycopg.Connection, import_id: str) -> str | None:
    row = conn.execute("SELECT error FROM import_registry WHERE import_id = %s", (import_id,)).fetchone()
    conn.rollback()
    return row[0] if row else None


def read_totals(conn: psycopg.Connection, import_id: str) -> ImportTotals:
    """The committed totals of an import (zeros before its first chunk)."""
    row = conn.execute(f"SELECT {_RETURN_TOTALS} FROM import_totals WHERE import_id = %s", (import_id,)).fetchone()
    return ImportTotals(*row) if row else ImportTotals(0, 0, 0, 0, 0, 0, 0)


def _recorded_counts(conn: psycopg.Connection, import_id: str, chunk_no: int) -> ChunkCounts:
    row = conn.execute(
        "SELECT rows_seen, rows_imported, rows_failed, products_created, products_updated, products_unchanged,"
        " rows_skipped FROM chunk_ledger WHERE import_id = %s AND chunk_no = %s",
        (import_id, chunk_no),
    ).fetchone()
    assert row is not None
    seen, imported, failed, created, updated, unchanged, skipped = row
    return ChunkCounts(seen, imported, failed, created, updated, unchanged, replayed=True, rows_skipped=skipped)
