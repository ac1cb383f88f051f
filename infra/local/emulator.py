"""The AWS emulator of the local stack: moto's server, with one local-speed fix.

moto answers a ranged GET by reading the whole object out of its buffer and slicing it. A consumer
reads a 1–2 MB range per chunk, so a 130 MB upload cost the emulator ~130 MB of copying per chunk (13 GB
for one 500k-row import), which made the emulator, not our code, the bottleneck of the local pipeline.
Here the object's bytes are kept for the few most recently read objects, and dropped when it changes.
Only the emulator process is patched; handlers talk to it through boto3 exactly as to AWS.

The emulator answers only requests for this machine from the UI's pages or from programs
(``infra.local.origin_guard``): moto itself allows every origin.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

from infra.local.net import wait_for_port
from infra.local.origin_guard import ENV_ALLOWED_ORIGINS

RECENT_OBJECTS = 3


class EmulatorProcess:
    """The emulator in a child process of its own (``python -m infra.local.emulator``), logging to
    ``moto.log`` in the state directory."""

    def __init__(
        self, host: str, port: int, state_dir: Path, allowed_origins: tuple[str, ...] = ()
    ) -> None:
        self.host, self.port, self.state_dir = host, port, state_dir
        self.allowed_origins = allowed_origins  # the UI's pages (origin_guard); programs always pass
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        log = (self.state_dir / "moto.log").open("ab")
        self._process = subprocess.Popen(
            [sys.executable, "-m", "infra.local.emulator", "-H", self.host, "-p", str(self.port)],
            stdout=log, stderr=subprocess.STDOUT, env={
                **os.environ, "MOTO_ALLOW_NONEXISTENT_REGION": "true",
                ENV_ALLOWED_ORIGINS: ",".join(self.allowed_origins),
            },
            preexec_fn=_die_with_parent,
            start_new_session=True,  # Ctrl-C stops the stack, which saves state, then stops the emulator
        )
        wait_for_port(self.host, self.port, 30, "the AWS emulator (moto)")

    def stop(self) -> None:
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._process.kill()


def _die_with_parent() -> None:
    """Runs in the emulator child: ask Linux to SIGTERM it when the stack's process dies abruptly."""
    try:
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def patch_moto() -> None:
    from moto.s3.models import FakeKey

    recent: OrderedDict[int, FakeKey] = OrderedDict()
    guard = threading.Lock()
    plain = FakeKey.value

    def read_value(self: FakeKey) -> bytes:
        cached: bytes | None = getattr(self, "_pi_value", None)
        if cached is not None:
            return cached
        value: bytes = plain.fget(self)  # type: ignore[attr-defined]
        with guard:
            self._pi_value = value  # type: ignore[attr-defined]
            recent[id(self)] = self
            recent.move_to_end(id(self))
            while len(recent) > RECENT_OBJECTS:
                _, evicted = recent.popitem(last=False)
                evicted._pi_value = None  # type: ignore[attr-defined]
        return value

    def write_value(self: FakeKey, new_value: bytes) -> None:
        self._pi_value = None  # type: ignore[attr-defined]
        plain.fset(self, new_value)  # type: ignore[attr-defined]

    FakeKey.value = property(read_value, write_value)  # type: ignore[method-assign,assignment]
    _serialise_stream_records()


def _serialise_stream_records() -> None:
    """moto numbers a DynamoDB stream record (``len(items)`` + start) and appends it in two steps, without a
    lock: two writes at once got one sequence number, and a reader whose iterator stood on the pair was
    handed the last record again on every poll (a WebSocket client got one final message 2,139 times,
    and each queued another finisher job)."""
    from moto.dynamodb.models.table import StreamShard

    if getattr(StreamShard.add, "_pi_serialised", False):
        return
    lock = threading.Lock()
    plain = StreamShard.add

    def add(self: StreamShard, old: Any, new: Any) -> None:
        with lock:
            plain(self, old, new)

    add._pi_serialised = True  # type: ignore[attr-defined]
    StreamShard.add = add  # type: ignore[method-assign]


def main(argv: list[str] | None = None) -> Any:
    """moto's server, wrapped in the local edge check (``infra.local.origin_guard``: loopback Host, the
    UI's Origin; the UI's origins come in ``PI_LOCAL_ALLOWED_ORIGINS``)."""
    import argparse

    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import run_simple

    from infra.local.origin_guard import OriginPolicy, guard_wsgi

    parser = argparse.ArgumentParser(description="the local stack's AWS emulator (moto)")
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=4566)
    args = parser.parse_args(argv if argv is not None else sys.argv[1:])
    os.environ.setdefault("MOTO_PORT", str(args.port))
    patch_moto()
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(args.host, args.port, guard_wsgi(app, OriginPolicy.from_env()), threaded=True,
               request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
