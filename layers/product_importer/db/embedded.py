"""An embedded PostgreSQL 16 started from the ``pgserver`` wheel, for local mode and tests.

The server listens on a Unix socket only. pgserver makes the parent folders of its data dir
world-readable, so the data dir must live under the project (``.local/``) or a temp dir, never ``~``.
"""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path
from typing import Literal

logger = logging.getLogger(__name__)

CleanupMode = Literal["stop", "delete"] | None


def start_embedded(data_dir: Path, *, cleanup: CleanupMode = "stop", database: str = "postgres") -> str:
    """Start (or attach to) the embedded server whose data lives in ``data_dir``; return its URL.

    ``cleanup="stop"`` stops the server when the last process using it exits; ``"delete"`` also
    removes the data (tests); ``None`` leaves it running.
    """
    logging.getLogger("pgserver").setLevel(logging.WARNING)
    os.environ.setdefault("XDG_RUNTIME_DIR", str(Path(data_dir).resolve().parent / "run"))
    Path(os.environ["XDG_RUNTIME_DIR"]).mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgserver  # imported late: heavy, and not needed when DATABASE_URL is set

    data_dir = Path(data_dir).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(data_dir, cleanup_mode=cleanup)
    if database != "postgres":
        exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}';")
        if "1 row" not in exists:
            server.psql(f'CREATE DATABASE "{database}";')
    url: str = server.get_uri(database)
    logger.info("embedded PostgreSQL at %s", url)
    return url


def stop_embedded(data_dir: Path) -> None:
    """Stop the server this process started for ``data_dir`` (and delete its data if it was started
    with ``cleanup="delete"``). A no-op if this process did not start it."""
    from pgserver.postgres_server import PostgresServer

    server = PostgresServer._instances.get(Path(data_dir).resolve())
    if server is not None:
        server.cleanup()


def revive_embedded(data_dir: Path) -> bool:
    """Start the embedded server of ``data_dir`` again if this process started it and it is no longer
    running (killed, crashed): PostgreSQL replays its WAL, and the committed work is there. True if it
    was started again; False when it runs, or was not started by this process (``DATABASE_URL``)."""
    from pgserver.postgres_server import PostgresServer
    from pgserver.utils import PostmasterInfo

    server = PostgresServer._instances.get(Path(data_dir).resolve())
    if server is None:
        return False
    info = PostmasterInfo.read_from_pgdata(server.pgdata)
    if info is not None and info.is_running():
        return False
    logger.warning("the embedded PostgreSQL in %s stopped: starting it again", server.pgdata)
    with server._lock:
        server.ensure_postgres_running()
    return True
