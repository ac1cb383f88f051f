"""The scheduled ``purge_undo`` function (CONTRACT §2: undo data is kept ``UNDO_RETENTION_DAYS``): it runs
on the same schedule trigger in AWS (EventBridge) and on the local stack (its timer), on real PostgreSQL."""

from __future__ import annotations

import os
import random
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "ProductImporterTest")
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")

from product_importer.db import tombstones
from product_importer.db.chunks import next_import_number
from product_importer.db.registry import finish_import, register_import
from product_importer.db.revert import UndoExpiredError, plan_revert
from product_importer.db.tombstones import purge_tombstones
from product_importer.products import repository

from functions.purge_undo.handler import handler
from infra import topology
from infra.local.events import LocalContext
from tests.integration.catalog_model import (
    apply_chunk,
    apply_file,
    catalog_of,
    expected_of,
    random_file,
    replay,
    shuffled_deliveries,
)
from tests.integration.test_revert import file_of, r, run
from tests.pg import EmbeddedDatabases, fresh_database


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
    assert kept == {"dropped": 0, "retention_days": 30, "discarded_changes": 0, "tombstones": 0}
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


# ---- tombstones (db/tombstones.py) ---------------------------------------------------------------------------

def _tombstones(conn: psycopg.Connection) -> list[str]:
    keys = [k for (k,) in conn.execute("SELECT sku_key FROM products WHERE deleted ORDER BY sku_key").fetchall()]
    conn.rollback()
    return keys


def _finished(conn: psycopg.Connection, *files: object) -> None:
    for file in files:
        finish_import(conn, file.import_id, "completed")  # type: ignore[attr-defined]
    conn.commit()


def test_tombstones_past_the_retention_are_purged_and_the_sku_can_be_imported_again(
    conn: psycopg.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("UNDO_RETENTION_DAYS", raising=False)
    first = file_of(conn, "tomb-first", [r(1, "A", "alpha"), r(2, "B", "beta"), r(3, "C", "gamma")])
    run(conn, first)
    _finished(conn, first)
    repository.delete_product(conn, "A")
    repository.delete_product(conn, "B")
    assert _tombstones(conn) == ["a", "b"]

    # Within the retention an import created before the deletes could still be reverted: kept
    assert purge_tombstones(conn, datetime.now(UTC) + timedelta(days=29)) == 0
    assert _tombstones(conn) == ["a", "b"]
    # A run out of time deletes nothing and the next one goes on
    assert purge_tombstones(conn, datetime.now(UTC) + timedelta(days=40), time_left=lambda: 1.0) == 0

    # Past it, by the scheduled function, in batches: the rows go, the live product and the history stay
    monkeypatch.setattr(tombstones, "BATCH", 1)
    one_batch = iter([10.0, 0.0]).__next__  # time for one batch, then none
    assert purge_tombstones(conn, datetime.now(UTC) + timedelta(days=40), time_left=one_batch) == 1
    assert _tombstones(conn) == ["b"]
    result = handler({"source": "aws.events"}, LocalContext("purge_undo"), connection=conn,
                     now=datetime.now(UTC) + timedelta(days=40))
    assert result["tombstones"] == 1
    assert _tombstones(conn) == []
    assert conn.execute("SELECT sku_key FROM products").fetchall() == [("c",)]
    assert conn.execute("SELECT action FROM changes WHERE sku_key = 'a' ORDER BY import_no").fetchall() == [
        ("c",), ("x",)]
    conn.rollback()

    # A later import creates the product again, as over a tombstone
    again = file_of(conn, "tomb-again", [r(1, "A", "alpha again")])
    run(conn, again)
    assert conn.execute("SELECT name FROM products WHERE sku_key = 'a' AND NOT deleted").fetchone() == ("alpha again",)
    assert conn.execute("SELECT action FROM changes WHERE import_no = %s", (again.import_no,)).fetchall() == [("c",)]


def test_a_tombstone_stays_while_an_import_created_before_it_is_still_writing(conn: psycopg.Connection) -> None:
    base = file_of(conn, "tomb-base", [r(1, "A", "alpha")])
    run(conn, base)
    _finished(conn, base)
    late = file_of(conn, "tomb-late", [r(1, "A", "late")])  # created before the delete, its chunk not run yet
    repository.delete_product(conn, "A")
    later = datetime.now(UTC) + timedelta(days=40)

    assert purge_tombstones(conn, later) == 0
    run(conn, late)  # its chunk meets the tombstone, newer than its rows: the product stays deleted
    assert _tombstones(conn) == ["a"]
    _finished(conn, late)
    assert purge_tombstones(conn, later) == 1
    assert _tombstones(conn) == []


def test_a_tombstone_made_live_again_while_the_purge_runs_is_kept(conn: psycopg.Connection) -> None:
    base = file_of(conn, "tomb-live-base", [r(1, "A", "alpha")])
    run(conn, base)
    _finished(conn, base)
    repository.delete_product(conn, "A")
    params = {"after": "", "before": datetime.now(UTC) + timedelta(days=1), "below": 1 << 62, "batch": 10}
    found = [k for (k,) in conn.execute(tombstones._FIND, params).fetchall()]
    conn.rollback()
    assert found == ["a"]

    newer = file_of(conn, "tomb-live-newer", [r(1, "A", "alpha back")])  # commits between the find and the delete
    run(conn, newer)
    deleted = conn.execute(tombstones._DELETE, {**params, "keys": found}).rowcount
    conn.commit()
    assert deleted == 0
    assert conn.execute("SELECT name FROM products WHERE sku_key = 'a' AND NOT deleted").fetchone() == ("alpha back",)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1))
def test_purging_tombstones_at_any_moment_never_changes_the_catalog(databases: EmbeddedDatabases, seed: int) -> None:
    """Imports A, deletes of products they made (created after A), imports B (created after the deletes),
    every chunk delivered in random order with redeliveries, and the purge run between any two deliveries as
    if the retention had passed: the catalog is A, then the deletes, then B, replayed in creation order. A
    purge that removed a tombstone while an import of A still wrote let that import's late chunk bring the
    product back."""
    rng = random.Random(seed)
    later = datetime.now(UTC) + timedelta(days=40)
    skus = [f"t{i}" for i in range(5)]
    with fresh_database(databases) as url, psycopg.connect(url) as conn:
        def files(tag: str) -> list:
            made = [random_file(rng, f"{tag}{i}", next_import_number(conn), skus) for i in range(3)]
            for file in made:
                register_import(conn, file.import_id, import_no=file.import_no)
            conn.commit()
            return made

        def deliver(made: list, *, deletes: int) -> None:
            left = {i: set(range(len(f.chunks))) for i, f in enumerate(made)}
            for i, chunk_no in shuffled_deliveries(rng, made):
                apply_chunk(conn, made[i], chunk_no)
                if chunk_no in left[i]:
                    left[i].discard(chunk_no)
                    if not left[i]:  # its last chunk: the import is done (a redelivery after writes nothing)
                        _finished(conn, made[i])
                if deletes and rng.random() < 0.4:
                    live = [k for (k,) in conn.execute("SELECT sku FROM products WHERE NOT deleted ORDER BY 1")]
                    conn.rollback()
                    if live:
                        deleted.append(rng.choice(live))
                        repository.delete_product(conn, deleted[-1])
                        deletes -= 1
                if rng.random() < 0.3:
                    purge_tombstones(conn, later)

        deleted: list[str] = []
        first = files("a")
        deliver(first, deletes=3)
        second = files("b")  # created after the deletes
        deliver(second, deletes=0)
        purge_tombstones(conn, later)

        expected = replay(first)
        for sku in deleted:
            expected.pop(sku.lower(), None)
        for file in second:
            apply_file(expected, file)
        assert catalog_of(conn) == expected_of(expected)
