"""``python -m infra.local`` (``make up``) on a port that is taken: a message naming the option, no traceback."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from infra.local.net import free_port

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("option", ["--port", "--aws-port", "--ws-port"])
def test_a_taken_port_is_a_message_that_names_the_option_to_change(tmp_path: Path, option: str) -> None:
    ports = {"--port": free_port(), "--aws-port": free_port(), "--ws-port": free_port()}
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", ports[option]))
        taken.listen()
        args = [arg for pair in ports.items() for arg in (pair[0], str(pair[1]))]
        done = subprocess.run([sys.executable, "-m", "infra.local", *args, "--state-dir", str(tmp_path / "state")],
                              cwd=ROOT, capture_output=True, text=True, timeout=60)

    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert f"port {ports[option]}" in done.stderr and "already in use" in done.stderr
    assert f"{option} N" in done.stderr  # how to pick another one (make up UP_ARGS="--port N")
    assert not (tmp_path / "state" / "pgdata").exists()  # nothing was started
