"""``PostgresJobLedger``: the ``JobLedger`` port on PostgreSQL — an import's end in the registry (with the
status it ends up in), its replace (``db.replace``) and its revert chunks (``db.revert``), on this
container's one reused connection (``PostgresChunkLedger`` keeps the chunk writes, the committed totals
and the registry's fail/finish).

Every call leaves the connection outside a transaction (the connection is shared with the chunk writes).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal, cast

import psycopg

from product_importer.db import registry, replace, revert
from product_importer.models import (
    DeactivationStep,
    ImportEnd,
    ImportMode,
    ImportStatus,
    ReplaceEstimate,
    RevertProgress,
)

Scope = Literal["all", "partner"]


class PostgresJobLedger:
    def __init__(self, connection: Callable[[], psycopg.Connection]) -> None:
        self._connection = connection

    def end_import(self, import_id: str, status: ImportStatus, *, import_no: int, mode: ImportMode,
                   partner: str | None = None, replace_scope: str | None = None) -> ImportEnd:
        if status not in (ImportStatus.COMPLETED, ImportStatus.PREVIEWED):
            raise ValueError(f"an import ends completed or previewed, not {status}")
        conn = self._connection()
        # An import none of whose chunks reached PostgreSQL (a header-only file) is registered first, so
        # that its end, its replace and its revert find it.
        registry.register_import(conn, import_id, import_no=import_no, mode=mode, partner=partner,
                                 replace_scope=cast(Scope | None, replace_scope), status="processing")
        registry.finish_import(conn, import_id, cast(Literal["completed", "previewed"], status.value))
        try:
            row = conn.execute("SELECT status, error FROM import_registry WHERE import_id = %s",
                               (import_id,)).fetchone()
        finally:
            conn.rollback()
        return ImportEnd(row[0], row[1]) if row else ImportEnd(None)

    def estimate_replace(self, import_id: str, *, scope: str, partner: str | None) -> ReplaceEstimate:
        conn = self._connection()
        try:
            plan = replace.plan_replace(conn, import_id, scope=cast(Scope, scope), partner=partner)
        finally:
            conn.rollback()
        return ReplaceEstimate(plan.in_scope, plan.would_deactivate)

    def deactivate_missing(self, import_id: str, *, scope: str, partner: str | None,
                           after: str | None) -> DeactivationStep:
        step = replace.deactivate_missing(self._connection(), import_id, scope=cast(Scope, scope), partner=partner,
                                          after=after)
        return DeactivationStep(step.deactivated, step.next_after, step.products_deactivated)

    def revert_chunk(self, import_id: str, chunk_no: int) -> RevertProgress:
        result = revert.revert_chunk(self._connection(), import_id=import_id, chunk_no=chunk_no)
        t = result.totals
        return RevertProgress(t.chunks_total, t.chunks_done, t.restored, t.deleted, t.conflicts, t.done,
                              replayed=result.replayed)

    def fail_revert(self, import_id: str) -> None:
        revert.fail_revert(self._connection(), import_id)
