"""Deploy-time trigger: set up the database roles, then apply the pending migrations as the schema owner.

Everything goes through RDS Proxy with TLS verified (``verify-full``). Three secrets: the cluster master
(``DB_MASTER_SECRET_ARN``: creates the roles and hands objects over, ``product_importer.db.roles``), the
owner (``DB_OWNER_SECRET_ARN``: runs ``apply_migrations``) and the application role (``DB_SECRET_ARN``:
only its name and password are read, to create it). A failure fails the CloudFormation deployment (and
rolls it back) instead of leaving a stale schema.
"""

from __future__ import annotations

from typing import Any

from product_importer.db.connection import connect, read_secret, url_from_secret
from product_importer.db.migrate import apply_migrations
from product_importer.db.roles import RoleCredentials, act_as_canonical, ensure_roles, grant_app_privileges
from product_importer.settings import get_common_settings


def handler(event: dict[str, Any], context: object) -> dict[str, list[int]]:
    settings = get_common_settings()
    owner_secret = read_secret(settings, settings.db_owner_secret_arn)
    app_secret = read_secret(settings, settings.db_secret_arn)
    owner = RoleCredentials(owner_secret["username"], owner_secret["password"])
    app = RoleCredentials(app_secret["username"], app_secret["password"])
    master_url = url_from_secret(settings, settings.db_master_secret_arn)
    with connect(master_url) as conn:
        ensure_roles(conn, owner=owner, app=app)
    with connect(url_from_secret(settings, settings.db_owner_secret_arn)) as conn:
        act_as_canonical(conn, owner.username)  # a rotated owner_clone creates objects as the owner
        applied = apply_migrations(conn)
        grant_app_privileges(conn, owner=owner.username, app=app.username)
    return {"applied": applied}
