"""Database roles in AWS: an owner that runs migrations, and an application role with DML only.

- ``owner`` (secret ``DB_OWNER_SECRET_ARN``): owns the schema and every table, sequence and function in
  it; the migrations trigger runs ``apply_migrations`` as this role, and nothing else uses it.
- ``app`` (secret ``DB_SECRET_ARN``): what every function uses. SELECT / INSERT / UPDATE / DELETE /
  TRUNCATE on the tables, the sequences, temporary tables (the chunk staging table) and EXECUTE; no CREATE,
  ALTER or DROP of anything in the schema, no writing to ``schema_migrations``.

``ensure_roles`` runs as the cluster's master user (whose secret only the migrations trigger may read),
before the migrations, on every deploy: it creates the roles (or resets their passwords to the secrets'
current values), hands objects the master created before this scheme existed over to the owner, and sets
the owner's default privileges so that every object a later migration creates is usable by the app at
once. Idempotent. Locally there is one role (the embedded server's superuser): local mode never calls it.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from psycopg import sql

TABLE_PRIVILEGES = "SELECT, INSERT, UPDATE, DELETE, TRUNCATE"
SEQUENCE_PRIVILEGES = "USAGE, SELECT, UPDATE"
SCHEMA = "public"
MIGRATIONS_TABLE = "schema_migrations"

_OBJECTS_OWNED_BY_CURRENT_USER = """
SELECT CASE c.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
                      ELSE 'TABLE' END, c.relname
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = %(schema)s AND c.relkind IN ('r', 'p', 'S', 'v', 'm')
  AND pg_get_userbyid(c.relowner) = current_user
  AND NOT (c.relkind = 'S' AND EXISTS (  -- a serial's sequence follows its table
      SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('a', 'i')))
UNION ALL
SELECT 'FUNCTION', p.oid::regprocedure::text
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname = %(schema)s AND pg_get_userbyid(p.proowner) = current_user AND p.prokind IN ('f', 'p')
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')  -- extensions keep theirs
"""


# Secrets Manager's multi-user rotation alternates a user with "<user>_clone": it creates the clone, grants
# it the roles the user is a member of, and switches the secret to it (and back at the next rotation).
CLONE_SUFFIX = "_clone"


def canonical_role(username: str) -> str:
    """The role that owns the schema (or holds the app's privileges) whichever of its two rotated users
    the secret names now: ``importer_owner_clone`` → ``importer_owner``."""
    return username.removesuffix(CLONE_SUFFIX) if username.endswith(CLONE_SUFFIX) else username


@dataclass(frozen=True)
class RoleCredentials:
    username: str
    password: str


def ensure_roles(conn: psycopg.Connection, *, owner: RoleCredentials, app: RoleCredentials) -> None:
    """Run as the master user (member of nothing special: ``CREATEROLE`` and owner of the database).

    Ownership and privileges always go to the canonical roles; a rotated ``…_clone`` user in a secret is
    made a member of its canonical role (it acts with its privileges, and as it, see
    ``act_as_canonical``), so the two users of a rotation never split the schema between them."""
    database = conn.info.dbname
    with conn.transaction():
        for role in (owner, app):
            _create_or_reset(conn, role)
            base = canonical_role(role.username)
            if base != role.username:
                if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (base,)).fetchone() is None:
                    conn.execute(sql.SQL("CREATE ROLE {} WITH LOGIN").format(sql.Identifier(base)))
                conn.execute(sql.SQL("GRANT {} TO {}").format(sql.Identifier(base), sql.Identifier(role.username)))
        o = sql.Identifier(canonical_role(owner.username))
        a = sql.Identifier(canonical_role(app.username))
        db, schema = sql.Identifier(database), sql.Identifier(SCHEMA)
        # The master may act as the owner (hand objects over, set its default privileges).
        conn.execute(sql.SQL("GRANT {} TO CURRENT_USER").format(o))
        conn.execute(sql.SQL("GRANT CONNECT, CREATE, TEMPORARY ON DATABASE {} TO {}").format(db, o))
        conn.execute(sql.SQL("GRANT CONNECT, TEMPORARY ON DATABASE {} TO {}").format(db, a))
        conn.execute(sql.SQL("ALTER SCHEMA {} OWNER TO {}").format(schema, o))
        conn.execute(sql.SQL("REVOKE CREATE ON SCHEMA {} FROM PUBLIC").format(schema))
        conn.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(schema, a))
        for kind, name in conn.execute(_OBJECTS_OWNED_BY_CURRENT_USER, {"schema": SCHEMA}).fetchall():
            target = sql.SQL(name) if kind == "FUNCTION" else sql.Identifier(SCHEMA, name)
            conn.execute(sql.SQL("ALTER {} {} OWNER TO {}").format(sql.SQL(kind), target, o))
        for grant in (
            f"GRANT {TABLE_PRIVILEGES} ON TABLES TO {{app}}",
            f"GRANT {SEQUENCE_PRIVILEGES} ON SEQUENCES TO {{app}}",
            "GRANT EXECUTE ON FUNCTIONS TO {app}",
        ):
            conn.execute(
                sql.SQL("ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA {schema} " + grant).format(
                    owner=o, schema=schema, app=a
                )
            )
    grant_app_privileges(conn, owner=owner.username, app=app.username)


def act_as_canonical(conn: psycopg.Connection, username: str) -> None:
    """For the session of a rotated ``…_clone`` user: act as its canonical role, so that what the session
    creates (the migrations' tables) belongs to that role and its default privileges apply."""
    base = canonical_role(username)
    if base != username:
        conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(base)))
        conn.commit()


def grant_app_privileges(conn: psycopg.Connection, *, owner: str, app: str) -> None:
    """The app's privileges on what exists now (default privileges cover what migrations add later).
    ``owner`` and ``app`` may name a rotated ``…_clone`` user: its canonical role is used."""
    a, schema = sql.Identifier(canonical_role(app)), sql.Identifier(SCHEMA)
    with conn.transaction():
        conn.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(canonical_role(owner))))
        conn.execute(sql.SQL(f"GRANT {TABLE_PRIVILEGES} ON ALL TABLES IN SCHEMA {{}} TO {{}}").format(schema, a))
        conn.execute(
            sql.SQL(f"GRANT {SEQUENCE_PRIVILEGES} ON ALL SEQUENCES IN SCHEMA {{}} TO {{}}").format(schema, a)
        )
        conn.execute(sql.SQL("GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA {} TO {}").format(schema, a))
        exists = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (f"{SCHEMA}.{MIGRATIONS_TABLE}",)).fetchone()
        if exists and exists[0]:
            conn.execute(
                sql.SQL("REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON {} FROM {}").format(
                    sql.Identifier(SCHEMA, MIGRATIONS_TABLE), a
                )
            )


def _create_or_reset(conn: psycopg.Connection, role: RoleCredentials) -> None:
    name, password = sql.Identifier(role.username), sql.Literal(role.password)
    found = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role.username,)).fetchone()
    verb = "ALTER" if found else "CREATE"
    conn.execute(
        sql.SQL(verb + " ROLE {} WITH LOGIN PASSWORD {}").format(
            name, password
        )
    )
