"""What the routes depend on, built once per process; tests override these with FastAPI's dependency_overrides."""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache

import psycopg
from psycopg_pool import ConnectionPool

from product_importer import runtime
from product_importer.db.connection import resolve_database_url
from product_importer.imports.store import ImportRequests
from product_importer.pipeline.jobs import ImportJobs
from product_importer.progress import ProgressStore
from product_importer.settings import Settings, get_settings
from product_importer.transfers import Transfers


def settings() -> Settings:
    return get_settings()


@lru_cache(maxsize=1)
def pool() -> ConnectionPool:
    # Module-scope pool: Lambda keeps it across invocations (one connection per warm container);
    # locally it serves uvicorn's thread pool.
    size = 1 if get_settings().local_mode is False else 8
    # conninfo is a callable: each new connection re-resolves the URL (rotated secrets).
    return ConnectionPool(lambda: resolve_database_url(get_settings()), min_size=1, max_size=size, open=True,
                          kwargs={"application_name": "product-importer-api"})


def db() -> Iterator[psycopg.Connection]:
    with pool().connection() as conn:
        yield conn


def progress() -> ProgressStore:
    return runtime.progress_store()


def imports() -> ImportRequests:
    return runtime.import_requests()


def transfers() -> Transfers:
    return runtime.transfers()


def jobs() -> ImportJobs:
    return runtime.import_jobs()
