"""The local stack's embedded PostgreSQL, killed while the stack runs, is started again with its data."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import psycopg
import pytest
from product_importer.db.embedded import start_embedded, stop_embedded

from infra.local.database import DatabaseWatch


def kill_and_revive(state_dir: Path) -> None:
    """SIGKILL the postmaster of ``state_dir``'s server, wait for it to be gone, and let the watch start it again."""
    pid = int((state_dir / "pgdata" / "postmaster.pid").read_text().split()[0])
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert DatabaseWatch(state_dir).check() is True


def test_a_killed_embedded_postgresql_is_started_again_with_what_was_committed(tmp_path: Path) -> None:
    """Before, nothing started it again: every chunk failed until the stack was restarted by hand, and the
    dead-letter handler could not end the imports either (it writes to PostgreSQL): processing for ever."""
    url = start_embedded(tmp_path / "pgdata", cleanup="delete", database="product_importer")
    try:
        with psycopg.connect(url) as conn:
            conn.execute("CREATE TABLE t (n int)")
            conn.execute("INSERT INTO t VALUES (7)")
        watch = DatabaseWatch(tmp_path)
        assert watch.check() is False  # running: nothing to do
        # when the postmaster is killed (an out-of-memory kill, kill -9)
        pid = int((tmp_path / "pgdata" / "postmaster.pid").read_text().split()[0])
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        # then the watch starts it again, and the committed row is there
        assert watch.check() is True
        with psycopg.connect(url) as conn:
            assert conn.execute("SELECT n FROM t").fetchall() == [(7,)]
        assert watch.check() is False and watch.revivals == 1
    finally:
        stop_embedded(tmp_path / "pgdata")


def test_a_database_the_stack_did_not_start_is_left_alone(tmp_path: Path) -> None:
    assert DatabaseWatch(tmp_path / "elsewhere").check() is False  # DATABASE_URL: not ours to start


def test_the_api_answers_the_first_request_after_the_database_came_back(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every pooled connection died with the server, and each answered one request 503 before the pool
    dropped it: up to 8 failures in a row after PostgreSQL came back."""
    from product_importer import runtime

    url = start_embedded(tmp_path / "pgdata", cleanup="delete", database="product_importer")
    monkeypatch.setenv("DATABASE_URL", url)
    runtime.reset()
    try:
        pool = runtime.api_pool()
        with pool.connection() as conn:
            conn.execute("SELECT 1")
        kill_and_revive(tmp_path)
        with pool.connection() as conn:  # the dead one is replaced, not handed out
            assert conn.execute("SELECT 1").fetchone() == (1,)
    finally:
        runtime.reset()
        stop_embedded(tmp_path / "pgdata")


def test_a_warm_process_gets_a_live_connection_after_the_database_came_back(tmp_path: Path) -> None:
    """A worker's one connection died with the server, and its next job failed on it (a split then waited
    16 minutes for its next attempt)."""
    from product_importer.db.connection import ConnectionHolder

    url = start_embedded(tmp_path / "pgdata", cleanup="delete", database="product_importer")
    holder = ConnectionHolder(lambda: url, check_after_s=0)
    try:
        holder.get().execute("SELECT 1")
        holder.get().commit()
        kill_and_revive(tmp_path)
        conn = holder.get()
        assert conn.execute("SELECT 1").fetchone() == (1,)  # a new connection, not the dead one
        assert conn.autocommit is False  # transactions stay explicit
    finally:
        holder.close()
        stop_embedded(tmp_path / "pgdata")
