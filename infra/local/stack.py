"""The whole pipeline on one machine: AWS emulator, embedded PostgreSQL, event pump, API (+ UI).

``LocalStack`` is used by ``make up`` (``python -m infra.local``) and by the integration and e2e tests.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import psycopg

from infra import topology
from infra.local.origin_guard import ENV_ALLOWED_ORIGINS, guard_asgi
from infra.local.pump import StreamPoller, load_handler, sqs_worker
from infra.local.resources import LocalResources, create_resources

logger = logging.getLogger("local")

ROOT = Path(__file__).resolve().parents[2]


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
        from infra.local.origin_guard import ui_origins

        return ui_origins(self.api_port, self.extra_origins)

    @property
    def aws_endpoint(self) -> str:
        return f"http://{self.host}:{self.aws_port}"

    @property
    def api_url(self) -> str:
        return f"http://{self.host}:{self.api_port}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _die_with_parent() -> None:
    """Runs in the emulator child: ask Linux to SIGTERM it when the stack's process dies abruptly."""
    try:
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def ensure_free(host: str, port: int, what: str) -> None:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the servers bind: TIME_WAIT is free
        try:
            s.bind((host, port))
        except OSError as exc:
            raise RuntimeError(f"port {port} ({what}) is already in use: is another stack running?") from exc


def _wait_for_port(host: str, port: int, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with socket.socket() as s:
            s.settimeout(0.2)
            if s.connect_ex((host, port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not start on {host}:{port} within {timeout_s:.0f}s")


class LocalStack:
    def __init__(self, config: LocalConfig | None = None) -> None:
        self.config = config or LocalConfig()
        self.resources: LocalResources | None = None
        self.env: dict[str, str] = {}
        self._emulator: subprocess.Popen[bytes] | None = None
        self._workers: list[Any] = []
        self._stop = multiprocessing.get_context("spawn").Event()
        self._poller: StreamPoller | None = None
        self._api_server: Any = None
        self._api_thread: threading.Thread | None = None
        self._gateway: Any = None  # the local WebSocket gateway (has .stop())

    # -- lifecycle ----------------------------------------------------------------------------------

    def start(self) -> LocalStack:
        cfg = self.config
        cfg.state_dir.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        for port, what in ((cfg.aws_port, "AWS emulator"), (cfg.api_port, "API"), (cfg.ws_port, "WebSocket")):
            ensure_free(cfg.host, port, what)
        self._start_emulator()
        database_url = cfg.database_url or self._start_postgres()
        self._apply_migrations(database_url)
        self.env = self._environment(database_url)
        os.environ.update(self.env)
        from product_importer import runtime

        runtime.reset()
        self.resources = create_resources(
            self._client("s3"), self._client("sqs"), self._client("dynamodb"),
            visibility_overrides=cfg.visibility_overrides, cors_origins=cfg.ui_origins,
        )
        self._restore_progress()
        self.env.update(self.resources.environment())
        os.environ.update(self.env)
        runtime.reset()
        self._start_gateway()
        self._start_workers()
        self._start_stream_poller()
        if cfg.serve_api:
            self._start_api()
        logger.info("local stack up in %.1fs: API %s, AWS emulator %s", time.monotonic() - started,
                    cfg.api_url, cfg.aws_endpoint)
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._api_server is not None:
            self._api_server.should_exit = True
            if self._api_thread is not None:
                self._api_thread.join(timeout=5)
        if self._poller is not None:
            self._poller.stop()
            self._poller.join(timeout=5)
        if self._gateway is not None:
            self._gateway.stop()
        self._save_progress()
        for proc in self._workers:
            proc.join(timeout=5)
            if proc.is_alive():
                proc.terminate()
        if self._emulator is not None:
            self._emulator.terminate()
            try:
                self._emulator.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._emulator.kill()

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- state that outlives a restart -------------------------------------------------------------
    # PostgreSQL keeps its data under state_dir; the emulator keeps nothing, so the import history
    # (the progress table) is saved on stop and restored on start.

    @property
    def _progress_snapshot(self) -> Path:
        return self.config.state_dir / "progress-table.json"

    def _save_progress(self) -> None:
        if self.resources is None or self._emulator is None or self._emulator.poll() is not None:
            return
        try:
            items: list[dict[str, Any]] = []
            for page in self._client("dynamodb").get_paginator("scan").paginate(TableName=self.resources.progress_table):
                items.extend(page.get("Items", []))
            self._progress_snapshot.write_text(json.dumps(items))
        except Exception as exc:
            logger.warning("could not save the import history: %s", exc)

    def _restore_progress(self) -> None:
        if self.resources is None or not self._progress_snapshot.exists():
            return
        items = json.loads(self._progress_snapshot.read_text() or "[]")
        db = self._client("dynamodb")
        for i in range(0, len(items), 25):
            db.batch_write_item(RequestItems={self.resources.progress_table: [
                {"PutRequest": {"Item": item}} for item in items[i:i + 25]]})
        if items:
            logger.info("restored %d imports from %s", len(items), self._progress_snapshot)

    # -- parts --------------------------------------------------------------------------------------

    def _start_emulator(self) -> None:
        cfg = self.config
        log = (cfg.state_dir / "moto.log").open("ab")
        self._emulator = subprocess.Popen(
            [sys.executable, "-m", "infra.local.emulator", "-H", cfg.host, "-p", str(cfg.aws_port)],
            stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "MOTO_ALLOW_NONEXISTENT_REGION": "true",
                                                       ENV_ALLOWED_ORIGINS: ",".join(cfg.ui_origins)},
            preexec_fn=_die_with_parent,
            start_new_session=True,  # Ctrl-C stops the stack, which saves state, then stops the emulator
        )
        _wait_for_port(cfg.host, cfg.aws_port, 30, "the AWS emulator (moto)")

    def _start_postgres(self) -> str:
        from product_importer.db.embedded import start_embedded

        return start_embedded(self.config.state_dir / "pgdata", cleanup="stop", database="product_importer")

    @staticmethod
    def _apply_migrations(url: str) -> None:
        from product_importer.db.migrate import apply_migrations

        with psycopg.connect(url) as conn:
            apply_migrations(conn)

    def _environment(self, database_url: str) -> dict[str, str]:
        cfg = self.config
        env = {
            "DATABASE_URL": database_url,
            "AWS_ENDPOINT_URL_LOCAL": cfg.aws_endpoint,
            "AWS_ENDPOINT_URL": cfg.aws_endpoint,
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "LOCAL_MODE": "true",
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_METRICS_DISABLED": "true",
            "POWERTOOLS_METRICS_NAMESPACE": "ProductImporter",
            "POWERTOOLS_LOG_LEVEL": os.environ.get("POWERTOOLS_LOG_LEVEL", "WARNING"),
            "WEBSOCKET_URL": f"ws://{cfg.host}:{cfg.ws_port}/",
            "WEBSOCKET_MANAGEMENT_URL": f"http://{cfg.host}:{cfg.ws_port}",
            "WEBHOOKS_ALLOW_PRIVATE": "true",
            "LOCAL_DIR": str(cfg.state_dir),
        }
        if cfg.static_dir is not None:
            env["STATIC_DIR"] = str(cfg.static_dir)
        if cfg.chunk_rows:
            env["CHUNK_ROWS"] = str(cfg.chunk_rows)
        if cfg.max_upload_bytes:
            env["MAX_UPLOAD_BYTES"] = str(cfg.max_upload_bytes)
        env.update(cfg.extra_env)
        return env

    def _client(self, service: str) -> Any:
        return boto3.client(  # type: ignore[call-overload]
            service, endpoint_url=self.config.aws_endpoint, region_name="us-east-1",
            aws_access_key_id="testing", aws_secret_access_key="testing",
        )

    def _start_gateway(self) -> None:
        """The local API Gateway WebSocket API in front of the ``websocket`` function."""
        from infra.local.gateway import start_gateway

        self._gateway = start_gateway(self.config.host, self.config.ws_port, self.config.ui_origins)

    def _start_workers(self) -> None:
        ctx = multiprocessing.get_context("spawn")
        assert self.resources is not None
        for spec in topology.FUNCTIONS.values():
            trigger = spec.trigger
            if not isinstance(trigger, topology.SqsTrigger):
                continue
            copies = self.config.consumers if spec.name == "consumer" else 1
            for n in range(copies):
                proc = ctx.Process(
                    target=sqs_worker,
                    name=f"{spec.name}-{n}",
                    args=(spec.name, self.resources.queue_urls[trigger.queue], trigger.batch_size, self.env,
                          self._stop, spec.timeout_s),
                    daemon=True,
                )
                proc.start()
                self._workers.append(proc)

    def _start_stream_poller(self) -> None:
        assert self.resources is not None
        subscribers = {spec.name: load_handler(spec.name) for spec in topology.FUNCTIONS.values()
                       if isinstance(spec.trigger, topology.StreamTrigger)}
        self._poller = StreamPoller(self.resources.progress_stream_arn, subscribers)
        self._poller.start()
        self._poller.ready.wait(10)

    def _start_api(self) -> None:
        import uvicorn
        from product_importer.api.app import create_app
        from product_importer.settings import get_settings

        app = guard_asgi(create_app(static_dir=get_settings().static_dir), self.config.ui_origins)
        config = uvicorn.Config(app, host=self.config.host, port=self.config.api_port, log_level="warning",
                                access_log=False)
        self._api_server = uvicorn.Server(config)
        self._api_thread = threading.Thread(target=self._api_server.run, name="api", daemon=True)
        self._api_thread.start()
        _wait_for_port(self.config.host, self.config.api_port, 30, "the API")
