"""Revert an import (CONTRACT §2 "Revert"), chunked and exactly once; and the purge of undo data.

Every product the import touched goes back to the state it would have if the import — and every import
reverted before it — had never run, unless a later write that is not itself reverted (an import created
later, an edit or a delete) touched it since: then it is left alone and listed as a conflict.
See docs/changes-and-undo.md for the storage and the algorithm.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg


class RevertRefusedError(Exception):
    """The import cannot be reverted (the API answers 409)."""


class AlreadyRevertedError(RevertRefusedError):
    """The import was already reverted (or its revert is running)."""


class UndoExpiredError(RevertRefusedError):
    """The import's undo data is older than ``UNDO_RETENTION_DAYS``."""


class NotRevertableError(RevertRefusedError):
    """Unknown to the database, or a preview (nothing to revert)."""


@dataclass(frozen=True)
class RevertTotals:
    chunks_total: int
    chunks_done: int
    restored: int
    deleted: int
    conflicts: int
    done: bool  # every chunk committed: the import is now ``reverted``


@dataclass(frozen=True)
class RevertChunkResult:
    restored: int
    deleted: int
    conflicts: int
    replayed: bool  # the ledger already had this chunk: nothing was written
    totals: RevertTotals


def plan_revert(conn: psycopg.Connection, import_id: str, *, chunk_products: int = 5000) -> int:
    """Start reverting ``import_id``: mark it ``reverting`` (its late chunks write nothing from now on),
    cut the products it touched into SKU ranges of ``chunk_products`` and return how many revert chunks
    there are (0 for an import that touched nothing: it is then ``reverted`` at once).
    Raises ``AlreadyRevertedError``, ``UndoExpiredError`` or ``NotRevertableError`` (409). Commits."""
    raise NotImplementedError


def revert_chunk(conn: psycopg.Connection, *, import_id: str, chunk_no: int) -> RevertChunkResult:
    """Revert one planned chunk in one transaction (ledger: a redelivery changes nothing and returns the
    recorded counts). The last chunk to commit marks the import ``reverted``. Commits."""
    raise NotImplementedError


def revert_totals(conn: psycopg.Connection, import_id: str) -> RevertTotals | None:
    """The revert's running totals (None if no revert was planned)."""
    raise NotImplementedError


def revert_conflicts(
    conn: psycopg.Connection, import_id: str, *, cursor: str | None = None, limit: int = 50
) -> tuple[list[dict[str, Any]], str | None]:
    """Products the revert left alone, by SKU: ``{"sku", "changed_by": {"import_id"} | {"edit": True}, "at"}``."""
    raise NotImplementedError


def purge_undo(conn: psycopg.Connection, now: datetime | None = None, *, retention_days: int | None = None) -> int:
    """Drop the undo partitions older than the retention (``UNDO_RETENTION_DAYS``, default 30) and mark
    those imports' undo expired; change records stay. Returns the number of partitions dropped. Commits."""
    raise NotImplementedError
