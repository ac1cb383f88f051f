"""Rows as one block of PostgreSQL's ``COPY … FROM STDIN`` text format, built a column at a time.

A chunk's rows are plain ``str``, ``int`` and ``bool`` values (``ingest.validate`` made them so), and psycopg's
``Copy.write_row`` formats them a value at a time: 12.8 ms for a chunk of 5,000 catalog rows, measured,
against 6.4 ms for the same bytes built here (docs/benchmarks.md), inside the chunk's transaction. A text
column is escaped only when its joined values hold a character the format escapes (PostgreSQL manual,
COPY, "Text Format": backslash, newline, carriage return, tab), which for catalog data is rare.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

# Per column: 's' text (str or None), 'i' integer (int or None), 'b' boolean (bool or None).
Kinds = str

_NULL = "\\N"
_INT_TYPES = frozenset({int, type(None)})
_BOOL_TYPES = frozenset({bool, type(None)})


class NotPlainError(ValueError):
    """A value is not of its column's kind: the caller formats the rows the generic way."""


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def text_column(values: Sequence[Any]) -> Sequence[str]:
    """A column of ``str`` (or None) values as COPY text fields, escaped only where needed; raises
    ``NotPlainError`` for a value that is not a str."""
    shown = tuple(_NULL if v is None else v for v in values) if None in values else values
    try:
        joined = "\t".join(shown)
    except TypeError as exc:  # a value that is not a str
        raise NotPlainError(str(exc)) from None
    if "\\" in joined or "\n" in joined or "\r" in joined or joined.count("\t") != len(values) - 1:
        return [_NULL if v is None else _escape(v) for v in values]
    return shown


def copy_block(rows: Sequence[Sequence[Any]], kinds: Kinds) -> str:
    """``rows`` (each with ``len(kinds)`` values) as COPY text-format lines, each ending in a newline.

    Raises ``NotPlainError`` when a value is not of its column's kind (say a ``Decimal`` where an ``int``
    was expected): the caller then writes those rows with ``Copy.write_row``."""
    if not rows:
        return ""
    columns: list[Sequence[str]] = []
    for kind, values in zip(kinds, zip(*rows, strict=True), strict=True):
        if kind == "s":
            columns.append(text_column(values))
        elif kind == "i":
            if not set(map(type, values)) <= _INT_TYPES:
                raise NotPlainError("not an int column")
            columns.append([_NULL if v is None else str(v) for v in values])
        elif kind == "b":
            if not set(map(type, values)) <= _BOOL_TYPES:
                raise NotPlainError("not a bool column")
            columns.append(["t" if v else (_NULL if v is None else "f") for v in values])
        else:
            raise ValueError(f"unknown column kind {kind!r}")
    return "\n".join(map("\t".join, zip(*columns, strict=True))) + "\n"


def write_rows(copy: Any, rows: Sequence[Sequence[Any]], kinds: Kinds) -> None:
    """Write ``rows`` into the open ``copy`` (a psycopg ``Copy`` in text format): one block when every value
    is of its column's kind, else a row at a time."""
    try:
        block = copy_block(rows, kinds)
    except NotPlainError:
        for row in rows:
            copy.write_row(row)
        return
    copy.write(block)


__all__ = ["Kinds", "NotPlainError", "copy_block", "text_column", "write_rows"]
