"""purge_undo: a schedule (daily in AWS; periodic on the local stack) → the undo data of imports older than
``UNDO_RETENTION_DAYS`` (default 30) is dropped and those imports' revert answers 409 (CONTRACT §2).

Undo data is day-partitioned (``docs/changes-and-undo.md``); without this sweep the partitions grow for
ever. Change records stay. Dropping goes through the owner's ``pi_drop_undo_partitions`` (migration 0006):
the application role may not drop tables itself. The sweep also deletes, in batches while its time lasts,
the change records of discarded previews that ``DELETE /api/imports/{id}`` left (it deletes a bounded
number, to answer within API Gateway's 30 s).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import psycopg
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from product_importer import runtime
from product_importer.db.registry import forget_discarded_changes, undo_retention_days
from product_importer.db.revert import purge_undo
from product_importer.db.tombstones import purge_tombstones

logger = Logger(service="purge_undo")
tracer = Tracer(service="purge_undo")
metrics = Metrics(service="purge_undo")


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext, connection: psycopg.Connection | None = None,
            now: datetime | None = None) -> dict[str, Any]:
    """``{"dropped": partitions dropped, "retention_days": N, "discarded_changes": change records of discarded
    previews deleted, "tombstones": tombstones deleted}``; a database error raises (the schedule's next run
    tries again: nothing is lost by waiting)."""
    conn = connection or runtime.db_connection()
    now = now or datetime.now(UTC)
    dropped = purge_undo(conn, now)

    def time_left() -> float:
        return context.get_remaining_time_in_millis() / 1000

    forgotten = forget_discarded_changes(conn, time_left=time_left)
    tombstones = purge_tombstones(conn, now, time_left=time_left)
    metrics.add_metric(name="UndoPartitionsDropped", unit=MetricUnit.Count, value=dropped)
    metrics.add_metric(name="DiscardedChangesDeleted", unit=MetricUnit.Count, value=forgotten)
    metrics.add_metric(name="TombstonesPurged", unit=MetricUnit.Count, value=tombstones)
    result = {"dropped": dropped, "retention_days": undo_retention_days(), "discarded_changes": forgotten,
              "tombstones": tombstones}
    logger.info("undo data purged", extra=result)
    return result
