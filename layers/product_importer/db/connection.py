"""Which database to talk to, and the one reused connection per process (per warm Lambda)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

import psycopg

from product_importer.settings import CommonSettings

_lock = threading.Lock()
_resolved_url: str | None = None
_resolved_at = 0.0
# Credentials from Secrets Manager are re-read this often (only when a connection is opened), so a
# rotated password reaches warm containers without a cold start.
SECRET_TTL_S = 300.0


def resolve_database_url(settings: CommonSettings) -> str:
    """``DATABASE_URL`` if set; the RDS Proxy endpoint with credentials from Secrets Manager in AWS
    (re-read after ``SECRET_TTL_S``); otherwise the embedded PostgreSQL under ``settings.local_dir``."""
    global _resolved_url, _resolved_at
    with _lock:
        stale = bool(settings.db_secret_arn) and not settings.database_url and (
            time.monotonic() - _resolved_at > SECRET_TTL_S)
        if _resolved_url is None or stale:
            _resolved_url = _resolve(settings)
            _resolved_at = time.monotonic()
        return _resolved_url


def forget_database_url() -> None:
    """Resolve again on the next call (after an authentication failure: the secret may have rotated)."""
    global _resolved_url
    with _lock:
        _resolved_url = None


def _resolve(settings: CommonSettings) -> str:
    if settings.database_url:
        return settings.database_url
    if settings.db_secret_arn:
        return _url_from_secret(settings)
    from product_importer.db.embedded import start_embedded

    return start_embedded(settings.local_dir / "pgdata", cleanup=None, database="product_importer")


def _url_from_secret(settings: CommonSettings) -> str:
    return url_from_secret(settings, settings.db_secret_arn)


def read_secret(settings: CommonSettings, secret_arn: str, client: Any | None = None) -> dict[str, Any]:
    """A database secret from Secrets Manager: ``{"username", "password", "host", "port", …}``."""
    if client is None:
        import boto3

        client = boto3.client("secretsmanager", region_name=settings.aws_region)
    secret: dict[str, Any] = json.loads(client.get_secret_value(SecretId=secret_arn)["SecretString"])
    return secret


def url_from_secret(settings: CommonSettings, secret_arn: str, client: Any | None = None) -> str:
    """The RDS Proxy endpoint with this secret's user. TLS is verified (``verify-full``): the proxy's
    certificate chains to Amazon's public roots, which the CA bundle we ship (certifi) holds, and its name
    must be the endpoint's. Everything goes through the proxy, migrations too."""
    secret = read_secret(settings, secret_arn, client)
    host = settings.db_proxy_endpoint or secret["host"]
    port = secret.get("port", 5432)
    user, password = quote(secret["username"]), quote(secret["password"])
    return (
        f"postgresql://{user}:{password}@{host}:{port}/{settings.db_name}"
        f"?sslmode=verify-full&sslrootcert={quote(trusted_roots())}"
    )


def trusted_roots() -> str:
    """The CA bundle TLS to the database is verified against (Mozilla's roots, Amazon's among them)."""
    import certifi

    return str(certifi.where())


def connect(url: str) -> psycopg.Connection:
    """A new connection (transactions explicit: ``autocommit`` off)."""
    return psycopg.connect(url, application_name="product-importer")


class ConnectionHolder:
    """One connection per process, reopened if the server dropped it. Not for concurrent use.

    ``url`` is asked again for each new connection; a refused password makes it resolve the URL once
    more (a rotated secret) before giving up. A connection idle for ``check_after_s`` or more is checked
    (one empty query, outside any transaction) before it is handed out: after the server restarted (a
    failover, the local stack's PostgreSQL killed and started again) a warm process's connection was dead
    and its next job failed on it, a file's split among them, which then waited out its message's
    visibility (16 minutes) before its next attempt."""

    def __init__(self, url: Callable[[], str], check_after_s: float = 5.0) -> None:
        self._url = url
        self._conn: psycopg.Connection | None = None
        self._check_after_s = check_after_s
        self._handed_at = 0.0

    def get(self) -> psycopg.Connection:
        now = time.monotonic()
        if self._conn is not None and now - self._handed_at >= self._check_after_s and not _alive(self._conn):
            self._conn.close()
        self._handed_at = now
        if self._conn is None or self._conn.closed or self._conn.broken:
            try:
                self._conn = connect(self._url())
            except psycopg.errors.InvalidPassword:
                forget_database_url()
                self._conn = connect(self._url())
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def _alive(conn: psycopg.Connection) -> bool:
    """Whether the server still answers ``conn`` (idle outside a transaction: an empty query, which opens
    none); a connection inside a transaction is its owner's to find out about."""
    if conn.closed or conn.broken:
        return False
    if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
        return True
    autocommit = conn.autocommit
    try:
        conn.autocommit = True
        conn.execute("")
        conn.autocommit = autocommit
        return True
    except psycopg.Error:
        return False


def statement_timeout(seconds: float) -> Callable[[psycopg.Connection], None]:
    """A pool's ``configure``: each new connection's statements stop after ``seconds`` (PostgreSQL's
    ``statement_timeout``, lock waits included; ``QueryCanceled`` when it fires). A ``SET``, since RDS Proxy
    refuses the startup ``options`` parameter ("RDS Proxy currently doesn't support command-line options");
    behind it the session is pinned, one database connection per warm API container (its reserved
    concurrency bounds them)."""
    milliseconds = max(1, round(seconds * 1000))

    def configure(conn: psycopg.Connection) -> None:
        conn.execute(f"SET statement_timeout = {milliseconds:d}")
        conn.commit()

    return configure


def check_database(conn: psycopg.Connection) -> None:
    """Raise if the database does not answer (``GET /api/health``)."""
    conn.execute("SELECT 1")


_PLANNER_METHODS = frozenset({"sort", "hashjoin", "mergejoin", "seqscan"})


@contextmanager
def planner_off(conn: psycopg.Connection, *methods: str) -> Iterator[None]:
    """Plan the statements inside without ``methods`` (``SET LOCAL enable_<method> = off``), in the caller's
    transaction, and restore them after (for the rest of that transaction). For the few statements whose
    plan must walk a key whatever the statistics say: a chunk's or a step's few thousand rows in a large
    table (revert.cut_ranges, replace.deactivate_missing). An error inside aborts the transaction, and the
    settings go with it."""
    unknown = set(methods) - _PLANNER_METHODS
    if unknown:
        raise ValueError(f"not a planner method: {sorted(unknown)}")
    for method in methods:
        conn.execute(f"SET LOCAL enable_{method} = off")
    yield
    for method in methods:
        conn.execute(f"SET LOCAL enable_{method} TO DEFAULT")
