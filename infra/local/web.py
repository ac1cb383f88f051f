"""The local API (and the built UI) on uvicorn, in a thread of the stack's process."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from infra.local.net import wait_for_port


class ApiServer:
    def __init__(
        self, host: str, port: int, static_dir: Path | None, allowed_origins: tuple[str, ...] | None = None
    ) -> None:
        self.host, self.port, self.static_dir = host, port, static_dir
        self.allowed_origins = allowed_origins  # None: no edge check (origin_guard)
        self._server: Any = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        import uvicorn
        from product_importer.api.app import create_app

        from infra.local.origin_guard import guard_asgi

        app: Any = create_app(static_dir=self.static_dir)
        if self.allowed_origins is not None:
            app = guard_asgi(app, self.allowed_origins)  # only this machine's own pages
        config = uvicorn.Config(app, host=self.host, port=self.port, log_level="warning", access_log=False)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="api", daemon=True)
        self._thread.start()
        wait_for_port(self.host, self.port, 30, "the API")

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
            if self._thread is not None:
                self._thread.join(timeout=5)
