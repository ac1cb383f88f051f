"""``PgPlanStore``, the ``PlanStore`` port on PostgreSQL: split plans and splitter checkpoints
(table ``import_plans``, migration 0008)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from product_importer.db.registry import settle
from product_importer.models import SplitPlan
from product_importer.ports import StoredCheckpoint


class PgPlanStore:
    """Plans never change once pinned, so up to ``cache_size`` of them are kept in memory: a consumer
    reads its import's plan once per warm container, not once per chunk."""

    def __init__(self, connection: Callable[[], psycopg.Connection], *, cache_size: int = 64) -> None:
        self._connection = connection
        self._cache: OrderedDict[str, SplitPlan] = OrderedDict()
        self._cache_size = cache_size

    def pin(self, plan: SplitPlan) -> SplitPlan:
        conn = self._connection()
        settle(conn)
        with conn.transaction():
            conn.execute("INSERT INTO import_plans (import_id, plan) VALUES (%s, %s) ON CONFLICT DO NOTHING",
                         (plan.import_id, Jsonb(plan.model_dump(mode="json"))))
            row = conn.execute("SELECT plan FROM import_plans WHERE import_id = %s", (plan.import_id,)).fetchone()
        assert row is not None
        return self._remember(SplitPlan.model_validate(row[0]))

    def get(self, import_id: str) -> SplitPlan | None:
        cached = self._cache.get(import_id)
        if cached is not None:
            self._cache.move_to_end(import_id)
            return cached
        row = self._read("SELECT plan FROM import_plans WHERE import_id = %s", import_id)
        return self._remember(SplitPlan.model_validate(row[0])) if row else None

    def checkpoint(self, import_id: str) -> StoredCheckpoint | None:
        row = self._read("SELECT checkpoint, checkpoint_sent FROM import_plans WHERE import_id = %s", import_id)
        if row is None or row[0] is None:
            return None
        return StoredCheckpoint(position=dict(row[0]), sent=bool(row[1]))

    def save_checkpoint(self, import_id: str, position: dict[str, Any], *, sent: bool) -> bool:
        conn = self._connection()
        settle(conn)
        with conn.transaction():
            cursor = conn.execute(
                "UPDATE import_plans SET checkpoint = %(position)s, checkpoint_offset = %(offset)s,"
                " checkpoint_sent = %(sent)s WHERE import_id = %(id)s AND (checkpoint_offset IS NULL"
                " OR checkpoint_offset < %(offset)s OR (checkpoint_offset = %(offset)s AND %(sent)s))",
                {"position": Jsonb(position), "offset": int(position["offset"]), "sent": sent, "id": import_id},
            )
        return cursor.rowcount == 1

    def _read(self, query: str, import_id: str) -> Any:
        conn = self._connection()
        settle(conn)
        try:
            return conn.execute(query, (import_id,)).fetchone()
        finally:
            conn.rollback()  # end the read's transaction: the connection is shared with the chunk writes

    def _remember(self, plan: SplitPlan) -> SplitPlan:
        self._cache[plan.import_id] = plan
        self._cache.move_to_end(plan.import_id)
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return plan
