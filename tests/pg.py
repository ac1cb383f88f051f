"""A throw-away embedded PostgreSQL for the test session, and a fresh migrated database per test."""

from __future__ import annotations

import itertools
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from product_importer.db.embedded import start_embedded, stop_embedded
from product_importer.db.migrate import apply_migrations

TEMPLATE = "pi_template"


class EmbeddedDatabases:
    """One server per session; each ``create()`` clones a migrated template database (fast)."""

    def __init__(self) -> None:
        self._dir = Path(tempfile.mkdtemp(prefix="pi-pg-"))
        self.admin_url = start_embedded(self._dir / "data", cleanup="delete")
        self._counter = itertools.count(1)
        with psycopg.connect(self.admin_url, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {TEMPLATE}")
            admin.execute(f"CREATE DATABASE {TEMPLATE}")
        with psycopg.connect(self._url(TEMPLATE)) as conn:
            apply_migrations(conn)

    def _url(self, name: str) -> str:
        return self.admin_url.replace("/postgres?", f"/{name}?")

    def create(self) -> str:
        name = f"pi_test_{next(self._counter)}"
        with psycopg.connect(self.admin_url, autocommit=True) as admin:
            admin.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}")
        return self._url(name)

    def drop(self, url: str) -> None:
        name = url.split("/")[-1].split("?")[0]
        with psycopg.connect(self.admin_url, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def close(self) -> None:
        stop_embedded(self._dir / "data")
        shutil.rmtree(self._dir, ignore_errors=True)


@contextmanager
def fresh_database(dbs: EmbeddedDatabases) -> Iterator[str]:
    url = dbs.create()
    try:
        yield url
    finally:
        dbs.drop(url)
