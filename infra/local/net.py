"""Ports on this machine: a free one for tests, a check that one is free, a wait until one answers."""

from __future__ import annotations

import random
import socket
import time
from pathlib import Path

_EPHEMERAL = Path("/proc/sys/net/ipv4/ip_local_port_range")


def ephemeral_ports() -> range:
    """The ports Linux gives outgoing connections (``ip_local_port_range``; 32768–60999 by default)."""
    try:
        low, high = (int(n) for n in _EPHEMERAL.read_text().split())
    except (OSError, ValueError):
        low, high = 32768, 60999
    return range(low, high + 1)


def free_port() -> int:
    """A port free now, below the ephemeral range. A port the kernel hands out for ``bind(0)`` is an ephemeral
    one: any outgoing connection made before the caller binds it (the stack's own, to PostgreSQL or the
    emulator) may take it as its local port, and the bind fails (a CI run: the WebSocket gateway's port,
    "address already in use"). Below that range only another listener can take it."""
    below = ephemeral_ports().start
    for _ in range(200):
        port = random.randrange(10_000, below) if below > 10_000 else random.randrange(1024, 10_000)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    with socket.socket() as s:  # (every try taken: whatever the kernel gives)
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
