"""Database roles (as in AWS): migrations under an owner role, the application with DML only.

The embedded server plays Aurora: a master user with CREATEROLE that owns the database (not a superuser),
an owner and an app role made by ``ensure_roles``. What the application does every day must work as the
app role; any DDL must be refused to it.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from product_importer.db import migrate
from product_importer.db.chunks import next_import_number
from product_importer.db.revert import purge_undo
from product_importer.db.roles import RoleCredentials, ensure_roles, grant_app_privileges
from product_importer.products import repository as products
from product_importer.webhooks.store import WebhookStore

from tests.integration.test_upsert_chunk import apply, full
from tests.pg import EmbeddedDatabases

_n = itertools.count(1)


def url_as(admin_url: str, user: str, database: str) -> str:
    # postgresql://postgres:@/postgres?host=/tmp/... (Unix socket, trust: the password is not checked here;
    # what is checked is what each role may do)
    rest = admin_url.split("@", 1)[1]
    return f"postgresql://{user}:pw@{rest.replace('/postgres?', f'/{database}?', 1)}"


class Cluster:
    def __init__(self, databases: EmbeddedDatabases) -> None:
        n = next(_n)
        self.admin = databases.admin_url
        self.database = f"pi_roles_{n}"
        self.master = f"pi_master_{n}"
        self.owner = RoleCredentials(f"pi_owner_{n}", "owner-pw")
        self.app = RoleCredentials(f"pi_app_{n}", "app-pw")
        with psycopg.connect(self.admin, autocommit=True) as su:
            su.execute(f"CREATE ROLE {self.master} LOGIN CREATEROLE PASSWORD 'master-pw'")
            su.execute(f"CREATE DATABASE {self.database} OWNER {self.master}")

    def url(self, user: str) -> str:
        return url_as(self.admin, user, self.database)

    def drop(self) -> None:
        with psycopg.connect(self.admin, autocommit=True) as su:
            su.execute(f"DROP DATABASE IF EXISTS {self.database} WITH (FORCE)")
            for role in (self.app.username, self.owner.username, self.master):
                su.execute(f"DROP ROLE IF EXISTS {role}")


@pytest.fixture
def cluster(databases: EmbeddedDatabases) -> Iterator[Cluster]:
    c = Cluster(databases)
    yield c
    c.drop()


@contextmanager
def only_migrations(count: int | None, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """``apply_migrations`` sees only the first ``count`` migrations (None: all)."""
    everything = migrate.load_migrations()
    with monkeypatch.context() as patch:
        patch.setattr(migrate, "load_migrations", lambda: everything[:count] if count is not None else everything)
        yield


def deploy(cluster: Cluster) -> None:
    """What the migrations trigger does on every deploy."""
    with psycopg.connect(cluster.url(cluster.master)) as conn:
        ensure_roles(conn, owner=cluster.owner, app=cluster.app)
    with psycopg.connect(cluster.url(cluster.owner.username)) as conn:
        migrate.apply_migrations(conn)
        grant_app_privileges(conn, owner=cluster.owner.username, app=cluster.app.username)


@pytest.mark.parametrize("applied_by_master", [0, 2, None], ids=["fresh", "some-before", "all-before"])
def test_the_app_role_does_the_daily_work_and_no_ddl(
    cluster: Cluster, monkeypatch: pytest.MonkeyPatch, applied_by_master: int | None
) -> None:
    # given a database where the master user applied some migrations before roles existed (with data)
    if applied_by_master != 0:
        with only_migrations(applied_by_master, monkeypatch), psycopg.connect(cluster.url(cluster.master)) as c:
            migrate.apply_migrations(c)
            c.execute("INSERT INTO webhooks (id, url, events) VALUES ('before', 'https://h.example/',"
                      " ARRAY['import.completed'])")
            c.commit()
    # when a deploy sets up the roles and applies the rest as the owner (twice: it is idempotent)
    deploy(cluster)
    deploy(cluster)

    # then every object belongs to the owner
    with psycopg.connect(cluster.url(cluster.owner.username)) as owner:
        strays = owner.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = 'public' AND c.relkind IN ('r','p','S','v','m')"
            " AND pg_get_userbyid(c.relowner) <> current_user"
        ).fetchall()
        assert strays == []

    with psycopg.connect(cluster.url(cluster.app.username)) as app:
        # and the application's daily work runs as the app role
        number = next_import_number(app)
        apply(app, "imp-roles", number, 0, [full(1, "ROLE-1", "One"), full(2, "ROLE-2", "Two")])
        assert products.get_product(app, "role-1")["name"] == "One"
        products.patch_product(app, "ROLE-1", {"price": "2.50"})
        WebhookStore(app).create(url="https://hooks.example/", events=["import.completed"], secret=None)
        products.delete_product(app, "ROLE-2")
        app.commit()

        # while DDL and the migrations table are refused to it
        for statement in (
            "CREATE TABLE sneaky (id int)",
            "DROP TABLE webhooks",
            "ALTER TABLE products ADD COLUMN sneaky int",
            "CREATE INDEX sneaky ON products (name)",
            "CREATE FUNCTION sneaky() RETURNS int LANGUAGE sql AS 'SELECT 1'",
            "INSERT INTO schema_migrations (version, name) VALUES (9999, 'sneaky')",
            "DELETE FROM schema_migrations",
            "TRUNCATE schema_migrations",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                app.execute(statement)
            app.rollback()
        # a temporary table (the chunk staging table) is not DDL on the schema
        app.execute("CREATE TEMP TABLE scratch (id int)")
        app.rollback()
        # and the undo data's day partitions come and go only through the owner's two functions
        partitions = "SELECT count(*) FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'undo'"
        assert (app.execute(partitions).fetchone() or (0,))[0] >= 1  # the chunk above made today's
        app.commit()
        dropped = purge_undo(app, datetime.now(UTC) + timedelta(days=3), retention_days=0)
        assert dropped >= 2 and (app.execute(partitions).fetchone() or (1,))[0] == 0


def test_ensure_roles_resets_passwords_to_the_secrets(cluster: Cluster) -> None:
    deploy(cluster)
    rotated = RoleCredentials(cluster.app.username, "rotated-pw")
    with psycopg.connect(cluster.url(cluster.master)) as conn:
        ensure_roles(conn, owner=cluster.owner, app=rotated)
    with psycopg.connect(cluster.admin) as su:
        flags = su.execute(
            "SELECT rolcanlogin, rolsuper, rolcreaterole, rolcreatedb, rolpassword IS NOT NULL FROM pg_authid"
            " WHERE rolname = %s", (cluster.app.username,)
        ).fetchone()
    assert flags == (True, False, False, False, True)


def test_a_rotated_clone_user_acts_as_its_role_so_the_schema_never_splits(
    cluster: Cluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Secrets Manager's multi-user rotation alternates each user with "<user>_clone". Found by a review:
    the roles took the secret's current user as canonical, so migrations run by owner_clone left tables the
    app (rotated back) could not use, and a later migration as the owner could not alter."""
    from product_importer.db.roles import act_as_canonical

    canonical_owner, canonical_app = cluster.owner, cluster.app
    with only_migrations(3, monkeypatch):
        deploy(cluster)  # before any rotation
    # the rotation switched both secrets to the clones
    cluster.owner = RoleCredentials(canonical_owner.username + "_clone", "owner-pw-2")
    cluster.app = RoleCredentials(canonical_app.username + "_clone", "app-pw-2")
    try:
        with psycopg.connect(cluster.url(cluster.master)) as conn:
            ensure_roles(conn, owner=cluster.owner, app=cluster.app)
        with psycopg.connect(cluster.url(cluster.owner.username)) as conn:
            act_as_canonical(conn, cluster.owner.username)
            migrate.apply_migrations(conn)  # the rest, as owner_clone
            grant_app_privileges(conn, owner=cluster.owner.username, app=cluster.app.username)
        # every object still belongs to the canonical owner
        with psycopg.connect(cluster.url(canonical_owner.username)) as owner:
            owners = owner.execute(
                "SELECT DISTINCT pg_get_userbyid(c.relowner) FROM pg_class c JOIN pg_namespace n"
                " ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind IN ('r','p','S')").fetchall()
            assert owners == [(canonical_owner.username,)]
            owner.execute("ALTER TABLE webhooks ADD COLUMN later_migration int")  # the owner can alter them
            owner.rollback()
        # and both app users do the daily work on tables the clone's migrations made
        for user in (cluster.app.username, canonical_app.username):
            with psycopg.connect(cluster.url(user)) as app:
                WebhookStore(app).create(url=f"https://{user}.example/", events=["import.completed"], secret=None)
                app.commit()
    finally:
        with psycopg.connect(cluster.admin, autocommit=True) as su:
            su.execute(f"DROP DATABASE IF EXISTS {cluster.database} WITH (FORCE)")
            for role in (cluster.app.username, cluster.owner.username):
                su.execute(f"DROP ROLE IF EXISTS {role}")
        cluster.owner, cluster.app = canonical_owner, canonical_app
