"""Revert an import (CONTRACT §2 "Revert"), chunked and exactly once; and the purge of undo data.

Every product the import touched goes back to the state it would have if the import — and every import
reverted before it — had never run, unless a later write that is not itself reverted (an import created
later, an edit or a delete) touched it since: then it is left alone and listed as a conflict.

How (docs/changes-and-undo.md): per field, the value is the newest write that set it. Reverting the set
R of imports (this one and those reverted before) replaces every field whose current version belongs to
R by the newest *known* write of that field by a writer outside R. The known writes of a product are the
undo snapshots of every import that touched it (the product just before that import's first touch), the
rows that lost fields to a newer version (``undo_lost``), the delete-all watermark, and "never set" at 0.
Two common cases are done in bulk SQL: a product the import created and nobody else touched becomes a
tombstone; a product whose every field the import holds, with no lost rows around, gets its snapshot
back. Everything else goes through ``restore_state`` in Python, a few products per chunk.
"""

from __future__ import annotations

import logging
import random
import time
from copy import deepcopy
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from product_importer.db.changes import decode_cursor, encode_cursor
from product_importer.db.connection import planner_off
from product_importer.db.fields import (
    DEFAULTS,
    FIELD_BITS,
    GROUP_VALUES,
    GROUPS,
    MISSING,
    OPTIONAL_FIELDS,
    STATE_COLUMNS,
    TOMBSTONE_KEEPS,
    ProductState,
    default_group_values,
    owner,
)
from product_importer.db.registry import forget_partitions, settle, undo_retention_days

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5


class _LostRowRace(Exception):
    """The revert chunk's first pass ran on a snapshot older than a lost row it must see (retried)."""


class RevertRefusedError(Exception):
    """The import cannot be reverted (the API answers 409)."""


class AlreadyRevertedError(RevertRefusedError):
    """The import was already reverted (or its revert is running)."""


class UndoExpiredError(RevertRefusedError):
    """The import's undo data is older than ``UNDO_RETENTION_DAYS``."""


class NotRevertableError(RevertRefusedError):
    """Unknown to the database, or a preview (nothing to revert)."""


@dataclass(frozen=True)
class RevertTotals:
    chunks_total: int
    chunks_done: int
    restored: int
    deleted: int
    conflicts: int
    done: bool  # every chunk committed: the import is now ``reverted``


@dataclass(frozen=True)
class RevertChunkResult:
    restored: int
    deleted: int
    conflicts: int
    replayed: bool  # the ledger already had this chunk: nothing was written
    totals: RevertTotals


# -- planning ---------------------------------------------------------------------------------------

# At most this many revert chunks per import: each is one message the API sends while the user waits
# (SendMessageBatch takes 10), and ``POST /revert`` answers within API Gateway's 30 s integration timeout.
MAX_REVERT_CHUNKS = 1000

# The plan: consecutive SKU ranges of ``size`` of the import's change records, found by stepping through
# the (import_no, sku_key) primary key ``size`` entries at a time. A window over every record (row_number,
# then GROUP BY) sorted and aggregated them all: 2.4-4.6 s for 2M records against 0.5-0.8 s here (the same
# plan, measured on the 2-core machine of docs/benchmarks.md).
_PLAN = """
INSERT INTO revert_plan (import_no, chunk_no, first_key, last_key)
WITH RECURSIVE r (chunk_no, first_key, last_key) AS (
    SELECT 0, f.k, (SELECT c.sku_key FROM changes c WHERE c.import_no = %(no)s AND c.sku_key >= f.k
                    ORDER BY c.sku_key OFFSET %(size)s - 1 LIMIT 1)
    FROM (SELECT min(sku_key) AS k FROM changes WHERE import_no = %(no)s) f WHERE f.k IS NOT NULL
    UNION ALL
    SELECT r.chunk_no + 1, n.k, (SELECT c.sku_key FROM changes c WHERE c.import_no = %(no)s AND c.sku_key >= n.k
                                 ORDER BY c.sku_key OFFSET %(size)s - 1 LIMIT 1)
    FROM r CROSS JOIN LATERAL (SELECT c.sku_key AS k FROM changes c WHERE c.import_no = %(no)s
                               AND c.sku_key > r.last_key ORDER BY c.sku_key LIMIT 1) n
    WHERE r.last_key IS NOT NULL
)
SELECT %(no)s, chunk_no, first_key,
       coalesce(last_key, (SELECT max(sku_key) FROM changes WHERE import_no = %(no)s)) FROM r
"""


def cut_ranges(conn: psycopg.Connection, import_no: int, size: int, *, explain: bool = False) -> list[str]:
    """Write the import's revert ranges (``_PLAN``), inside the caller's transaction; with ``explain``,
    return the plan PostgreSQL chooses for it instead (tests).

    Sorting is off for the statement (``SET LOCAL``: this transaction only): each step must walk the primary
    key. Without statistics on ``changes`` (a bulk import that autovacuum has not analysed yet) the planner
    sorted the import's remaining records at every step instead: 2.6 s for 500k records instead of 0.06 s,
    and quadratic, so a large import's ``POST /revert`` would pass API Gateway's 30 s (measured)."""
    params = {"no": import_no, "size": size}
    with planner_off(conn, "sort"):
        if explain:
            return [str(row[0]) for row in conn.execute("EXPLAIN " + _PLAN, params).fetchall()]
        conn.execute(_PLAN, params)
    return []


def plan_revert(conn: psycopg.Connection, import_id: str, *, chunk_products: int = 5000,
                max_chunks: int = MAX_REVERT_CHUNKS) -> int:
    """Start reverting ``import_id``: mark it ``reverting`` (its late chunks write nothing from now on),
    cut the products it touched into consecutive SKU ranges of ``chunk_products`` (more for an import
    of more than ``chunk_products × max_chunks`` products, so that there are at most ``max_chunks``) and
    return how many revert chunks there are (0 for an import that touched nothing: it is then ``reverted``
    at once). Raises ``AlreadyRevertedError``, ``UndoExpiredError`` or ``NotRevertableError`` (409). Commits."""
    settle(conn)
    with conn.transaction():
        # The totals-row lock first (as fail_import and every chunk): a chunk in flight commits before
        # the plan is cut (and is part of it) or sees "reverting" and writes nothing.
        conn.execute("INSERT INTO import_totals (import_id) VALUES (%s) ON CONFLICT DO NOTHING", (import_id,))
        conn.execute("SELECT 1 FROM import_totals WHERE import_id = %s FOR UPDATE", (import_id,))
        row = conn.execute(
            "SELECT import_no, mode, status, revert_state, undo_expired, created_at < now() - make_interval(days => %s)"
            " FROM import_registry WHERE import_id = %s FOR UPDATE",
            (undo_retention_days(), import_id),
        ).fetchone()
        if row is None:
            raise NotRevertableError(f"import {import_id} is unknown to the database")
        import_no, mode, _status, state, expired, too_old = row
        if mode != "import":
            raise NotRevertableError("a preview has nothing to revert")
        if state in ("running", "done"):
            raise AlreadyRevertedError("the import was already reverted")
        if expired or too_old:
            raise UndoExpiredError(f"the import is older than {undo_retention_days()} days: its undo data is gone")
        if state is None:  # a failed revert resumes its plan
            conn.execute("DELETE FROM revert_plan WHERE import_no = %s", (import_no,))
            touched = conn.execute(
                "SELECT products_created + products_updated + products_unchanged + products_deactivated"
                " FROM import_totals WHERE import_id = %s", (import_id,)
            ).fetchone()
            size = max(1, chunk_products, -(-int(touched[0] if touched else 0) // max(1, max_chunks)))
            cut_ranges(conn, import_no, size)
        total_row = conn.execute("SELECT count(*) FROM revert_plan WHERE import_no = %s", (import_no,)).fetchone()
        total = int(total_row[0]) if total_row else 0
        conn.execute(
            "UPDATE import_registry SET status_before_revert = coalesce(status_before_revert, status),"
            " status = CASE WHEN %(total)s = 0 THEN 'reverted' ELSE 'reverting' END,"
            " revert_state = CASE WHEN %(total)s = 0 THEN 'done' ELSE 'running' END,"
            " revert_requested_at = coalesce(revert_requested_at, now()),"
            " reverted_at = CASE WHEN %(total)s = 0 THEN now() END, revert_chunks_total = %(total)s"
            " WHERE import_id = %(id)s",
            {"total": total, "id": import_id},
        )
    return total


def fail_revert(conn: psycopg.Connection, import_id: str) -> None:
    """A revert that cannot finish (its chunks dead-lettered): ``revert_state = 'failed'``; planning it
    again resumes (committed chunks stay done). Commits."""
    settle(conn)
    with conn.transaction():
        conn.execute(
            "UPDATE import_registry SET revert_state = 'failed', status = coalesce(status_before_revert, status)"
            " WHERE import_id = %s AND revert_state = 'running'",
            (import_id,),
        )


def revert_totals(conn: psycopg.Connection, import_id: str) -> RevertTotals | None:
    """The revert's running totals (None if no revert was planned)."""
    row = conn.execute(
        "SELECT revert_chunks_total, revert_chunks_done, revert_restored, revert_deleted, revert_conflicts,"
        " revert_state = 'done' FROM import_registry WHERE import_id = %s AND revert_chunks_total IS NOT NULL",
        (import_id,),
    ).fetchone()
    return RevertTotals(*row) if row else None


# -- one chunk ----------------------------------------------------------------------------------------

def revert_chunk(conn: psycopg.Connection, *, import_id: str, chunk_no: int) -> RevertChunkResult:
    """Revert one planned chunk in one transaction (ledger: a redelivery changes nothing and returns the
    recorded counts). The last chunk to commit marks the import ``reverted``. Commits."""
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            return _revert_chunk(conn, import_id, chunk_no)
        except (psycopg.errors.DeadlockDetected, psycopg.errors.SerializationFailure, _LostRowRace) as exc:
            conn.rollback()
            if attempt == MAX_ATTEMPTS:
                raise
            delay = random.uniform(0.01, 0.05 * 2**attempt)
            logger.warning("revert %s/%s: %s, retry %d in %.2fs", import_id, chunk_no, type(exc).__name__,
                           attempt, delay)
            time.sleep(delay)
    raise AssertionError("unreachable")


_CREATE_ROWS = """
CREATE TEMP TABLE IF NOT EXISTS revert_rows (
    sku_key text COLLATE "C" PRIMARY KEY, action "char" NOT NULL, kind "char" NOT NULL, owner_no bigint,
    creator bigint,  -- the product's created_by_no when classified; -1: a tombstone or no row (_CREATORS)
    tid tid  -- the product row when classified (locked: _SNAPSHOTS reads it by ctid, no index probe)
) ON COMMIT DELETE ROWS
"""

# Every field of the product is the import's or was never set (an import that created it, and writers
# since that were all reverted, their fields given back to it).
_CREATED_ONLY = (" AND ".join(f"(coalesce(p.v_{g}, p.version) >> 32) IN (%(no)s, 0)" for g in (*GROUPS, "attributes"))
                 + " AND p.attr_versions IS NULL")

# The writers of the snapshot's versions: when none is another reverted import, the snapshot is what the
# general case would pick for every field the import holds.
_SNAPSHOT_OWNERS = ", ".join(f"coalesce(u.v_{g}, u.version) >> 32" for g in (*GROUPS, "attributes"))

# kind: k conflict, t tombstone (created, untouched since), s snapshot back, g general (Python);
# T: made a tombstone by _TOMBSTONES_FIRST
# A conflict (CONTRACT §2: "changed since by a later import or by hand") is a product that a writer newer
# than the import, not itself reverted, changed: its change record says so. A later import that left the
# product unchanged (a daily feed re-sending the same rows) holds versions but changed nothing: the product
# goes to the general case, which gives back the fields the import still holds and keeps that writer's.
# A newest writer without a change record is taken as a change (a conflict), as before.
# (scalar subqueries: run only for the rows a newer writer holds, not for every row of an import's revert)
# A deactivation (a replace's, 'd') is written when the replace is carried out, which for a replace held over
# its cap is after the user confirms it: a newer write made before that (an edit while the replace waited)
# was there when the deactivation was decided, and changed nothing since; the general case keeps its fields
# and gives the deactivated one back (found by a newcomer: an edit of the name before the confirm kept the
# product deactivated after the revert, "changed by an edit" made before the deactivation).
# Where this import's row lost fields to a newer write (``undo_lost``: that write's chunk ran before one of
# this import's), the newer write's record was computed against a catalog without this import's row: its
# 'c' or 'u' says what it changed there, not what it changed after this import, as in creation order. It
# changed the product after this import when a field the row sets now holds another value than the row's,
# or it changed a field the row does not set (an attribute key the row lacks included; its 'u' lists one,
# its 'c' set one away from the default). Else it left the product as this import had it: no conflict, and
# the general case gives back what the import alone set (found by a tester: the same two files, the newer
# one processed first, made a conflict of a product the newer file had left as the older one set it, and the
# older one's quantity and brand stayed). Without a lost row (every newer write came after) or on a
# tombstone: the records are those of creation order, the rule as before. Still order-dependent, rarely: a
# field the row does not set that an older import processed later had set (docs/changes-and-undo.md).
_SQL_DEFAULTS = {"description": "NULL::text", "price": "NULL::numeric", "currency": "'USD'", "quantity": "0",
                 "active": "true", "brand": "NULL::text", "category": "NULL::text", "barcode": "NULL::text"}
assert set(_SQL_DEFAULTS) == set(DEFAULTS)


def _changed_after_this_import() -> str:
    """SQL over ``w`` (a newer change record), ``c`` (this import's) and ``p`` (the product): whether ``w``
    changed the product after this import in creation order (above)."""
    bit = FIELD_BITS
    row_differs = ["p.sku IS DISTINCT FROM l.sku", "p.name IS DISTINCT FROM l.name"]
    row_differs += [f"((l.present & {bit[f]}) <> 0 AND p.{f} IS DISTINCT FROM l.{f})" for f in OPTIONAL_FIELDS]
    row_differs.append(f"((l.present & {bit['attributes']}) <> 0"
                       " AND NOT p.attributes @> coalesce(l.attributes, '{}'::jsonb))")
    key_bit = ("CASE k " + " ".join(f"WHEN '{f}' THEN {bit[f]}" for f in OPTIONAL_FIELDS)
               + f" ELSE {bit['name']} END")
    # attribute keys merge one by one: a key the row does not have is a field it does not set
    row_keys = f"CASE WHEN (l.present & {bit['attributes']}) <> 0 THEN coalesce(l.attributes, '{{}}'::jsonb) ELSE '{{}}'::jsonb END"
    updated_other = (f"(w.action = 'u' AND (EXISTS (SELECT 1 FROM jsonb_object_keys(w.changes) k"
                     f" WHERE k <> 'attributes' AND (l.present & {key_bit}) = 0)"
                     f" OR EXISTS (SELECT 1 FROM jsonb_object_keys(coalesce(w.changes -> 'attributes', '{{}}'::jsonb)) a"
                     f" WHERE NOT ({row_keys}) ? a)))")
    created_other = [f"((l.present & {bit[f]}) = 0 AND p.{f} IS DISTINCT FROM {_SQL_DEFAULTS[f]}"
                     f" AND (coalesce(p.v_{f}, p.version) >> 32) = w.import_no)" for f in OPTIONAL_FIELDS]
    created_other.append(f"EXISTS (SELECT 1 FROM jsonb_object_keys(p.attributes) a WHERE NOT ({row_keys}) ? a)")
    changed = f"{' OR '.join(row_differs)} OR {updated_other} OR (w.action = 'c' AND ({' OR '.join(created_other)}))"
    return (f"(w.action NOT IN ('c', 'u') OR p.deleted OR NOT EXISTS (SELECT 1 FROM undo_lost l"
            f" WHERE l.sku_key = c.sku_key AND l.import_no = %(no)s AND l.day = %(day)s AND NOT ({changed})))")


_CHANGER = f"""(SELECT max(w.import_no) FROM changes w
    WHERE w.sku_key = c.sku_key AND w.import_no > %(no)s AND w.action <> 'n' AND NOT w.import_no = ANY(%(reverted)s)
        AND (c.action <> 'd' OR w.at > c.at)
        AND {_changed_after_this_import()}
        AND NOT EXISTS (SELECT 1 FROM import_registry ir WHERE ir.import_no = w.import_no AND ir.mode = 'preview'))"""
# Another write of the product processed out of creation order with this import's (a newer one recorded
# before it, an older one after): this import's record was computed against another catalog than in creation
# order, so its 'n' (unchanged) may not be one there.
# (its snapshot holds a newer write; an older import's snapshot holds a write of this one or newer, or an older
# import's row lost to a newer version)
_OUT_OF_ORDER = """((u.version >> 32) > %(no)s
    OR EXISTS (SELECT 1 FROM undo z WHERE z.sku_key = c.sku_key AND z.import_no < %(no)s AND (z.version >> 32) >= %(no)s)
    OR EXISTS (SELECT 1 FROM undo_lost z WHERE z.sku_key = c.sku_key AND z.import_no < %(no)s))"""
_NEWEST_RECORDED = "EXISTS (SELECT 1 FROM changes w WHERE w.import_no = p.version >> 32 AND w.sku_key = c.sku_key)"

# A product the import left unchanged (its record 'n': every value it set was already there) is no conflict:
# without the import every value is what it is now, whatever changed it since, so the general case gives back
# only the versions (found by a tester: an edit after an unchanged row made a conflict "changed by an edit" of
# a product the import had not changed). Unless the record may not be the creation-order one (_OUT_OF_ORDER).
_CLASSIFY = f"""
INSERT INTO revert_rows (sku_key, action, kind, owner_no, creator, tid)
SELECT c.sku_key, c.action,
    CASE
        WHEN p.sku_key IS NULL THEN 'k'
        WHEN (p.version >> 32) > %(no)s AND NOT (p.version >> 32) = ANY(%(reverted)s)
            AND (c.action <> 'n' OR {_OUT_OF_ORDER}) AND ({_CHANGER} IS NOT NULL OR NOT {_NEWEST_RECORDED}) THEN 'k'
        WHEN l.sku_key IS NOT NULL OR (p.version >> 32) <> %(no)s THEN 'g'
        WHEN u.sku_key IS NULL AND c.action = 'c' AND {_CREATED_ONLY} THEN 't'
        WHEN u.sku_key IS NOT NULL AND p.attr_versions IS NULL AND (%(alone)s OR (u.attr_versions IS NULL
            AND NOT ARRAY[{_SNAPSHOT_OWNERS}] && %(others)s::bigint[])) THEN 's'
        ELSE 'g'
    END,
    CASE WHEN p.sku_key IS NULL THEN NULL WHEN (p.version >> 32) > %(no)s
        THEN coalesce({_CHANGER}, p.version >> 32) ELSE p.version >> 32 END,  -- who changed it
    CASE WHEN p.sku_key IS NULL OR p.deleted THEN -1 ELSE p.created_by_no END, p.ctid
FROM (SELECT * FROM changes c WHERE c.import_no = %(no)s AND c.sku_key BETWEEN %(first)s AND %(last)s
      AND NOT EXISTS (SELECT 1 FROM revert_rows r WHERE r.sku_key = c.sku_key)  -- not the ones done first
      {{keys}}
      OFFSET 0) c  -- (filtered before the joins)
LEFT JOIN products p ON p.sku_key = c.sku_key
LEFT JOIN undo u ON u.sku_key = c.sku_key AND u.import_no = %(no)s AND u.day = %(day)s
LEFT JOIN (SELECT DISTINCT sku_key FROM undo_lost WHERE sku_key BETWEEN %(first)s AND %(last)s) l
    ON l.sku_key = c.sku_key
"""

# every product of the range but those with standing conflicts (_STANDING); then only those, a set at a time
_CLASSIFY_ALL = _CLASSIFY.replace("{keys}", "AND NOT c.sku_key = ANY(%(special)s::text[])")
_CLASSIFY_ONLY = _CLASSIFY.replace("{keys}", "AND c.sku_key = ANY(%(special)s::text[])")

# The range's products that other reverted imports left alone as conflicts, with those imports: for such a
# product that import's writes stand (its revert did not undo them, and the user was told so), so this
# revert undoes this import and the other reverted imports only. A conflict no longer stands once what
# made it one is undone: its changer is this import, or was reverted since without leaving the product
# alone (then the state is as if neither ran, as the product's history shows it).
_STANDING = """
SELECT x.sku_key, array_agg(x.import_no) FROM revert_conflicts x
WHERE x.import_no = ANY(%(others)s) AND x.sku_key BETWEEN %(first)s AND %(last)s
  AND x.changed_by_no IS DISTINCT FROM %(no)s
  AND NOT coalesce((SELECT w.revert_state = 'done' FROM import_registry w WHERE w.import_no = x.changed_by_no)
                   AND NOT EXISTS (SELECT 1 FROM revert_conflicts y WHERE y.import_no = x.changed_by_no
                                   AND y.sku_key = x.sku_key), false)
GROUP BY x.sku_key
"""

_CONFLICTS = """
INSERT INTO revert_conflicts (import_no, sku_key, changed_by_no, at)
SELECT %(no)s, r.sku_key, coalesce(r.owner_no, (SELECT version >> 32 FROM catalog_watermark)),
       coalesce(ch.at, (SELECT at FROM catalog_watermark))
FROM revert_rows r
LEFT JOIN changes ch ON ch.import_no = r.owner_no AND ch.sku_key = r.sku_key
WHERE r.kind = 'k'
ON CONFLICT (import_no, sku_key) DO NOTHING
"""

# (brand and category stay: TOMBSTONE_KEEPS, readers take them as absent; the update stays HOT)
_DEFAULT_SETS = "description = NULL, price = NULL, currency = 'USD', quantity = 0, active = true, barcode = NULL"
assert set(TOMBSTONE_KEEPS) | {"description", "price", "currency", "quantity", "active", "barcode"} == set(DEFAULTS)
assert set(DEFAULTS) == set(OPTIONAL_FIELDS)  # (with TOMBSTONE_KEEPS)
_TOMBSTONE_SETS = f"""deleted = true, {_DEFAULT_SETS}, attributes = '{{}}'::jsonb, attr_versions = NULL,
        {", ".join(f"v_{g} = NULL" for g in GROUPS)}, v_attributes = NULL,
        version = %(floor)s, attr_floor = %(floor)s, last_import_id = NULL, created_by_no = NULL, updated_at = now()"""

_TOMBSTONES = f"""
WITH t AS (
    UPDATE products p SET {_TOMBSTONE_SETS}
    FROM revert_rows r WHERE r.kind = 't' AND p.sku_key = r.sku_key
    RETURNING p.sku_key
), s AS (DELETE FROM product_search s USING t WHERE s.sku_key = t.sku_key)
SELECT count(*) FROM t
"""

# The common case of an insert import's revert, first and in one pass: the products of the range it
# created that are still only its own ('t' in _CLASSIFY) become tombstones, locked by the update itself
# (a product changed meanwhile is re-checked at its newest version). When the range has other products,
# these are noted as kind 'T' (done), and the lock and classification that follow skip them.
_TOMBSTONES_FIRST = f"""
WITH t AS (
    UPDATE products p SET {_TOMBSTONE_SETS}
    FROM changes c
    WHERE c.import_no = %(no)s AND c.sku_key BETWEEN %(first)s AND %(last)s AND c.action = 'c'
        AND p.sku_key = c.sku_key AND (p.version >> 32) = %(no)s AND {_CREATED_ONLY}
        -- no snapshot: the import created it from nothing. attr_floor = 0 says as much without the lookup:
        -- the only tombstone with attr_floor 0 is a revert's at watermark 0, every version 0 (= absent)
        AND (p.attr_floor = 0
             OR NOT EXISTS (SELECT 1 FROM undo u WHERE u.sku_key = c.sku_key AND u.import_no = %(no)s AND u.day = %(day)s))
        AND NOT EXISTS (SELECT 1 FROM undo_lost l WHERE l.sku_key = c.sku_key)
    RETURNING p.sku_key
), s AS (DELETE FROM product_search s USING t WHERE s.sku_key = t.sku_key)
SELECT count(*), coalesce(array_agg(sku_key), '{{}}') FROM t
"""

def _snapshot_statement() -> str:
    """Products whose every field is held by the import or by a writer it did not supersede (no lost
    rows around, no other revert involved, attribute keys all at one version): each field group the
    import holds gets the snapshot's value and version back, the others keep theirs (made explicit)."""
    def mine(column: str, version: str = "x.p_version") -> str:
        return f"((coalesce(x.p_{column}, {version}) >> 32) = %(no)s)"

    news: list[str] = []
    versions: list[str] = []
    for g in GROUPS:
        owned = mine(f"v_{g}")
        for column in GROUP_VALUES[g]:
            news.append(f"CASE WHEN {owned} THEN x.u_{column} ELSE x.p_{column} END AS {column}")
        version = (f"CASE WHEN {owned} THEN coalesce(x.u_v_{g}, x.u_version)"
                   f" ELSE coalesce(x.p_v_{g}, x.p_version) END")
        news.append(f"{version} AS v_{g}")
        versions.append(version)
    owned = mine("v_attributes")
    news += [
        f"CASE WHEN {owned} THEN x.u_attributes ELSE x.p_attributes END AS attributes",
        f"CASE WHEN {owned} THEN x.u_attr_versions END AS attr_versions",
        f"CASE WHEN {owned} THEN coalesce(x.u_v_attributes, x.u_version)"
        " ELSE coalesce(x.p_v_attributes, x.p_version) END AS v_attributes",
        f"CASE WHEN {owned} THEN x.u_attr_floor ELSE x.p_attr_floor END AS attr_floor",
    ]
    attr_version = (
        f"CASE WHEN {owned} THEN greatest(x.u_attr_floor,"
        " CASE WHEN x.u_attributes = '{}'::jsonb THEN 0 ELSE coalesce(x.u_v_attributes, x.u_version) END,"
        " (SELECT max(e.value::bigint) FROM jsonb_each_text(x.u_attr_versions) e))"
        " ELSE greatest(x.p_attr_floor,"
        " CASE WHEN x.p_attributes = '{}'::jsonb THEN 0 ELSE coalesce(x.p_v_attributes, x.p_version) END) END"
    )
    news.append(f"greatest({', '.join(versions)}, {attr_version}) AS version")
    cols = [*(c for g in GROUPS for c in GROUP_VALUES[g]), "attributes", "version", "attr_floor", "attributes"]
    picks = ", ".join(f"p.{c} AS p_{c}, u.{c} AS u_{c}" for c in dict.fromkeys(
        [*cols, *(f"v_{g}" for g in GROUPS), "v_attributes", "attr_versions"]))
    sets = [f"{c} = n.{c}" for c in (*(c for g in GROUPS for c in GROUP_VALUES[g]), *(f"v_{g}" for g in GROUPS),
                                      "attributes", "attr_versions", "v_attributes", "attr_floor", "version")]
    return f"""
WITH x AS MATERIALIZED (
    SELECT p.sku_key, p.ctid AS tid, r.action, u.last_import_id AS u_last_import_id,
           u.created_by_no AS u_created_by_no, u.updated_at AS u_updated_at, {picks}
    FROM revert_rows r JOIN products p ON p.ctid = r.tid
    JOIN undo u ON u.sku_key = r.sku_key AND u.import_no = %(no)s AND u.day = %(day)s
    WHERE r.kind = 's'
), n AS (
    SELECT x.sku_key, x.tid, x.action, x.u_version, x.u_last_import_id, x.u_created_by_no, x.u_updated_at,
           x.p_deleted,
           {", ".join(news)}
    FROM x
), s AS (
    UPDATE products p SET {", ".join(sets)},
        last_import_id = CASE WHEN n.version = n.u_version THEN n.u_last_import_id
            ELSE (SELECT r.import_id FROM import_registry r WHERE r.import_no = n.version >> 32) END,
        created_by_no = CASE WHEN n.deleted THEN NULL WHEN n.p_deleted THEN n.u_created_by_no ELSE p.created_by_no END,
        updated_at = CASE WHEN n.action IN ('u', 'd', 'c') THEN now() ELSE p.updated_at END
    FROM n WHERE p.ctid = n.tid  -- the row x read, locked by the range's lock (no index probe)
    RETURNING p.sku_key, p.deleted, n.action
)
SELECT count(*) FILTER (WHERE NOT deleted AND action IN ('u', 'd')), count(*) FILTER (WHERE deleted),
       coalesce(array_agg(sku_key) FILTER (WHERE deleted), '{{}}'),
       count(*) = (SELECT count(*) FROM revert_rows WHERE kind = 's')
FROM s
"""


_SNAPSHOTS = _snapshot_statement()

# The range's products still live after the revert whose ``created_by_no`` (replace scope ``partner``) is a
# reverted import get the creator of the replay without the reverted imports: the oldest write since the
# product's last delete (or the catalog's delete-all) that is an import not reverted, or NULL when an
# edit (a PUT) came first. Conflicts (kind 'k') stay as they are; a range whose products were all the
# import's own (the early return of ``_revert_range``) has none left live. Found by a property test of partners' replaces: a
# product created by a reverted import of partner a and kept by partner b's later import stayed a's, and
# a's next replace deactivated it.
# Driven by the range's rows that can hold such a creator: one whose product had it when classified
# (``revert_rows.creator``), or whose created_by_no this revert may have written (a tombstone or no row
# before, the general case); then a primary-key probe each. Joined to ``products`` by the planner, it read
# the whole catalog at every chunk (there is no index on created_by_no; 33-71 ms a chunk at 100k products,
# measured, and linear in the catalog's size); probing every row of the range still cost ~7% of the
# revert of an update import, whose products' creator is almost never a reverted import.
_CREATORS = """
UPDATE products p SET created_by_no = (
    SELECT r.import_no FROM changes w LEFT JOIN import_registry r ON r.import_no = w.import_no
    WHERE w.sku_key = p.sku_key
      AND w.import_no > greatest((SELECT version >> 32 FROM catalog_watermark),
                                 (SELECT max(d.import_no) FROM changes d WHERE d.sku_key = p.sku_key AND d.action = 'x'
))
      AND (CASE WHEN r.import_no IS NULL THEN w.action = 'c'
                ELSE r.mode = 'import' AND r.revert_state IS DISTINCT FROM 'running'
                     AND r.revert_state IS DISTINCT FROM 'done' END)
    ORDER BY w.import_no LIMIT 1)
WHERE p.sku_key = ANY(ARRAY(
    SELECT c.sku_key FROM revert_rows c
    WHERE c.kind <> 'k' AND (c.creator = ANY(%(reverted)s) OR c.creator = -1 OR c.kind = 'g')))
  AND NOT p.deleted AND p.created_by_no = ANY(%(reverted)s)
  AND NOT EXISTS (SELECT 1 FROM unnest(%(kept_keys)s::text[], %(kept_nos)s::bigint[]) k (sku_key, import_no)
                  WHERE k.sku_key = p.sku_key AND k.import_no = p.created_by_no)  -- its writes stand (_STANDING)
"""


def _revert_chunk(conn: psycopg.Connection, import_id: str, chunk_no: int) -> RevertChunkResult:
    settle(conn)
    with conn.transaction():
        reg = conn.execute(
            "SELECT import_no, undo_day, revert_state FROM import_registry WHERE import_id = %s", (import_id,)
        ).fetchone()
        if reg is None or reg[2] is None:
            raise NotRevertableError(f"no revert of import {import_id} was planned")
        import_no, day, _state = reg
        claimed = conn.execute(
            "INSERT INTO revert_ledger (import_no, chunk_no) VALUES (%s, %s) ON CONFLICT DO NOTHING RETURNING 1",
            (import_no, chunk_no),
        ).fetchone()
        if claimed is None:
            recorded = conn.execute(
                "SELECT restored, deleted, conflicts FROM revert_ledger WHERE import_no = %s AND chunk_no = %s",
                (import_no, chunk_no),
            ).fetchone()
            assert recorded is not None
            totals = revert_totals(conn, import_id)
            assert totals is not None
            return RevertChunkResult(int(recorded[0]), int(recorded[1]), int(recorded[2]), replayed=True,
                                     totals=totals)
        plan = conn.execute(
            "SELECT first_key, last_key FROM revert_plan WHERE import_no = %s AND chunk_no = %s", (import_no, chunk_no)
        ).fetchone()
        restored = deleted = conflicts = 0
        if plan is not None:
            restored, deleted, conflicts = _revert_range(conn, import_no, day, plan[0], plan[1])
        conn.execute(
            "UPDATE revert_ledger SET restored = %s, deleted = %s, conflicts = %s WHERE import_no = %s AND chunk_no = %s",
            (restored, deleted, conflicts, import_no, chunk_no),
        )
        row = conn.execute(
            "UPDATE import_registry SET revert_chunks_done = revert_chunks_done + 1,"
            " revert_restored = revert_restored + %s, revert_deleted = revert_deleted + %s,"
            " revert_conflicts = revert_conflicts + %s WHERE import_id = %s"
            " RETURNING revert_chunks_total, revert_chunks_done",
            (restored, deleted, conflicts, import_id),
        ).fetchone()
        assert row is not None
        if row[1] >= row[0]:
            conn.execute(
                "UPDATE import_registry SET status = 'reverted', revert_state = 'done', reverted_at = now()"
                " WHERE import_id = %s",
                (import_id,),
            )
        totals = revert_totals(conn, import_id)
        assert totals is not None
    return RevertChunkResult(restored, deleted, conflicts, replayed=False, totals=totals)


def _revert_range(conn: psycopg.Connection, import_no: int, day: date, first: str, last: str) -> tuple[int, int, int]:
    reverted = [int(r[0]) for r in conn.execute(
        "SELECT import_no FROM import_registry WHERE revert_state IN ('running', 'done')"
    )]
    if import_no not in reverted:
        reverted.append(import_no)
    wm = conn.execute("SELECT version FROM catalog_watermark").fetchone()
    floor = int(wm[0]) if wm else 0
    conn.execute(_CREATE_ROWS)
    conn.execute("DELETE FROM revert_rows")  # empty unless the caller runs chunks inside one transaction
    params = {"no": import_no, "day": day, "first": first, "last": last, "reverted": reverted,
              "alone": len(reverted) == 1, "others": [n for n in reverted if n != import_no], "floor": floor}
    first_pass = conn.execute(_TOMBSTONES_FIRST, params).fetchone()
    assert first_pass is not None
    deleted, done = int(first_pass[0]), list(first_pass[1])
    # The first pass decided "no lost rows" on its snapshot; a chunk of an older import whose row lost to this
    # import can commit its lost row while the pass waits for the product (the chunk locks it too), and the
    # pass then made a tombstone of what that row should give back. Now that the pass holds the locks, a new
    # statement sees every such row: if there is one, the chunk starts again (found by a property test with
    # a revert and late chunks on two connections at once).
    if done and conn.execute("SELECT 1 FROM undo_lost WHERE sku_key BETWEEN %s AND %s AND sku_key = ANY(%s) LIMIT 1",
                             (first, last, done)).fetchone():
        raise _LostRowRace(f"a lost row of {first}..{last} committed during the revert's first pass")
    size = conn.execute("SELECT count(*) FROM changes WHERE import_no = %(no)s AND sku_key BETWEEN %(first)s"
                        " AND %(last)s", params).fetchone()
    if size is not None and deleted >= int(size[0]):
        return 0, deleted, 0  # every product of the range was the import's alone (an insert import's revert)
    if done:
        conn.execute("INSERT INTO revert_rows (sku_key, action, kind, owner_no)"
                     " SELECT unnest(%s::text[]), 'c', 'T', %s", (done, import_no))
    # Lock the other products of this range that the import touched, in SKU order (as chunks do).
    conn.execute(
        "SELECT 1 FROM products p WHERE p.sku_key IN (SELECT c.sku_key FROM changes c WHERE c.import_no = %(no)s"
        " AND c.sku_key BETWEEN %(first)s AND %(last)s"
        " AND NOT EXISTS (SELECT 1 FROM revert_rows r WHERE r.sku_key = c.sku_key)) ORDER BY p.sku_key FOR UPDATE",
        params,
    )
    kept: dict[str, set[int]] = {}
    if params["others"]:
        kept = {key: {int(n) for n in nos} for key, nos in conn.execute(_STANDING, params)}
    special = sorted(kept)
    conn.execute(_CLASSIFY_ALL, {**params, "special": special})
    if special:
        # each with the imports reverted for it (grouped by that set); the bulk passes below assume the whole
        # set, so what they would take goes to the general case instead
        groups: dict[frozenset[int], list[str]] = {}
        for key in special:
            groups.setdefault(frozenset(n for n in reverted if n not in kept[key]), []).append(key)
        for own, keys in groups.items():
            conn.execute(_CLASSIFY_ONLY, {**params, "special": keys, "reverted": sorted(own),
                                          "alone": len(own) == 1, "others": sorted(own - {import_no})})
        conn.execute("UPDATE revert_rows SET kind = 'g' WHERE sku_key = ANY(%s) AND kind IN ('s', 't')", (special,))
    conflicts = conn.execute(_CONFLICTS, params).rowcount
    tomb = conn.execute(_TOMBSTONES, params).fetchone()
    deleted += int(tomb[0]) if tomb else 0
    snap = conn.execute(_SNAPSHOTS, params).fetchone()
    assert snap is not None
    restored, snap_deleted, gone, every_row = int(snap[0]), int(snap[1]), list(snap[2]), bool(snap[3])
    if not every_row:  # a row read by ctid was not the classified one: never with the range locked
        raise AssertionError(f"revert of {import_no}, {first}..{last}: a classified product row moved")
    deleted += snap_deleted
    general: dict[str, str] = dict(conn.execute(
        "SELECT sku_key, action FROM revert_rows WHERE kind = 'g' ORDER BY sku_key").fetchall())
    if general:
        g_restored, g_deleted, g_gone = _revert_general(conn, general, set(reverted), floor,
                                                        {key: set(reverted) - nos for key, nos in kept.items()})
        restored += g_restored
        deleted += g_deleted
        gone += g_gone
    if gone:  # deleted products leave word search at once; restored ones are refreshed when the revert is
        # done (products.search.refresh_for_import), off the chunk transactions, like an import's rows
        conn.execute("DELETE FROM product_search WHERE sku_key = ANY(%s)", (gone,))
    kept_pairs = [(key, n) for key, nos in kept.items() for n in nos]
    conn.execute(_CREATORS, {"reverted": reverted, "kept_keys": [k for k, _ in kept_pairs],
                             "kept_nos": [n for _, n in kept_pairs]})
    return restored, deleted, conflicts


# -- the general case, product by product ---------------------------------------------------------------

@dataclass
class LostRow:
    """A row that lost fields to a newer version: a known write of its fields at its version."""

    version: int
    present: int
    values: dict[str, Any]
    attributes: dict[str, Any] | None

    def groups(self) -> list[str]:
        return [g for g in GROUPS if self.present & FIELD_BITS[g]]


def restore_state(state: ProductState, snapshots: list[ProductState], lost: list[LostRow], reverted: set[int],
                  floor: int) -> ProductState:
    """The product with every field whose current writer is in ``reverted`` set to the newest known write
    of that field by a writer outside it (``floor``: the delete-all watermark, a write of every default)."""
    new = deepcopy(state)
    for group in GROUPS:
        if owner(state.versions[group]) not in reverted:
            continue
        best_version, best = floor, default_group_values(group)
        for snap in snapshots:
            version = snap.versions[group]
            if version > best_version and owner(version) not in reverted:
                best_version, best = version, {n: snap.values[n] for n in GROUP_VALUES[group]}
        for row in lost:
            if row.present & FIELD_BITS[group] and row.version > best_version and owner(row.version) not in reverted:
                values = {"sku": row.values["sku"], "name": row.values["name"], "deleted": False} if group == "name" \
                    else {group: row.values[group]}
                best_version, best = row.version, values
        new.values.update(best)
        new.versions[group] = best_version
    keys = set(state.attrs)
    for snap in snapshots:
        keys.update(snap.attrs)
    for row in lost:
        keys.update(row.attributes or ())
    for key in keys:
        if owner(state.key_version(key)) not in reverted:
            continue
        # The known writes of the key as (version, listed, value). A reset (a PUT, a delete) speaks for a key
        # it does not list only as "absent" and shares its version with the keys a PUT set: at one version,
        # a write that lists the key wins. (By version alone, the product's own attr_floor, which no longer
        # lists a key a reverted import overwrote, hid the PUT's value of it in the import's snapshot.)
        known: list[tuple[int, bool, Any]] = [(floor, False, MISSING)]
        if owner(state.attr_floor) not in reverted:
            known.append((state.attr_floor, False, MISSING))
        for snap in snapshots:
            value, version, listed = snap.key_write(key)
            if owner(version) not in reverted:
                known.append((version, listed, value))
        for row in lost:
            if row.attributes is not None and key in row.attributes and owner(row.version) not in reverted:
                known.append((row.version, True, row.attributes[key]))
        best_v, _listed, best_value = max(known, key=lambda write: (write[0], write[1]))
        if best_value is MISSING and best_v == new.attr_floor:
            new.attrs.pop(key, None)  # absent as of the reset: no entry of its own (the compact encoding)
        else:
            new.attrs[key] = (best_value, best_v)
    return new


_GENERAL_COLUMNS = [*STATE_COLUMNS, "last_import_id", "created_by_no"]


def _revert_general(conn: psycopg.Connection, actions: dict[str, str], reverted: set[int],
                    floor: int, own: dict[str, set[int]] | None = None) -> tuple[int, int, list[str]]:
    """Restore these products (SKU key → the import's action on it) from their known writes (``reverted``:
    the imports undone; ``own``: a product's own set where it differs, ``_STANDING``); returns
    (restored, deleted, keys that became tombstones). ``deleted`` counts the products the import created
    (CONTRACT §2); one it updated that goes back to absent (its creator was reverted before) is restored."""
    keys = list(actions)
    with conn.cursor(row_factory=dict_row) as cur:
        current = {r["sku_key"]: r for r in cur.execute(
            sql.SQL("SELECT sku_key, {} FROM products WHERE sku_key = ANY(%s)").format(
                sql.SQL(", ").join(map(sql.Identifier, _GENERAL_COLUMNS))), (keys,))}
        snapshots: dict[str, list[ProductState]] = {}
        for r in cur.execute(
            sql.SQL("SELECT sku_key, {} FROM undo WHERE sku_key = ANY(%s)").format(
                sql.SQL(", ").join(map(sql.Identifier, STATE_COLUMNS))), (keys,)):
            snapshots.setdefault(r["sku_key"], []).append(ProductState.from_row(r))
        lost: dict[str, list[LostRow]] = {}
        for r in cur.execute(
            "SELECT sku_key, version, present, sku, name, description, price, currency, quantity, active, brand,"
            " category, barcode, attributes FROM undo_lost WHERE sku_key = ANY(%s)", (keys,)):
            values = {n: r[n] for n in ("sku", "name", *OPTIONAL_FIELDS)}
            attrs = r["attributes"] if r["present"] & FIELD_BITS["attributes"] else None
            lost.setdefault(r["sku_key"], []).append(LostRow(int(r["version"]), int(r["present"]), values, attrs))
        owners = sorted({owner(s.version) for states in snapshots.values() for s in states}
                        | {owner(r.version) for rows in lost.values() for r in rows}
                        | {owner(int(r["version"])) for r in current.values()})  # a later writer it keeps
        names = {int(r["import_no"]): r["import_id"] for r in cur.execute(
            "SELECT import_no, import_id FROM import_registry WHERE import_no = ANY(%s)", (owners,))}
    restored = deleted = 0
    gone: list[str] = []
    updates: list[dict[str, Any]] = []
    for key in keys:
        row = current.get(key)
        if row is None:
            continue
        state = ProductState.from_row(row)
        undone = (own or {}).get(key, reverted)
        new = restore_state(state, snapshots.get(key, []), lost.get(key, []), undone, floor)
        before, after = state.visible(), new.visible()
        if before == after and new.columns() == state.columns():
            continue
        if before is not None and after is None:
            if actions[key] == "c":
                deleted += 1
            else:
                restored += 1
            gone.append(key)
        elif after is not None and after != before:
            restored += 1
        cols = new.columns()
        cols["attributes"] = Jsonb(cols["attributes"])
        cols["attr_versions"] = Jsonb(cols["attr_versions"]) if cols["attr_versions"] is not None else None
        new_owner = owner(new.version)
        cols["last_import_id"] = names.get(new_owner) if new_owner not in undone else None
        cols["changed"] = before != after
        cols["sku_key"] = key
        updates.append(cols)
    if updates:
        names_ = [*STATE_COLUMNS, "last_import_id"]
        statement = sql.SQL(
            "UPDATE products SET {sets}, updated_at = CASE WHEN %(changed)s THEN now() ELSE updated_at END"
            " WHERE sku_key = %(sku_key)s"
        ).format(sets=sql.SQL(", ").join(
            sql.SQL("{} = {}").format(sql.Identifier(c), sql.Placeholder(c)) for c in names_))
        with conn.cursor() as cur:
            cur.executemany(statement, updates)
    return restored, deleted, gone


# -- conflicts and purge --------------------------------------------------------------------------------

def revert_conflicts(
    conn: psycopg.Connection, import_id: str, *, cursor: str | None = None, limit: int = 50
) -> tuple[list[dict[str, Any]], str | None]:
    """Products the revert left alone, by SKU: ``{"sku", "changed_by": {"import_id"} | {"edit": True}, "at"}``."""
    after = decode_cursor(cursor, str) if cursor else None
    limit = max(1, min(limit, 500))
    number = conn.execute("SELECT import_no FROM import_registry WHERE import_id = %s", (import_id,)).fetchone()
    if number is None:
        return [], None
    # A page walks the (import_no, sku_key) key from the cursor, each row's SKU and changer looked up by key:
    # with the import joined in and the cursor optional in the statement, every page sorted all the import's
    # conflicts (0.2 s a page at 1M conflicts, growing with them; found at scale).
    rows = conn.execute(
        "SELECT rc.sku_key, coalesce((SELECT p.sku FROM products p WHERE p.sku_key = rc.sku_key), rc.sku_key),"
        " (SELECT r.import_id FROM import_registry r WHERE r.import_no = rc.changed_by_no), rc.at"
        " FROM revert_conflicts rc WHERE rc.import_no = %(no)s AND rc.sku_key > %(after)s"
        " ORDER BY rc.sku_key LIMIT %(limit)s",
        {"no": number[0], "after": after or "", "limit": limit + 1},
    ).fetchall()
    items = [{"sku": sku, "changed_by": {"import_id": by} if by else {"edit": True},
              "at": at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z") if at else None}
             for _key, sku, by, at in rows[:limit]]
    return items, encode_cursor(rows[limit - 1][0]) if len(rows) > limit else None


def purge_undo(conn: psycopg.Connection, now: datetime | None = None, *, retention_days: int | None = None) -> int:
    """Drop the undo partitions older than the retention (``UNDO_RETENTION_DAYS``, default 30) and mark
    those imports' undo expired; change records stay. Returns the number of partitions dropped. Commits."""
    now = now or datetime.now(UTC)
    days = retention_days if retention_days is not None else undo_retention_days()
    expired_before = now - timedelta(days=days)
    # One spare day: an import registered just before midnight keeps its partition as long as it may revert.
    cutoff = expired_before.astimezone(UTC).date() - timedelta(days=1)
    dropped = 0
    settle(conn)
    with conn.transaction():
        conn.execute(
            "UPDATE import_registry SET undo_expired = true WHERE created_at < %s AND NOT undo_expired",
            (expired_before,),
        )
        # Through the owner's function (migration 0006): the application's role may not drop tables.
        row = conn.execute("SELECT pi_drop_undo_partitions(%s)", (cutoff,)).fetchone()
        dropped = int(row[0]) if row else 0
    forget_partitions()
    return dropped
