"""What the routes depend on, taken from the composition root (``product_importer.runtime``); tests
override these with FastAPI's ``dependency_overrides``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

import psycopg
from fastapi import Depends, Query
from psycopg_pool import ConnectionPool

from product_importer import runtime
from product_importer.imports.jobs import ImportJobs
from product_importer.imports.store import ImportRequests
from product_importer.ports import ProgressStore
from product_importer.settings import Settings
from product_importer.transfers import Transfers


def settings() -> Settings:
    return runtime.settings()


def pool() -> ConnectionPool:
    return runtime.api_pool()


def db() -> Iterator[psycopg.Connection]:
    """A pooled connection for one request; leaving the pool's context commits what the route left open."""
    with pool().connection() as conn:
        yield conn


# scope="function": the connection is committed and returned when the route returns, before the response
# is sent. With the default ("request") FastAPI runs the exit after sending it, so a client could read
# before a write it was told about had committed (a route that reads first, then writes in a
# ``conn.transaction()``, writes in a savepoint of the read's transaction).
Db = Annotated[psycopg.Connection, Depends(db, scope="function")]


def progress() -> ProgressStore:
    return runtime.progress_store()


def imports() -> ImportRequests:
    return runtime.import_requests()


def transfers() -> Transfers:
    return runtime.transfers()


def jobs() -> ImportJobs:
    return runtime.import_jobs()


# ``?confirm=true`` on the destructive calls (CONTRACT §3): only the word ``true`` confirms. A bool parameter
# took ``yes``, ``1`` and ``on`` as true too, and answered 422 instead of 400 for any other word.
Confirm = Annotated[str | None, Query(max_length=100, description="true, to confirm")]


def confirmed(value: str | None) -> bool:
    return value is not None and value.strip().lower() == "true"
