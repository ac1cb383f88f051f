"""One state directory, one local stack.

A second ``make up`` with other ports but the same state directory (the same ``--state-dir``, or both on
the default ``.local/``) started without a word: it shared the first one's embedded PostgreSQL but had
its own emulator, so its restore marked the first one's running imports failed ("stranded") in the
shared database, and each stack overwrote the other's import history when it stopped. Found following
the README as a newcomer: a second stack on the same ``--state-dir`` came up next to the first.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from infra.local.stack import StateDirInUseError, free_port, lock_state_dir

ROOT = Path(__file__).resolve().parents[2]


def _local(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "infra.local", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=60, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})


def test_a_second_stack_on_a_state_directory_in_use_stops_with_what_to_do(tmp_path: Path) -> None:
    held = lock_state_dir(tmp_path)  # as the running stack holds it
    try:
        ports = [str(free_port()) for _ in range(3)]
        run = _local("--port", ports[0], "--aws-port", ports[1], "--ws-port", ports[2], "--state-dir", str(tmp_path))
    finally:
        held.close()

    assert run.returncode == 1, run.stderr
    assert run.stderr.startswith("cannot start Product Importer: the state directory"), run.stderr
    assert f"in use by another stack (pid {os.getpid()})" in run.stderr
    assert "--state-dir DIR" in run.stderr and "Traceback" not in run.stderr
    assert not (tmp_path / "pgdata").exists() and not (tmp_path / "moto.log").exists()  # nothing was started


def test_the_state_directory_is_free_again_once_its_stack_is_gone(tmp_path: Path) -> None:
    first = lock_state_dir(tmp_path)
    try:
        lock_state_dir(tmp_path).close()
    except StateDirInUseError as exc:
        assert "pid" in str(exc)
    else:
        raise AssertionError("a second lock on a held state directory was granted")
    finally:
        first.close()
    again = lock_state_dir(tmp_path)  # stopped (or killed: the kernel drops the lock with the process)
    assert (tmp_path / "stack.lock").read_text() == str(os.getpid())
    again.close()


def test_the_help_names_the_command_to_run() -> None:
    """It said ``usage: __main__.py``, a command that does not exist."""
    run = _local("--help")

    assert run.returncode == 0
    assert run.stdout.startswith("usage: python -m infra.local [-h] [--port PORT]"), run.stdout
