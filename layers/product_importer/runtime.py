"""The composition root: the real adapters of one process, built once and reused (one per warm Lambda
container), from the settings. Handlers and ``api/deps.py`` take what they need from here; nothing here
imports them.

Everything is built with ``@per_container`` (``product_importer.container``), so ``reset()`` drops all of
it at once without knowing what was built.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg_pool import ConnectionPool

from product_importer.aws import cached_client
from product_importer.container import CONTAINER, per_container
from product_importer.db.connection import (
    ConnectionHolder,
    forget_database_url,
    resolve_database_url,
    statement_timeout,
)
from product_importer.db.job_ledger import PostgresJobLedger
from product_importer.db.ledger import PostgresChunkLedger
from product_importer.db.plans import PgPlanStore
from product_importer.imports.jobs import ImportJobs
from product_importer.imports.store import ImportRequests
from product_importer.models import ImportTotals
from product_importer.progress import DynamoProgressStore
from product_importer.settings import Settings, get_settings
from product_importer.storage import S3ObjectStore, SqsMessageQueue
from product_importer.transfers import Transfers

__all__ = [
    "api_pool",
    "chunk_ledger",
    "client",
    "committed_totals",
    "db_connection",
    "import_jobs",
    "import_requests",
    "job_ledger",
    "next_import_number",
    "object_store",
    "per_container",
    "plan_store",
    "progress_store",
    "queue",
    "reset",
    "saved_mappings",
    "settings",
    "transfers",
]

# The resolved database URL is kept by db.connection (it re-reads rotated secrets): forget it with the rest.
CONTAINER.on_reset(forget_database_url)


def settings() -> Settings:
    return get_settings()


def client(service: str) -> Any:
    """This process's boto3 client for ``service`` (pointed at the emulator in local mode)."""
    return cached_client(service)


@per_container
def progress_store() -> DynamoProgressStore:
    return DynamoProgressStore(settings().progress_table, client("dynamodb"))


@per_container
def object_store() -> S3ObjectStore:
    return S3ObjectStore(client("s3"))


@per_container
def queue(url: str) -> SqsMessageQueue:
    return SqsMessageQueue(client("sqs"), url)


@per_container
def import_requests() -> ImportRequests:
    """The API's reads and conditional writes of Import items (the progress table)."""
    return ImportRequests(settings().progress_table, client("dynamodb"))


@per_container
def transfers() -> Transfers:
    """Presigned uploads and downloads, and exports written to the uploads bucket."""
    return Transfers(client("s3"))


@per_container
def import_jobs() -> ImportJobs:
    """Where the API sends the pipeline's asynchronous work (apply's split, revert, confirmed replace)."""
    return ImportJobs(splits=queue(settings().object_events_queue_url), chunks=queue(settings().chunks_queue_url))


@per_container(close=ConnectionHolder.close)
def _holder() -> ConnectionHolder:
    return ConnectionHolder(lambda: resolve_database_url(settings()))


def db_connection() -> psycopg.Connection:
    """This container's one PostgreSQL connection (reopened if it broke)."""
    return _holder().get()


@per_container
def chunk_ledger() -> PostgresChunkLedger:
    return PostgresChunkLedger(db_connection)


@per_container
def job_ledger() -> PostgresJobLedger:
    """PostgreSQL's side of an import's end, its replace and its revert (the consumer's one connection)."""
    return PostgresJobLedger(db_connection)


@per_container
def plan_store() -> PgPlanStore:
    """Split plans and splitter checkpoints (plans cached: they never change once pinned)."""
    return PgPlanStore(db_connection)


def saved_mappings() -> list[dict[str, Any]]:
    """The saved mappings as candidates for ``ingest.sniff`` (read once per split)."""
    from product_importer.db.registry import settle
    from product_importer.mappings.repository import all_mappings

    conn = db_connection()
    settle(conn)
    try:
        return [m.candidate() for m in all_mappings(conn)]
    finally:
        conn.rollback()


def next_import_number() -> int:
    from product_importer.db.chunks import next_import_number as take

    return take(db_connection())


def committed_totals(import_id: str) -> ImportTotals:
    return chunk_ledger().committed_totals(import_id)


@per_container(close=ConnectionPool.close)
def api_pool() -> ConnectionPool:
    """The API's connection pool. In Lambda it keeps one connection per warm container; locally it
    serves uvicorn's thread pool. ``conninfo`` is a callable: each new connection re-resolves the URL
    (rotated secrets)."""
    size = 1 if settings().local_mode is False else 8
    # Each connection is checked as it is handed out (one round trip): after the database restarted (a
    # failover, the local stack's PostgreSQL killed and started again) every pooled connection was dead, and
    # each answered one request 503 before the pool dropped it (up to 8 in a row locally).
    # A statement stops before API Gateway's 29 s integration timeout (503 with detail, not a gateway 504
    # while the query goes on holding the connection); only the API's: a chunk's COPY may take longer.
    return ConnectionPool(lambda: resolve_database_url(settings()), min_size=1, max_size=size, open=True,
                          kwargs={"application_name": "product-importer-api"}, check=ConnectionPool.check_connection,
                          configure=statement_timeout(settings().api_statement_timeout_s))


def reset() -> None:
    """Close and forget everything this process built (settings, clients, adapters, connections): a local
    stack restarted in the same process, with other endpoints, must not reuse the previous one's."""
    CONTAINER.reset()
