"""Ports on this machine: a free one for tests, a check that one is free, a wait until one answers."""

from __future__ import annotations

import socket
import time


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PortInUseError(RuntimeError):
    """A port the stack needs is taken; the message says which option picks another."""


def ensure_free(host: str, port: int, what: str, option: str | None = None) -> None:
    """Raise ``PortInUseError`` if ``port`` cannot be bound on ``host`` (``option``: the command-line flag
    that chooses another, named in the message)."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the servers bind: TIME_WAIT is free
        try:
            s.bind((host, port))
        except OSError as exc:
            hint = f", or choose another port with {option} (make up UP_ARGS=\"{option} N\")" if option else ""
            raise PortInUseError(
                f"port {port} ({what}) is already in use: is another stack running? Stop it{hint}."
            ) from exc


def wait_for_port(host: str, port: int, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with socket.socket() as s:
            s.settimeout(0.2)
            if s.connect_ex((host, port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not start on {host}:{port} within {timeout_s:.0f}s")
