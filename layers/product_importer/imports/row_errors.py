"""Row errors of an import (PostgreSQL ``row_errors``): one page at a time, or all of them as a stream."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass

import psycopg

from product_importer.progress import CursorError


@dataclass(frozen=True)
class RowError:
    row: int
    sku: str | None
    column: str | None
    message: str
    value: str | None


def page_row_errors(conn: psycopg.Connection, import_id: str, *, cursor: str | None = None,
                    limit: int = 50) -> tuple[list[RowError], str | None]:
    """The import's row errors by row number, ``limit`` after ``cursor``; and the cursor of the next page."""
    after = _decode_cursor(cursor) if cursor else (0, 0)
    rows = conn.execute(
        "SELECT row_no, id, sku, column_name, message, value FROM row_errors"
        " WHERE import_id = %s AND (row_no, id) > (%s, %s) ORDER BY row_no, id LIMIT %s",
        (import_id, after[0], after[1], limit + 1),
    ).fetchall()
    page, more = rows[:limit], len(rows) > limit
    items = [RowError(row=r[0], sku=r[2], column=r[3], message=r[4], value=r[5]) for r in page]
    return items, _encode_cursor(page[-1][0], page[-1][1]) if more else None


def iter_row_errors(conn: psycopg.Connection, import_id: str, *, batch: int = 2000) -> Iterator[RowError]:
    """Every row error of the import by row, read with a server-side cursor (memory stays flat).

    Runs in a transaction of its own on ``conn``: iterate it to the end (or close it) before using
    ``conn`` for anything else."""
    with conn.transaction(), conn.cursor(name="row_errors_export") as cur:
        cur.itersize = batch
        cur.execute("SELECT row_no, sku, column_name, message, value FROM row_errors WHERE import_id = %s"
                    " ORDER BY row_no, id", (import_id,))
        for record in cur:
            yield RowError(*record)


def _encode_cursor(row_no: int, error_id: int) -> str:
    return base64.urlsafe_b64encode(f"{row_no}:{error_id}".encode()).decode()


def _decode_cursor(cursor: str) -> tuple[int, int]:
    try:
        row_no, error_id = base64.urlsafe_b64decode(cursor.encode("ascii")).decode("ascii").split(":")
        after = int(row_no), int(error_id)
    except (ValueError, UnicodeError) as exc:
        raise CursorError("invalid cursor") from exc
    if not all(0 <= n < 2**63 for n in after):
        raise CursorError("invalid cursor")
    return after
