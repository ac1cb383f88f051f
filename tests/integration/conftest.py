from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from tests.pg import EmbeddedDatabases, fresh_database


@pytest.fixture(scope="session")
def databases() -> Iterator[EmbeddedDatabases]:
    dbs = EmbeddedDatabases()
    yield dbs
    dbs.close()


@pytest.fixture
def database_url(databases: EmbeddedDatabases) -> Iterator[str]:
    """A freshly migrated, empty database of its own for each test."""
    with fresh_database(databases) as url:
        yield url


@pytest.fixture
def conn(database_url: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(database_url) as connection:
        yield connection
