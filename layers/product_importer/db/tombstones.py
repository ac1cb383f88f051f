"""Purging tombstones once nothing can need them (the scheduled ``purge_undo`` function runs it).

A delete through the API, and the revert of an import that created a product, leave a *tombstone*: the
product's row with ``deleted``, every read, count and search filtering it out (docs/changes-and-undo.md).
It exists for two readers only: a chunk of an import created before it (which must not bring the product
back), and the revert of such an import (which must see that a delete came after it). Without a purge
they stay for good: the catalog's table only grows, and a revert of a 1M-product insert import left the
product list walking 1M dead rows on every page (~0.4 s a page, docs/changes-and-undo.md).

A tombstone goes when both readers are gone:

- it was written (``updated_at``) more than ``UNDO_RETENTION_DAYS`` ago: every import created before it
  is older than the retention, so it can no longer be reverted (CONTRACT §2: 409), and if it never
  arrived it expired after 24 h (CONTRACT §2: pending imports expire); and
- no import created before it (``version``'s import number) is still writing: pending or processing in
  the registry, or being reverted.

What a purge removes is only the row: a later import of the SKU creates the product again (``create``, as
over a tombstone), and the change records, the product's history, stay.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import psycopg

from product_importer.db.fields import ROW_SHIFT
from product_importer.db.registry import WRITABLE, settle, undo_retention_days

BATCH = 10_000  # tombstones deleted per transaction (row locks held briefly: chunks wait at most one batch)
_NO_LIMIT = (1 << 63) - 1

_IN_FLIGHT = (  # imports whose chunks may still write (registry.WRITABLE), and reverts running
    "SELECT min(import_no) FROM import_registry"
    f" WHERE status IN ({', '.join(repr(s) for s in WRITABLE)}, 'reverting') OR revert_state = 'running'"
)
# Walks the primary key from the cursor: one pass over the catalog for the whole purge.
_FIND = (
    "SELECT sku_key FROM products WHERE sku_key > %(after)s AND deleted AND updated_at < %(before)s"
    " AND version < %(below)s ORDER BY sku_key LIMIT %(batch)s"
)
# The conditions again, under the rows' locks: a chunk that made the product live again meanwhile keeps it.
_DELETE = (
    "DELETE FROM products WHERE sku_key = ANY(%(keys)s) AND deleted AND updated_at < %(before)s"
    " AND version < %(below)s"
)


def purge_tombstones(
    conn: psycopg.Connection,
    now: datetime | None = None,
    *,
    retention_days: int | None = None,
    batch: int | None = None,
    time_left: Callable[[], float] | None = None,
) -> int:
    """Delete the tombstones nothing can need any more (module docstring), ``batch`` (``BATCH``) per transaction,
    until none is left or ``time_left()`` (seconds) falls under 5. Returns how many were deleted; the
    next run goes on where this one stopped. Commits."""
    now = now or datetime.now(UTC)
    batch = batch or BATCH  # read at the call: a test (or an operator's shell) may change BATCH
    days = retention_days if retention_days is not None else undo_retention_days()
    before = now - timedelta(days=days)
    settle(conn)
    row = conn.execute(_IN_FLIGHT).fetchone()
    conn.commit()
    oldest = row[0] if row else None
    below = _NO_LIMIT if oldest is None else int(oldest) << ROW_SHIFT
    purged, after = 0, ""
    while time_left is None or time_left() > 5:
        with conn.transaction():
            params = {"after": after, "before": before, "below": below, "batch": batch}
            keys = [k for (k,) in conn.execute(_FIND, params).fetchall()]
            if not keys:
                break
            deleted = conn.execute(_DELETE, {**params, "keys": keys})
            purged += deleted.rowcount
        after = keys[-1]
    return purged


__all__ = ["BATCH", "purge_tombstones"]
