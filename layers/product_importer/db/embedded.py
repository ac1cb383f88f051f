"""An embedded PostgreSQL 16 started from the ``pgserver`` wheel, for local mode and tests.

The server listens on a Unix socket only. pgserver makes the parent folders of its data dir
world-readable, so the data dir must live under the project (``.local/``) or a temp dir, never ``~``.
"""

from __future__ import annotations

import json
import logging
import os
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import psycopg

if TYPE_CHECKING:
    import psutil

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
    _clear_what_a_killed_process_left(data_dir)
    server = pgserver.get_server(data_dir, cleanup_mode=cleanup)
    if database != "postgres":
        exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}';")
        if "1 row" not in exists:
            server.psql(f'CREATE DATABASE "{database}";')
    url: str = server.get_uri(database)
    apply_settings(url)
    logger.info("embedded PostgreSQL at %s", url)
    return url


# Settings of the embedded server for bulk writes (PostgreSQL manual, 14.4 "Populating a Database": increase
# max_wal_size). With the stock 1 GB a checkpoint starts after every ~0.5 GB of WAL, and the first change
# of each page after it writes the whole 8 KiB page to the WAL again: a re-import of 500,000 products
# (products, change records and undo data: ~0.5 GB of WAL) ran into one or two, and the pass took ~18%
# longer (docs/benchmarks.md). Aurora has no checkpoints of this kind (its storage applies the log), so
# fewer of them also models production better. Reloaded, not restarted: applies to a running server.
SETTINGS = {"max_wal_size": "4GB", "checkpoint_timeout": "15min"}


def apply_settings(url: str, settings: dict[str, str] = SETTINGS) -> None:
    """Give the server at ``url`` these reloadable settings (ALTER SYSTEM, then a reload) where it does not
    have them yet; a superuser's URL (the embedded server's)."""
    with psycopg.connect(url, autocommit=True) as conn:
        changed = False
        for name, value in settings.items():
            shown = conn.execute(f"SELECT current_setting('{name}')").fetchone()
            if shown is None or shown[0] != value:
                conn.execute(f"ALTER SYSTEM SET {name} = '{value}'")
                changed = True
        if changed:
            conn.execute("SELECT pg_reload_conf()")


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


HANDLES = ".handle_pids.json"  # pgserver's list of the processes using a server; the last one out stops it


def _clear_what_a_killed_process_left(data_dir: Path) -> None:
    """Make a start after ``kill -9`` of the process that started the server (the local stack) safe.

    pgserver's server outlives its starter (``pg_ctl start``), and a killed starter leaves its pid in the
    handle list, where it stays for good: the next start attached to the orphan, but at its own clean exit it
    was not the last handle, so PostgreSQL was never stopped again (a postmaster left running after every
    Ctrl-C from then on). Dead pids are dropped from that list. ``postmaster.pid`` naming a running
    postmaster of ``data_dir`` that answers: it is reused (the committed work is in it); one that does not
    answer is stopped and a new one started. ``postmaster.pid`` naming a live process that is not that
    postmaster (the pid taken by another process since, after a reboot or in a container): the file is stale
    and removed, where pgserver took that process for the server and every connection failed."""
    import psutil  # pgserver's: local mode only
    from pgserver.postgres_server import PostgresServer
    from pgserver.utils import PostmasterInfo

    with PostgresServer._lock:
        handles = data_dir / HANDLES
        try:
            pids: list[Any] = json.loads(handles.read_text()) if handles.exists() else []
        except ValueError:
            pids = []
        alive = [pid for pid in pids if isinstance(pid, int) and psutil.pid_exists(pid)]
        if alive != pids:
            logger.warning("embedded PostgreSQL in %s: forgetting %d process(es) that ended without stopping it "
                           "(killed)", data_dir, len(pids) - len(alive))
            handles.write_text(json.dumps(alive))
        info = PostmasterInfo.read_from_pgdata(data_dir)
        if info is None or info.process is None:
            return  # not running: pg_ctl starts it (a stale file whose pid is gone is PostgreSQL's to replace)
        if not _is_postmaster_of(info.process, data_dir):
            logger.warning("embedded PostgreSQL in %s: postmaster.pid names pid %s, which is another process now: "
                           "removing the stale file", data_dir, info.pid)
            (data_dir / "postmaster.pid").unlink(missing_ok=True)
            return
        if alive or _answers(info.get_uri()):
            if not alive:
                logger.warning("embedded PostgreSQL in %s: reusing the server (pid %s) a killed stack left running",
                               data_dir, info.pid)
            return
        logger.warning("embedded PostgreSQL in %s: the server a killed stack left running (pid %s) does not answer: "
                       "stopping it", data_dir, info.pid)
        _stop(info.process)


def _is_postmaster_of(process: psutil.Process, data_dir: Path) -> bool:
    import psutil

    try:
        args = process.cmdline()
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return False
    if not args or Path(args[0]).name != "postgres" or "-D" not in args[:-1]:
        return False
    return Path(args[args.index("-D") + 1]).resolve() == data_dir


def _answers(url: str) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=5) as conn:
            conn.execute("SELECT 1")
        return True
    except psycopg.Error:
        return False


def _stop(process: psutil.Process) -> None:
    import psutil

    try:
        process.terminate()  # SIGTERM: PostgreSQL's smart shutdown
        process.wait(10)
    except psutil.TimeoutExpired:
        process.kill()
        process.wait(5)
    except psutil.NoSuchProcess:
        pass
