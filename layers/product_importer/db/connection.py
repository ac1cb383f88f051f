"""Which database to talk to, and the one reused connection per process (per warm Lambda)."""

from __future__ import annotations

import json
import threading
from urllib.parse import quote

import psycopg

from product_importer.settings import Settings

_lock = threading.Lock()
_resolved_url: str | None = None


def resolve_database_url(settings: Settings) -> str:
    """``DATABASE_URL`` if set; the RDS Proxy endpoint with credentials from Secrets Manager in AWS;
    otherwise the embedded PostgreSQL under ``settings.local_dir``. Resolved once per process."""
    global _resolved_url
    with _lock:
        if _resolved_url is None:
            _resolved_url = _resolve(settings)
        return _resolved_url


def _resolve(settings: Settings) -> str:
    if settings.database_url:
        return settings.database_url
    if settings.db_secret_arn:
        return _url_from_secret(settings)
    from product_importer.db.embedded import start_embedded

    return start_embedded(settings.local_dir / "pgdata", cleanup=None, database="product_importer")


def _url_from_secret(settings: Settings) -> str:
    import boto3

    client = boto3.client("secretsmanager", region_name=settings.aws_region)
    secret = json.loads(client.get_secret_value(SecretId=settings.db_secret_arn)["SecretString"])
    host = settings.db_proxy_endpoint or secret["host"]
    port = secret.get("port", 5432)
    user, password = quote(secret["username"]), quote(secret["password"])
    return f"postgresql://{user}:{password}@{host}:{port}/{settings.db_name}?sslmode=require"


def connect(url: str) -> psycopg.Connection:
    """A new connection (transactions explicit: ``autocommit`` off)."""
    return psycopg.connect(url, application_name="product-importer")


class ConnectionHolder:
    """One connection per process, reopened if the server dropped it. Not for concurrent use."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._conn: psycopg.Connection | None = None

    def get(self) -> psycopg.Connection:
        if self._conn is None or self._conn.closed or self._conn.broken:
            self._conn = connect(self._url)
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
