"""A start after ``kill -9`` of the process that started the embedded PostgreSQL (the local stack).

The server outlives its starter (pgserver starts it with ``pg_ctl``). The killed starter's pid stayed in
pgserver's handle list for good: the next start attached to the orphan, and at its clean exit it was not the
last handle, so PostgreSQL was never stopped again. A ``postmaster.pid`` whose pid another process has taken
since (a reboot, a container) was taken for the server: the start failed."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from product_importer.db.embedded import HANDLES, start_embedded, stop_embedded

STARTER = """
import sys, time
from pathlib import Path
from product_importer.db.embedded import start_embedded
start_embedded(Path(sys.argv[1]), cleanup="stop", database="product_importer")
print("up", flush=True)
time.sleep(120)
"""


def postmaster_pid(data_dir: Path) -> int:
    return int((data_dir / "postmaster.pid").read_text().split()[0])


def gone(pid: int, timeout_s: float = 15) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "pgdata"
    yield path
    stop_embedded(path)
    if (path / "postmaster.pid").exists():  # whatever a failing run left: never a stray server
        with contextlib.suppress(ProcessLookupError, ValueError):
            os.kill(postmaster_pid(path), signal.SIGKILL)


def start_and_kill_a_starter(data_dir: Path) -> int:
    """A process that starts the server, killed with SIGKILL; the postmaster's pid (still running)."""
    starter = subprocess.Popen([sys.executable, "-c", STARTER, str(data_dir)], stdout=subprocess.PIPE, text=True)
    assert starter.stdout is not None and starter.stdout.readline().strip() == "up"
    starter.kill()
    starter.wait()
    pid = postmaster_pid(data_dir)
    os.kill(pid, 0)  # the orphan runs
    return pid


def test_a_start_after_kill_9_reuses_the_orphan_and_its_clean_stop_stops_it(data_dir: Path) -> None:
    orphan = start_and_kill_a_starter(data_dir)

    url = start_embedded(data_dir, cleanup="stop", database="product_importer")

    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
    assert postmaster_pid(data_dir) == orphan  # one server on the data dir, not a second
    assert json.loads((data_dir / HANDLES).read_text()) == [os.getpid()]
    stop_embedded(data_dir)  # what the stack's clean exit does
    assert gone(orphan), "the server the killed starter left was not stopped by the next clean stop"


def test_a_postmaster_pid_taken_by_another_process_is_stale(data_dir: Path) -> None:
    start_embedded(data_dir, cleanup="stop")
    lock = (data_dir / "postmaster.pid").read_text().splitlines()
    stop_embedded(data_dir)
    assert gone(int(lock[0]))
    with subprocess.Popen(["sleep", "60"]) as other:
        try:
            (data_dir / "postmaster.pid").write_text("\n".join([str(other.pid), *lock[1:]]) + "\n")

            url = start_embedded(data_dir, cleanup="stop", database="product_importer")

            with psycopg.connect(url) as conn:
                assert conn.execute("SELECT 1").fetchone() == (1,)
            assert other.poll() is None  # left alone
        finally:
            other.kill()
