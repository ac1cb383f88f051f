"""The import registry: what PostgreSQL knows of each import (its number, mode, status, partner, undo day).

The chunk transaction reads an import's status here and only writes while it is ``pending`` or
``processing``; ``fail_import`` and the chunk that trips ``max_errors`` change it under the import's
totals-row lock, which every chunk takes before it commits, so a chunk committing after the failure
writes no product (docs/changes-and-undo.md).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Literal

import psycopg

WRITABLE = ("pending", "processing")
DEFAULT_UNDO_RETENTION_DAYS = 30
# A discarded preview's change records deleted within DELETE /api/imports/{id}, at most: one statement of
# well under a second, so the request ends within API Gateway's 30 s whatever the preview's size (a preview
# of millions of rows took minutes, and the API's Lambda was cut off at 29 s); the scheduled sweep
# (purge_undo) deletes the rest, batch by batch (``forget_discarded_changes``).
DISCARD_BATCH_ROWS = 20_000

# Partitions known to exist, per database (a process talks to one database; tests to many).
_partitions: set[tuple[str, date]] = set()


@dataclass(frozen=True)
class ImportInfo:
    import_id: str
    import_no: int
    mode: str
    status: str
    partner: str | None
    replace_scope: str | None
    created_at: datetime
    undo_day: date
    undo_expired: bool
    revert_state: str | None


def settle(conn: psycopg.Connection) -> None:
    """End the caller's open read transaction, so that the next ``conn.transaction()`` is a real one that
    commits (not a savepoint of it). Inside the caller's own transaction block it does nothing: the work
    then commits with the caller's."""
    if conn.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS:
        with contextlib.suppress(psycopg.ProgrammingError):
            conn.commit()


def undo_retention_days() -> int:
    """``UNDO_RETENTION_DAYS`` (default 30): how long an import can be reverted."""
    try:
        return max(1, int(os.environ.get("UNDO_RETENTION_DAYS", DEFAULT_UNDO_RETENTION_DAYS)))
    except ValueError:
        return DEFAULT_UNDO_RETENTION_DAYS


def register_import(
    conn: psycopg.Connection,
    import_id: str,
    *,
    import_no: int,
    mode: Literal["import", "preview"] = "import",
    partner: str | None = None,
    replace_scope: Literal["all", "partner"] | None = None,
    preview_of: str | None = None,
    status: str = "processing",
) -> None:
    """Record a new import (idempotent: a second call for the same id changes nothing). Call it when the
    import is created (API or drop), before its first chunk; ``upsert_chunk`` registers an unknown import
    itself (mode from its ``mode`` argument, no partner) so older callers keep working. Commits."""
    settle(conn)
    with conn.transaction():
        conn.execute(
            "INSERT INTO import_registry (import_id, import_no, mode, status, partner, replace_scope, preview_of)"
            # No conflict target: two first chunks of one import registering it at once conflict on
            # import_no as well as on import_id, and the second must wait and do nothing, not fail.
            " VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
            (import_id, import_no, mode, status, partner, replace_scope, preview_of),
        )
        conn.execute("INSERT INTO import_totals (import_id) VALUES (%s) ON CONFLICT DO NOTHING", (import_id,))
        day = conn.execute("SELECT undo_day FROM import_registry WHERE import_id = %s", (import_id,)).fetchone()
        if day is not None:
            ensure_undo_partition(conn, day[0])


def import_info(conn: psycopg.Connection, import_id: str) -> ImportInfo | None:
    row = conn.execute(
        "SELECT import_id, import_no, mode, status, partner, replace_scope, created_at, undo_day, undo_expired,"
        " revert_state FROM import_registry WHERE import_id = %s",
        (import_id,),
    ).fetchone()
    return ImportInfo(*row) if row else None


def fail_import(conn: psycopg.Connection, import_id: str, reason: str) -> bool:
    """Mark the import ``failed`` (from ``pending``/``processing``); True if this call changed it.

    Takes the import's totals-row lock first, the lock every chunk takes before it commits: a chunk in
    flight either commits before this (its rows stay) or sees ``failed`` and writes nothing. Commits."""
    settle(conn)
    with conn.transaction():
        _lock_totals(conn, import_id)
        row = conn.execute(
            "UPDATE import_registry SET status = 'failed', error = %s, finished_at = now()"
            " WHERE import_id = %s AND status IN ('pending', 'processing') RETURNING 1",
            (reason[:2000], import_id),
        ).fetchone()
    return row is not None


def finish_import(conn: psycopg.Connection, import_id: str, status: Literal["completed", "previewed"]) -> bool:
    """Record the import's end (``completed``, or ``previewed`` for a preview, whose overlay of
    would-be product states is then dropped: its change records and counts stay). Idempotent. Commits."""
    settle(conn)
    with conn.transaction():
        _lock_totals(conn, import_id)
        row = conn.execute(
            "UPDATE import_registry SET status = %s, finished_at = now()"
            " WHERE import_id = %s AND status IN ('pending', 'processing') RETURNING import_no, mode",
            (status, import_id),
        ).fetchone()
        if row is not None and row[1] == "preview":
            _drop_overlay(conn, row[0])
    return row is not None


def _drop_overlay(conn: psycopg.Connection, import_no: int) -> None:
    """A preview's overlay (the state its rows would have written) and its SKU locks, which only its
    running chunks need."""
    conn.execute("DELETE FROM preview_products WHERE import_no = %s", (import_no,))
    conn.execute("DELETE FROM preview_locks WHERE import_no = %s", (import_no,))


def discard_preview(conn: psycopg.Connection, import_id: str) -> None:
    """Forget a preview's planned changes, counts and overlay (``DELETE /api/imports/{id}``): marked discarded
    at once, and up to ``DISCARD_BATCH_ROWS`` change records deleted; the scheduled sweep deletes the rest.
    Commits."""
    settle(conn)
    with conn.transaction():
        row = conn.execute(
            "SELECT import_no FROM import_registry WHERE import_id = %s AND mode = 'preview'", (import_id,)
        ).fetchone()
        if row is None:
            return
        _drop_overlay(conn, row[0])
        conn.execute("UPDATE import_registry SET status = 'discarded' WHERE import_id = %s", (import_id,))
    forget_discarded_changes(conn, import_no=int(row[0]), batch_rows=DISCARD_BATCH_ROWS, batches=1)


def forget_discarded_changes(conn: psycopg.Connection, *, import_no: int | None = None,
                             batch_rows: int = DISCARD_BATCH_ROWS, batches: int | None = None,
                             time_left: Callable[[], float] | None = None) -> int:
    """Delete the change records of discarded previews (of ``import_no`` only, if given), ``batch_rows`` per
    transaction, until none is left, ``batches`` ran, or ``time_left()`` (seconds) is under 30.
    Returns how many were deleted. Commits each batch.

    Nothing reads them once the preview is discarded (its import answers 404; a product's history lists
    imports only), so deleting them later changes no answer."""
    deleted = 0
    done = 0
    settle(conn)
    while batches is None or done < batches:
        with conn.transaction():
            count = conn.execute(
                "DELETE FROM changes WHERE (import_no, sku_key) IN (SELECT c.import_no, c.sku_key FROM changes c"
                " JOIN import_registry r ON r.import_no = c.import_no WHERE r.mode = 'preview'"
                " AND r.status = 'discarded' AND (%(no)s::bigint IS NULL OR c.import_no = %(no)s::bigint)"
                " LIMIT %(rows)s)",
                {"no": import_no, "rows": batch_rows},
            ).rowcount
        deleted += max(count, 0)
        done += 1
        if count < batch_rows or (time_left is not None and time_left() < 30):
            break
    return deleted


def _lock_totals(conn: psycopg.Connection, import_id: str) -> None:
    conn.execute(
        "INSERT INTO import_totals (import_id) VALUES (%s) ON CONFLICT (import_id) DO NOTHING", (import_id,)
    )
    conn.execute("SELECT 1 FROM import_totals WHERE import_id = %s FOR UPDATE", (import_id,))


def ensure_undo_partition(conn: psycopg.Connection, day: date) -> None:
    """The day partitions of ``undo`` and ``undo_lost`` for ``day`` (created once; cached per process)."""
    key = (conn.info.dbname + "@" + conn.info.host + ":" + str(conn.info.port), day)
    if key in _partitions:
        return
    # Through a function that runs as the schema's owner: the application's role may not create tables
    # (migration 0006, product_importer.db.roles). IF NOT EXISTS inside: concurrent callers are fine.
    for attempt in range(2):
        try:
            with conn.transaction():
                conn.execute("SELECT pi_ensure_undo_partition(%s)", (day,))
            break
        except (psycopg.errors.DuplicateTable, psycopg.errors.UniqueViolation):
            if attempt:  # a concurrent registration created it (a race inside CREATE ... IF NOT EXISTS)
                raise
    _partitions.add(key)


def forget_partitions() -> None:
    """Forget the partition cache (after ``purge_undo`` dropped some)."""
    _partitions.clear()


def today_utc() -> date:
    return datetime.now(UTC).date()
