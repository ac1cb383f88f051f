"""The embedded server runs with the bulk-write settings of ``db.embedded.SETTINGS`` (docs/benchmarks.md:
the stock max_wal_size checkpointed every ~0.5 GB of WAL, and a re-import of 500,000 products took ~18% longer)."""

from __future__ import annotations

import time
from pathlib import Path

import psycopg
from product_importer.db.embedded import SETTINGS, start_embedded, stop_embedded


def _shown(url: str) -> dict[str, str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT name, current_setting(name) FROM unnest(%s::text[]) name", (list(SETTINGS),))
        return dict(rows.fetchall())


def test_the_test_server_runs_with_the_settings(database_url: str) -> None:
    assert _shown(database_url) == SETTINGS
    assert SETTINGS["max_wal_size"] != "1GB"  # not the stock value


def test_a_running_server_gets_the_settings_back_without_a_restart(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    url = start_embedded(data_dir, cleanup="delete")
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            started = conn.execute("SELECT pg_postmaster_start_time()").fetchone()
            conn.execute("ALTER SYSTEM RESET ALL")
            conn.execute("SELECT pg_reload_conf()")
        deadline = time.monotonic() + 10
        while _shown(url)["max_wal_size"] != "1GB" and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _shown(url)["max_wal_size"] == "1GB"

        again = start_embedded(data_dir, cleanup="delete")  # attaches to the running server
        deadline = time.monotonic() + 10
        while _shown(again) != SETTINGS and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _shown(again) == SETTINGS
        with psycopg.connect(again) as conn:
            assert conn.execute("SELECT pg_postmaster_start_time()").fetchone() == started  # reloaded, not restarted
    finally:
        stop_embedded(data_dir)
