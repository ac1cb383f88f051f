"""The COPY text blocks of db/copy_text.py on a real PostgreSQL: every value reads back as it was written,
whatever characters it holds, exactly as psycopg's own row-at-a-time formatting would have written it."""

from __future__ import annotations

import json
from decimal import Decimal

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from product_importer.db.copy_text import NotPlainError, copy_block, write_rows
from psycopg.adapt import Transformer

KINDS = "isbs"
_TABLE = "CREATE TEMP TABLE IF NOT EXISTS t (n bigint, s text, b boolean, j jsonb) ON COMMIT DELETE ROWS"


def _round_trip(conn: psycopg.Connection, rows: list[tuple]) -> list[tuple]:
    conn.execute(_TABLE)
    with conn.cursor().copy("COPY t (n, s, b, j) FROM STDIN") as copy:
        write_rows(copy, rows, KINDS)
    back = conn.execute("SELECT n, s, b, j::text FROM t ORDER BY n").fetchall()
    conn.rollback()
    return back


def _psycopg_bytes(rows: list[tuple]) -> bytes:
    """What ``Copy.write_row`` sends for ``rows``."""
    from psycopg._copy_base import format_row_text

    out = bytearray()
    transformer = Transformer()
    for row in rows:
        format_row_text(row, transformer, out)
    return bytes(out)


AWKWARD = ["plain", "", "tab\there", "line\nbreak", "cr\rlf\r\n", "back\\slash", "\\N", "\\.", "\\", "é ü 商品 🙂",
           " spaced ", "\\t literal"]


def test_awkward_values_read_back_as_written(conn: psycopg.Connection) -> None:
    rows = [(i, value, i % 3 == 0 if i % 4 else None, json.dumps({"k": value}, ensure_ascii=False))
            for i, value in enumerate(AWKWARD)]
    rows.append((len(rows), None, None, None))
    back = _round_trip(conn, rows)
    assert [(n, s, b) for n, s, b, _ in back] == [(n, s, b) for n, s, b, _ in rows]
    assert [None if j is None else json.loads(j) for *_, j in back] == \
        [None if j is None else json.loads(j) for *_, j in rows]


def test_the_block_is_the_bytes_psycopg_would_send() -> None:
    """(psycopg also escapes form feeds and the like, which the format does not require: not compared.)"""
    rows = [(i, value, bool(i % 2), None) for i, value in enumerate(AWKWARD)]
    assert copy_block(rows, KINDS).encode() == _psycopg_bytes(rows)
    clean = [(i, f"v{i}", None, "{}") for i in range(5)]  # the fast path: nothing to escape
    assert copy_block(clean, KINDS).encode() == _psycopg_bytes(clean)


def test_values_of_another_kind_fall_back_to_row_at_a_time(conn: psycopg.Connection) -> None:
    for bad in [(1, Decimal("1.50"), True, None), (1, "x", "yes", None), (True, "x", True, None),
                (1, "x", True, {"a": 1})]:
        with pytest.raises(NotPlainError):
            copy_block([bad], KINDS)
    conn.execute(_TABLE)
    with conn.cursor().copy("COPY t (n, s, b) FROM STDIN") as copy:
        write_rows(copy, [(1, Decimal("1.50"), True), (2, "x", False)], "isb")
    assert conn.execute("SELECT n, s, b FROM t ORDER BY n").fetchall() == [(1, "1.50", True), (2, "x", False)]
    conn.rollback()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.none() | st.text(alphabet=st.characters(blacklist_characters="\x00",
                                                                      blacklist_categories=("Cs",))),
                          st.none() | st.booleans()), max_size=12))
def test_any_text_reads_back(conn: psycopg.Connection, values: list[tuple[str | None, bool | None]]) -> None:
    rows = [(i, s, b, None) for i, (s, b) in enumerate(values)]
    assert _round_trip(conn, rows) == [(n, s, b, None) for n, s, b, _ in rows]
