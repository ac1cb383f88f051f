"""Versioned SQL migrations (``product_importer/migrations/NNNN_name.sql``), applied once each, in order.

Safe to run concurrently (an advisory lock serialises runners) and repeatedly (applied versions are
recorded in ``schema_migrations``). ``python -m product_importer.db.migrate`` applies them to the
configured database.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from importlib import resources

import psycopg

logger = logging.getLogger(__name__)

_LOCK_KEY = 0x5052_4F44  # "PROD": any constant shared by all runners


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def load_migrations() -> list[Migration]:
    folder = resources.files("product_importer") / "migrations"
    found = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            number, _, rest = entry.name.partition("_")
            found.append(Migration(int(number), rest.removesuffix(".sql"), entry.read_text("utf-8")))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise RuntimeError(f"duplicate migration numbers: {versions}")
    return found


def apply_migrations(conn: psycopg.Connection) -> list[int]:
    """Apply the pending migrations; return the versions applied now."""
    applied_now: list[int] = []
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version integer PRIMARY KEY, name text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        )
        done = {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}
        for migration in load_migrations():
            if migration.version in done:
                continue
            logger.info("applying migration %04d %s", migration.version, migration.name)
            conn.execute(migration.sql.encode())
            conn.execute(
                "INSERT INTO schema_migrations (version, name) VALUES (%s, %s)",
                (migration.version, migration.name),
            )
            applied_now.append(migration.version)
    return applied_now


def main() -> None:
    from product_importer.db.connection import connect, resolve_database_url
    from product_importer.settings import get_common_settings

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    with connect(resolve_database_url(get_common_settings())) as conn:
        applied = apply_migrations(conn)
    print(f"applied {applied}" if applied else "schema up to date")


if __name__ == "__main__":
    main()
