"""The whole pipeline on one machine: AWS emulator, embedded PostgreSQL, event pump, API (+ UI).

``LocalStack`` is used by ``make up`` (``python -m infra.local``) and by the integration and e2e tests.
It only puts the parts together, in order, and stops them in reverse; each part is its own module:
the emulator (``emulator``), the database (``database``), the resources on the emulator
(``resources``), the import history (``history``), the WebSocket gateway (``gateway``), the event
sources (``workers``), the API server (``web``).
"""

from __future__ import annotations

import fcntl
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3

from infra.local.emulator import EmulatorProcess
from infra.local.environment import CREDENTIALS, REGION, stack_environment
from infra.local.history import (
    PeriodicSave,
    ProgressHistory,
    fail_stranded,
    resume_stranded_jobs,
    resume_webhooks,
)
from infra.local.net import ensure_free, free_port
from infra.local.resources import LocalResources, create_resources
from infra.local.web import ApiServer
from infra.local.workers import ScheduledFunctions, SqsWorkers, start_stream_subscribers

__all__ = ["LocalConfig", "LocalStack", "StateDirInUseError", "free_port"]

logger = logging.getLogger("local")

ROOT = Path(__file__).resolve().parents[2]
LOCK_FILE = "stack.lock"


class StateDirInUseError(RuntimeError):
    """Another running stack holds the state directory; the message says which option picks another."""


def lock_state_dir(state_dir: Path) -> Any:
    """Hold ``state_dir`` for this stack until the returned file is closed (or the process ends, even by
    kill -9): an exclusive ``flock`` on ``stack.lock`` in it, which a second stack cannot take.

    Two stacks on one state directory (other ports, the same ``--state-dir`` or both the default
    ``.local/``) shared the embedded PostgreSQL but not the emulator: the second one's restore marked the
    first one's running imports failed ("stranded") in the shared database, and each overwrote the
    other's import history when it stopped."""
    handle = open(state_dir / LOCK_FILE, "a+", encoding="utf-8")  # noqa: SIM115 - held for the stack's life
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.seek(0)
        holder = handle.read().strip() or "unknown"
        handle.close()
        raise StateDirInUseError(
            f"the state directory {state_dir} is in use by another stack (pid {holder}): stop it, or give this "
            "one its own with --state-dir DIR (make up UP_ARGS=\"--state-dir DIR\")."
        ) from None
    handle.truncate(0)
    handle.write(str(os.getpid()))
    handle.flush()
    return handle


@dataclass
class LocalConfig:
    state_dir: Path = ROOT / ".local"
    host: str = "127.0.0.1"
    api_port: int = 8000
    aws_port: int = 4566
    ws_port: int = 8001
    consumers: int = 2
    database_url: str = ""
    visibility_overrides: dict[str, int] = field(default_factory=dict)
    static_dir: Path | None = ROOT / "frontend" / "dist"
    chunk_rows: int | None = None
    max_upload_bytes: int | None = None
    serve_api: bool = True
    extra_env: dict[str, str] = field(default_factory=dict)
    extra_origins: tuple[str, ...] = ()  # pages besides the UI's own that may call the stack

    @property
    def ui_origins(self) -> tuple[str, ...]:
        """The origins whose pages may call the API, the gateway and the emulator (origin_guard)."""
        from infra.local.origin_guard import ui_origins

        return ui_origins(self.api_port, self.extra_origins)

    @property
    def aws_endpoint(self) -> str:
        return f"http://{self.host}:{self.aws_port}"

    @property
    def api_url(self) -> str:
        return f"http://{self.host}:{self.api_port}"


class LocalStack:
    def __init__(self, config: LocalConfig | None = None) -> None:
        self.config = config or LocalConfig()
        self.resources: LocalResources | None = None
        self.env: dict[str, str] = {}
        self._emulator = EmulatorProcess(self.config.host, self.config.aws_port, self.config.state_dir,
                                         allowed_origins=self.config.ui_origins)
        self._history: ProgressHistory | None = None
        self._saver: PeriodicSave | None = None
        self._workers: SqsWorkers | None = None
        self._schedules: ScheduledFunctions | None = None
        self._poller: Any = None  # the stream poller (has .stop() / .join())
        self._gateway: Any = None  # the local WebSocket gateway (has .stop())
        self._api: ApiServer | None = None
        self._database_watch: Any = None  # restarts the embedded PostgreSQL (has .stop())
        self._state_lock: Any = None  # lock_state_dir's file, held from start to stop

    def start(self) -> LocalStack:
        cfg = self.config
        cfg.state_dir.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        for port, what, option in ((cfg.aws_port, "AWS emulator", "--aws-port"), (cfg.api_port, "API", "--port"),
                                   (cfg.ws_port, "WebSocket", "--ws-port")):
            ensure_free(cfg.host, port, what, option)
        if self._state_lock is None:  # after the ports: a second `make up` on the defaults hears of those first
            self._state_lock = lock_state_dir(cfg.state_dir)
        self._emulator.start()
        from infra.local.database import DatabaseWatch, start_database

        database_url = start_database(cfg.state_dir, cfg.database_url)
        if not cfg.database_url:
            self._database_watch = DatabaseWatch(cfg.state_dir)
            self._database_watch.start()
        self.resources = create_resources(
            self._client("s3"), self._client("sqs"), self._client("dynamodb"),
            visibility_overrides=cfg.visibility_overrides, cors_origins=cfg.ui_origins,
        )
        self._history = ProgressHistory(cfg.state_dir, self._client("dynamodb"), self.resources.progress_table)
        stranded = self._history.restore()
        self.env = {**stack_environment(cfg, database_url), **self.resources.environment()}
        os.environ.update(self.env)
        from product_importer import runtime

        runtime.reset()  # this process may have built clients for another stack's endpoints
        self._saver = PeriodicSave(self._history)
        self._saver.start()
        from infra.local.gateway import start_gateway

        self._gateway = start_gateway(cfg.host, cfg.ws_port, cfg.ui_origins)
        self._workers = SqsWorkers(self.resources.queue_urls, self.env, consumers=cfg.consumers,
                                   dlq_urls=self.resources.dlq_urls)
        self._workers.start()
        self._schedules = ScheduledFunctions(runtime.settings().local_sweep_interval_s)
        self._schedules.start()
        # the history's journal first: what the stream says is kept before anything else happens
        self._poller = start_stream_subscribers(self.resources.progress_stream_arn,
                                                before={"history": self._history.record})
        # After the stream's subscribers: how a stranded import ends reaches the broadcaster like any other
        # ending (its webhook event, e.g. import.failed, is sent; before, partners never heard of it).
        fail_stranded(stranded)
        resume_stranded_jobs(self._history.restored)
        resume_webhooks(self._history.restored)
        if cfg.serve_api:
            self._api = ApiServer(cfg.host, cfg.api_port, runtime.settings().static_dir, cfg.ui_origins)
            self._api.start()
        logger.info("local stack up in %.1fs: API %s, AWS emulator %s", time.monotonic() - started,
                    cfg.api_url, cfg.aws_endpoint)
        return self

    def stop(self) -> None:
        if self._database_watch is not None:
            self._database_watch.stop()
        if self._saver is not None:
            self._saver.stop()
        if self._schedules is not None:
            self._schedules.stop()
        if self._workers is not None:
            self._workers.signal_stop()
        if self._api is not None:
            self._api.stop()
        if self._poller is not None:
            self._poller.stop()
            self._poller.join(timeout=5)
        if self._gateway is not None:
            self._gateway.stop()
        if self._history is not None and self._emulator.running:
            self._history.save()
        if self._workers is not None:
            self._workers.stop()
        self._emulator.stop()
        if self._state_lock is not None:  # last: the state directory is written until here
            self._state_lock.close()
            self._state_lock = None

    def broken(self) -> str | None:
        """Why the stack cannot go on, or None. The AWS emulator keeps every queue, object and import item in
        its process: once it has died (killed, crashed) nothing can be done but a restart, which ends what
        it stranded (``history``). Before, the stack ran on without it, every worker logging a failed receive
        twice a second, and the API answered 503 for ever."""
        code = self._emulator.exit_code
        if code is None:
            return None
        return (f"the AWS emulator (moto) stopped unexpectedly (exit code {code}), and with it every queue and "
                "uploaded file: the stack stops. Start it again (make up, or the same command); the import history "
                "is kept, and imports it stranded end failed with a reason")

    @property
    def workers(self) -> SqsWorkers:
        """The supervised worker processes (tests kill them)."""
        assert self._workers is not None, "the stack is not started"
        return self._workers

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _client(self, service: str) -> Any:
        """A boto3 client of the emulator (for the stack itself and the tests that look into it)."""
        return boto3.client(  # type: ignore[call-overload]
            service, endpoint_url=self.config.aws_endpoint, region_name=REGION,
            aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        )
