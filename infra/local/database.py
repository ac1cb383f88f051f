"""The local stack's PostgreSQL: the embedded server under the state directory (or ``DATABASE_URL``),
migrated to the package's schema."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import psycopg

logger = logging.getLogger("local")


def start_database(state_dir: Path, database_url: str = "") -> str:
    """The URL of a migrated database: ``database_url`` if given, else the embedded PostgreSQL (stopped
    when this process exits)."""
    url = database_url or _start_embedded(state_dir)
    apply_migrations(url)
    return url


def _start_embedded(state_dir: Path) -> str:
    from product_importer.db.embedded import start_embedded

    return start_embedded(state_dir / "pgdata", cleanup="stop", database="product_importer")


def apply_migrations(url: str) -> None:
    from product_importer.db.migrate import apply_migrations as apply

    with psycopg.connect(url) as conn:
        apply(conn)


class DatabaseWatch(threading.Thread):
    """Starts the embedded PostgreSQL again when it dies while the stack runs (killed, crashed), as RDS
    restarts a failed instance: before, every chunk failed until the stack was restarted by hand, and its
    dead letters could not end the import either (ending one writes to PostgreSQL), so imports stayed
    ``processing`` for ever. Now a chunk's next attempt (15 s later) finds it back. A ``DATABASE_URL``
    server is not ours to start: nothing is done for it."""

    def __init__(self, state_dir: Path, interval_s: float = 1.0) -> None:
        super().__init__(name="database-watch", daemon=True)
        self._data_dir = state_dir / "pgdata"
        self._interval_s = interval_s
        self._halt = threading.Event()
        self.revivals = 0

    def run(self) -> None:
        while not self._halt.wait(self._interval_s):
            self.check()

    def check(self) -> bool:
        """Start it again if it is down; True if this call did."""
        from product_importer.db.embedded import revive_embedded

        try:
            revived = revive_embedded(self._data_dir)
        except Exception as exc:  # the next round tries again
            logger.warning("could not start the embedded PostgreSQL again: %s", exc)
            return False
        self.revivals += revived
        return revived

    def stop(self) -> None:
        self._halt.set()
