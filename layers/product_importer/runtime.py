"""The real adapters of one process, built once and reused (one per warm Lambda container)."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache, lru_cache
from typing import Any, TypeVar

import psycopg

from product_importer.aws import cached_client
from product_importer.db.connection import ConnectionHolder, resolve_database_url
from product_importer.imports.store import ImportRequests
from product_importer.models import ImportTotals
from product_importer.pipeline.jobs import ImportJobs
from product_importer.progress import ProgressStore
from product_importer.settings import get_settings
from product_importer.storage import MessageQueue, ObjectStore
from product_importer.transfers import Transfers

T = TypeVar("T")


_per_container: list[Any] = []


def per_container(build: Callable[[], T]) -> Callable[[], T]:
    """Build once per process (a warm Lambda container) and reuse; ``reset()`` forgets it."""
    cached = lru_cache(maxsize=1)(build)
    _per_container.append(cached)
    return cached


@lru_cache(maxsize=1)
def progress_store() -> ProgressStore:
    return ProgressStore(get_settings().progress_table, cached_client("dynamodb"))


@lru_cache(maxsize=1)
def object_store() -> ObjectStore:
    return ObjectStore(cached_client("s3"))


@cache
def queue(url: str) -> MessageQueue:
    return MessageQueue(cached_client("sqs"), url)


@lru_cache(maxsize=1)
def _holder() -> ConnectionHolder:
    return ConnectionHolder(lambda: resolve_database_url(get_settings()))


@per_container
def import_requests() -> ImportRequests:
    """The API's reads and writes of Import items (the progress table)."""
    return ImportRequests(get_settings().progress_table, cached_client("dynamodb"))


@per_container
def transfers() -> Transfers:
    return Transfers(cached_client("s3"))


@per_container
def import_jobs() -> ImportJobs:
    """Where the API sends the pipeline's asynchronous work (apply's split, revert, confirmed replace)."""
    settings = get_settings()
    return ImportJobs(splits=queue(settings.object_events_queue_url), chunks=queue(settings.chunks_queue_url))


def db_connection() -> psycopg.Connection:
    """This container's one PostgreSQL connection (reopened if it broke)."""
    return _holder().get()


def next_import_number() -> int:
    from product_importer.db.chunks import next_import_number as take

    return take(db_connection())


def committed_totals(import_id: str) -> ImportTotals:
    from product_importer.db.chunks import read_totals

    conn = db_connection()
    totals = read_totals(conn, import_id)
    conn.rollback()  # end the read's transaction: the connection is reused
    return totals


def reset() -> None:
    """Forget every cached setting, client and connection of this process (a local stack restarted in
    the same process, with other endpoints, must not reuse the previous one's)."""
    import product_importer.db.connection as connection
    from product_importer.aws import cached_client as clients

    if _holder.cache_info().currsize:
        _holder().close()
    for cached in (get_settings, clients, progress_store, object_store, queue, _holder, *_per_container):
        cached.cache_clear()
    connection._resolved_url = None
    from product_importer.api import deps

    if deps.pool.cache_info().currsize:
        deps.pool().close()
    deps.pool.cache_clear()
