from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from fastapi.testclient import TestClient
from product_importer.api import deps
from product_importer.api.app import create_app
from product_importer.settings import Settings

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


@pytest.fixture
def api(database_url: str) -> Iterator[TestClient]:
    """The API app (local mode: everyone is admin) on this test's database, a connection per request."""
    app = create_app()

    def db() -> Iterator[psycopg.Connection]:
        with psycopg.connect(database_url) as conn:
            yield conn

    app.dependency_overrides[deps.db] = db
    app.dependency_overrides[deps.settings] = lambda: Settings(database_url=database_url, local_mode=True)
    with TestClient(app) as client:
        yield client
