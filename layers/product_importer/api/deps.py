"""What the routes depend on, taken from the composition root (``product_importer.runtime``); tests
override these with FastAPI's ``dependency_overrides``."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
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
