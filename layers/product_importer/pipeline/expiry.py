"""``expire_pending``: an import whose file never arrives ends ``failed`` ("upload expired"), CONTRACT §2.

A sweep (hourly in AWS, every few minutes on the local stack) looks at the imports created between
``lookback`` and ``expiry`` ago that are still ``pending``, and fails each one with a conditional write
that only applies while it is pending: a file that arrives at the last second wins.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from product_importer.pipeline import lifecycle
from product_importer.ports import ChunkLedger, ProgressStore

logger = logging.getLogger(__name__)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def expire_pending(progress: ProgressStore, ledger: ChunkLedger, *, now: datetime, expiry_s: float,
                   lookback_s: float) -> list[str]:
    """Fail the imports pending for more than ``expiry_s``; returns the ids this sweep expired."""
    before = now - timedelta(seconds=expiry_s)
    after = before - timedelta(seconds=lookback_s)
    reason = lifecycle.upload_expired(expiry_s / 3600)
    expired = [import_id for import_id in progress.pending_created_between(_iso(after), _iso(before))
               if progress.expire(import_id, reason)]
    for import_id in expired:  # PostgreSQL's registry too (it knows uploads from their creation)
        ledger.fail_import(import_id, reason)
    if expired:
        logger.info("expired %d pending import(s): %s", len(expired), ", ".join(expired[:20]))
    return expired
