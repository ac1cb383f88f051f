"""Saved mappings in PostgreSQL (``mappings``, migration 0005).

A mapping applies by itself (CONTRACT §1): to an upload whose header set equals its ``headers`` (names
folded as the header reader folds them, any order, duplicates alike), or to a partner drop whose key
starts with its ``prefix`` (``incoming/<partner>/…``; the longest matching prefix wins). Hence at most
one mapping per header set and one per prefix: a second is a ``MappingConflictError`` (409).

The splitter reads ``all_mappings`` once per file and ``ingest.header.choose_saved_mapping`` picks the one
that applies (``find_mapping_for`` is the same choice for one connection); ``SavedMapping.candidate()`` is
the dict ``ingest`` takes as a saved mapping.
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg import errors, sql
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from product_importer.ingest.header import header_set
from product_importer.naming import DROP_PREFIX
from product_importer.progress import CursorError, cursor_text


class MappingNotFoundError(Exception):
    """No saved mapping has this id."""


class MappingConflictError(Exception):
    """Another saved mapping has this header set or prefix."""


@dataclass(frozen=True)
class SavedMapping:
    id: str
    name: str
    mapping: dict[str, str]
    profile: str | None
    headers: list[str] | None
    prefix: str | None
    replace: dict[str, Any] | None
    created_at: datetime
    updated_at: datetime

    def public(self) -> dict[str, Any]:
        """The API's shape (CONTRACT §3)."""
        return {"id": self.id, "name": self.name, "mapping": self.mapping, "profile": self.profile,
                "headers": self.headers, "prefix": self.prefix, "replace": self.replace,
                "created_at": _iso(self.created_at), "updated_at": _iso(self.updated_at)}

    def candidate(self) -> dict[str, Any]:
        """A saved-mapping candidate as ``ingest`` takes it: ``{"id", "mapping", "profile"?, "headers"?,
        "prefix"?, "replace"?}``."""
        found: dict[str, Any] = {"id": self.id, "name": self.name, "mapping": dict(self.mapping)}
        for key in ("profile", "headers", "prefix", "replace"):
            if getattr(self, key) is not None:
                found[key] = getattr(self, key)
        return found


@dataclass(frozen=True)
class MappingValues:
    """What a user saves (POST, or PUT's whole replacement)."""

    name: str
    mapping: dict[str, str]
    profile: str | None = None
    headers: list[str] | None = None
    prefix: str | None = None
    replace: dict[str, Any] | None = None


def header_key(names: Iterable[str]) -> str | None:
    """A fixed-size key of a header set (what the unique index holds); None for an empty set."""
    folded = sorted(header_set(names))
    if not folded:
        return None
    return hashlib.sha256(json.dumps(folded, ensure_ascii=False).encode("utf-8")).hexdigest()


_COLUMNS = sql.SQL("id, name, mapping, profile, headers, prefix, replace, created_at, updated_at")


def _row(row: dict[str, Any]) -> SavedMapping:
    return SavedMapping(**row)


def _iso(value: datetime) -> str:
    return value.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _params(values: MappingValues) -> dict[str, Any]:
    return {
        "name": values.name,
        "mapping": Jsonb(values.mapping),
        "profile": values.profile,
        "headers": Jsonb(values.headers) if values.headers is not None else None,
        "header_key": header_key(values.headers) if values.headers and values.prefix is None else None,
        "prefix": values.prefix,
        "replace": Jsonb(values.replace) if values.replace is not None else None,
    }


def create_mapping(conn: psycopg.Connection, values: MappingValues) -> SavedMapping:
    params = {**_params(values), "id": uuid.uuid4().hex}
    query = sql.SQL(
        "INSERT INTO mappings (id, name, mapping, profile, headers, header_key, prefix, replace)"
        " VALUES (%(id)s, %(name)s, %(mapping)s, %(profile)s, %(headers)s, %(header_key)s, %(prefix)s, %(replace)s)"
        " RETURNING {}").format(_COLUMNS)
    return _write(conn, query, params, values)


def update_mapping(conn: psycopg.Connection, mapping_id: str, values: MappingValues) -> SavedMapping:
    """Replace every field of the mapping (PUT)."""
    params = {**_params(values), "id": mapping_id}
    query = sql.SQL(
        "UPDATE mappings SET name = %(name)s, mapping = %(mapping)s, profile = %(profile)s, headers = %(headers)s,"
        " header_key = %(header_key)s, prefix = %(prefix)s, replace = %(replace)s, updated_at = now()"
        " WHERE id = %(id)s RETURNING {}").format(_COLUMNS)
    return _write(conn, query, params, values, mapping_id=mapping_id)


def _write(conn: psycopg.Connection, query: sql.Composed, params: dict[str, Any], values: MappingValues,
           mapping_id: str | None = None) -> SavedMapping:
    try:
        with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
            row = cur.execute(query, params).fetchone()
    except errors.UniqueViolation as exc:
        raise _conflict(conn, values, mapping_id) from exc
    if row is None:
        raise MappingNotFoundError(f"mapping {mapping_id[:100] if mapping_id else ''} not found")
    return _row(row)


def _conflict(conn: psycopg.Connection, values: MappingValues, mapping_id: str | None) -> MappingConflictError:
    """Which other mapping is in the way, named for the user."""
    key = header_key(values.headers) if values.headers and values.prefix is None else None
    other = conn.execute(
        "SELECT id, name, prefix = %s AS same_prefix FROM mappings"
        " WHERE (prefix = %s OR header_key = %s) AND id IS DISTINCT FROM %s LIMIT 1",
        (values.prefix, values.prefix, key, mapping_id),
    ).fetchone()
    if other is None:
        return MappingConflictError("another saved mapping has this header set or prefix")
    what = f"the prefix {values.prefix}" if other[2] else "this header set"
    return MappingConflictError(f"the saved mapping {other[1]!r} (id {other[0]}) already has {what}; "
                                "edit that one or delete it first")


def get_mapping(conn: psycopg.Connection, mapping_id: str) -> SavedMapping:
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(sql.SQL("SELECT {} FROM mappings WHERE id = %s").format(_COLUMNS), (mapping_id,)).fetchone()
    if row is None:
        raise MappingNotFoundError(f"mapping {mapping_id[:100]} not found")
    return _row(row)


def delete_mapping(conn: psycopg.Connection, mapping_id: str) -> None:
    with conn.transaction():
        deleted = conn.execute("DELETE FROM mappings WHERE id = %s RETURNING 1", (mapping_id,)).fetchone()
    if deleted is None:
        raise MappingNotFoundError(f"mapping {mapping_id[:100]} not found")


def list_mappings(conn: psycopg.Connection, *, cursor: str | None = None,
                  limit: int = 50) -> tuple[list[SavedMapping], str | None]:
    """Oldest first, paged."""
    after = _decode_cursor(cursor) if cursor else None
    where = sql.SQL("WHERE (created_at, id) > (%s::timestamptz, %s)") if after else sql.SQL("")
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(
            sql.SQL("SELECT {} FROM mappings {} ORDER BY created_at, id LIMIT %s").format(_COLUMNS, where),
            (*(after or ()), limit + 1),
        ).fetchall()
    page = [_row(r) for r in rows[:limit]]
    more = len(rows) > limit
    return page, _encode_cursor(page[-1]) if more else None


def all_mappings(conn: psycopg.Connection) -> list[SavedMapping]:
    """Every saved mapping (what ``suggest`` and the splitter choose from)."""
    with conn.cursor(row_factory=dict_row) as cur:
        return [_row(r) for r in cur.execute(
            sql.SQL("SELECT {} FROM mappings ORDER BY created_at, id").format(_COLUMNS)).fetchall()]


def find_mapping_for(conn: psycopg.Connection, *, headers: Sequence[str] | None = None,
                     key: str | None = None) -> SavedMapping | None:
    """The saved mapping that applies by itself to a drop's object ``key`` or an upload's ``headers``:
    the rule the splitter applies (``ingest.header.choose_saved_mapping``, CONTRACT §1 and §4) over every
    saved mapping. ``None`` when none applies."""
    from product_importer.ingest.header import choose_saved_mapping

    saved = {m.id: m for m in all_mappings(conn)}
    if key is not None and not key.startswith(DROP_PREFIX):
        return None
    chosen = choose_saved_mapping(tuple(headers or ()), [m.candidate() for m in saved.values()], key)
    return saved[str(chosen["id"])] if chosen is not None else None


def _encode_cursor(mapping: SavedMapping) -> str:
    return base64.urlsafe_b64encode(json.dumps([mapping.created_at.isoformat(), mapping.id]).encode()).decode()


def _decode_cursor(cursor: str) -> tuple[str, str]:
    try:
        created, mapping_id = json.loads(base64.urlsafe_b64decode(cursor.encode("ascii")))
        datetime.fromisoformat(created)
    except (ValueError, TypeError, UnicodeError) as exc:
        raise CursorError("invalid cursor") from exc
    if not isinstance(created, str):
        raise CursorError("invalid cursor")
    return created, cursor_text(mapping_id)
