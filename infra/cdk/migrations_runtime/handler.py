"""Deploy-time trigger: apply the pending database migrations with the project's own runner.

Runs in the VPC next to Aurora with ``DB_SECRET_ARN`` / ``DB_NAME`` and no ``DB_PROXY_ENDPOINT``, so
``resolve_database_url`` connects straight to the cluster writer named in the secret.
A failure fails the CloudFormation deployment (and rolls it back) instead of leaving a stale schema.
"""

from __future__ import annotations

from typing import Any

from product_importer.db.connection import connect, resolve_database_url
from product_importer.db.migrate import apply_migrations
from product_importer.settings import get_common_settings


def handler(event: dict[str, Any], context: object) -> dict[str, list[int]]:
    with connect(resolve_database_url(get_common_settings())) as conn:
        applied = apply_migrations(conn)
    return {"applied": applied}
