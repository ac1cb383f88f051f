"""Change records (CONTRACT §2 "Changes"): reads for the API — an import's changes, their summary, and a
product's history. The records are written by ``upsert_chunk`` (imports and previews), by manual edits
(products.repository) and by ``deactivate_missing`` (replace); see docs/changes-and-undo.md.

Items use CONTRACT §3's shapes: ``{"sku", "action", "changes": {"<field>": {"from", "to"}}}``, with
``attributes`` one field whose ``from``/``to`` list only the changed keys. Cursors are opaque strings;
a malformed one raises ``CursorError`` (400).
"""

from __future__ import annotations

from typing import Any

import psycopg

ACTIONS = {"c": "create", "u": "update", "n": "unchanged", "d": "deactivate", "x": "delete"}
ACTION_CODES = {name: code for code, name in ACTIONS.items()}


def list_changes(
    conn: psycopg.Connection,
    import_id: str,
    *,
    action: str | None = None,
    sku_prefix: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of the import's (or preview's) change records in SKU order, and the cursor of the next
    page (None at the end). ``action``: create / update / unchanged / deactivate; ``sku_prefix``:
    case-insensitive SKU prefix. An unknown import gives an empty page."""
    raise NotImplementedError


def changes_summary(conn: psycopg.Connection, import_id: str) -> dict[str, Any]:
    """``{"create", "update", "unchanged", "deactivate", "fields": {"<field>": products where it changes}}``."""
    raise NotImplementedError


def product_history(
    conn: psycopg.Connection, sku: str, *, cursor: str | None = None, limit: int = 50
) -> tuple[list[dict[str, Any]], str | None]:
    """The change records that touched this product (imports and edits, not previews), newest first:
    ``{"import_id" (None for an edit), "action", "changes", "at", "reverted"}``."""
    raise NotImplementedError
