"""``PostgresChunkLedger``: the ``ChunkLedger`` port on PostgreSQL (``upsert_chunk`` on this container's
one reused connection)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, cast

import psycopg

from product_importer.db import registry
from product_importer.db.chunks import read_totals, upsert_chunk
from product_importer.db.registry import settle
from product_importer.db.replace import Scope
from product_importer.ingest.rows import RowError
from product_importer.models import ChunkResult, ImportTotals


class PostgresChunkLedger:
    """``connection`` gives the container's one connection (reopened if it broke); ``upsert`` is the one
    PostgreSQL transaction per chunk."""

    def __init__(self, connection: Callable[[], psycopg.Connection],
                 upsert: Callable[..., ChunkResult] = upsert_chunk) -> None:
        self._connection = connection
        self._upsert = upsert

    def write_chunk(
        self,
        *,
        import_id: str,
        import_no: int,
        chunk_no: int,
        present_fields: Iterable[str],
        rows: Sequence[tuple[Any, ...]],
        errors: Sequence[RowError],
        rows_seen: int,
        rows_skipped: int = 0,
        max_errors: int | None = None,
        mode: str = "import",
    ) -> ChunkResult:
        return self._upsert(self._connection(), import_id=import_id, import_no=import_no, chunk_no=chunk_no,
                            present_fields=present_fields, rows=rows, errors=errors, rows_seen=rows_seen,
                            rows_skipped=rows_skipped, max_errors=max_errors, mode=mode)

    def committed_totals(self, import_id: str) -> ImportTotals:
        """The import's totals as PostgreSQL committed them (the read's transaction is ended: the
        connection is reused)."""
        conn = self._connection()
        settle(conn)
        totals = read_totals(conn, import_id)
        conn.rollback()
        return totals

    def register_import(self, import_id: str, *, import_no: int, partner: str | None = None,
                        replace_scope: str | None = None) -> None:
        registry.register_import(self._connection(), import_id, import_no=import_no, partner=partner,
                                 replace_scope=cast(Scope | None, replace_scope))

    def fail_import(self, import_id: str, reason: str) -> bool:
        return registry.fail_import(self._connection(), import_id, reason)

    def finish_import(self, import_id: str, status: str) -> bool:
        if status not in ("completed", "previewed"):
            raise ValueError(f"an import finishes completed or previewed, not {status}")
        return registry.finish_import(self._connection(), import_id, status)  # type: ignore[arg-type]
