"""The local stack stops, saying why, when its AWS emulator dies: it cannot go on without it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from infra.local.stack import LocalConfig, LocalStack


def test_a_dead_emulator_makes_the_stack_say_it_must_be_started_again(tmp_path: Path) -> None:
    """Before, it ran on: every worker logged a failed receive twice a second and the API answered 503."""
    stack = LocalStack(LocalConfig(state_dir=tmp_path, static_dir=None))
    assert stack.broken() is None  # not started
    emulator = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    stack._emulator._process = emulator
    try:
        assert stack.broken() is None  # running
        emulator.kill()
        emulator.wait()
        reason = stack.broken()
        assert reason is not None and "exit code -9" in reason and "Start it again" in reason
    finally:
        emulator.kill()
        emulator.wait()
