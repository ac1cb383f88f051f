"""The local stack's PostgreSQL: the embedded server under the state directory (or ``DATABASE_URL``),
migrated to the package's schema."""

from __future__ import annotations

from pathlib import Path

import psycopg


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
