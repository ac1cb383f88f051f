"""The scheduled ``purge_undo`` function (CONTRACT §2: undo data is kept ``UNDO_RETENTION_DAYS``): it runs
on the same schedule trigger in AWS (EventBridge) and on the local stack (its timer), on real PostgreSQL."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "ProductImporterTest")
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")

from product_importer.db.revert import UndoExpiredError, plan_revert

from functions.purge_undo.handler import handler
from infra import topology
from infra.local.events import LocalContext
from tests.integration.test_revert import file_of, r, run


def test_purge_undo_is_a_scheduled_database_function_of_the_topology() -> None:
    spec = topology.FUNCTIONS["purge_undo"]
    assert isinstance(spec.trigger, topology.ScheduleTrigger)  # EventBridge in AWS, the timer locally
    assert spec.needs_database and spec.trigger.rate_minutes <= 24 * 60


def test_the_scheduled_purge_drops_undo_data_past_the_retention_and_keeps_the_history(
    conn: psycopg.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("UNDO_RETENTION_DAYS", raising=False)
    first = file_of(conn, "purge-first", [r(1, "P-1", "a")])
    second = file_of(conn, "purge-second", [r(1, "P-1", "b")])
    run(conn, first, second)
    context = LocalContext("purge_undo")

    # Within the retention (default 30 days) nothing goes: the import can still be reverted
    kept = handler({"source": "aws.events"}, context, connection=conn, now=datetime.now(UTC) + timedelta(days=29))
    assert kept == {"dropped": 0, "retention_days": 30, "discarded_changes": 0}
    assert conn.execute("SELECT count(*) FROM undo").fetchone() == (1,)
    assert conn.execute("SELECT undo_expired FROM import_registry WHERE import_id = 'purge-second'").fetchone() == (False,)

    # Past it, the day's undo partitions are dropped, the revert is refused, the change records stay
    purged = handler({"source": "aws.events"}, context, connection=conn, now=datetime.now(UTC) + timedelta(days=40))
    assert purged["dropped"] >= 1
    assert conn.execute("SELECT undo_expired FROM import_registry WHERE import_id = 'purge-second'").fetchone() == (True,)
    assert conn.execute("SELECT count(*) FROM undo").fetchone() == (0,)
    with pytest.raises(UndoExpiredError):
        plan_revert(conn, "purge-second")
    conn.rollback()
    assert conn.execute("SELECT count(*) FROM changes WHERE sku_key = 'p-1'").fetchone() == (2,)
