"""Replace mode (CONTRACT §2 "Replace"): after every row of an import is committed, deactivate the
products in scope that its file did not contain (a SKU on a failed row counts as contained).

Scope ``all``: every product; ``partner``: products created by imports of that partner. A deactivation
is a write of ``active=false`` by the import itself (version after all its rows), recorded as a
``deactivate`` change record with undo data, so a revert of the import reactivates them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import psycopg

Scope = Literal["all", "partner"]


@dataclass(frozen=True)
class ReplacePlan:
    in_scope: int  # products in scope (existing, not deleted)
    would_deactivate: int  # active products in scope that the file does not contain


@dataclass(frozen=True)
class ReplaceStep:
    deactivated: int  # by this call
    next_after: str | None  # pass as ``after`` to continue; None when the whole scope is done
    products_deactivated: int  # the import's total so far


def plan_replace(conn: psycopg.Connection, import_id: str, *, scope: Scope, partner: str | None = None) -> ReplacePlan:
    """Count what a replace would do now (for ``max_deactivate_percent``)."""
    raise NotImplementedError


def deactivate_missing(
    conn: psycopg.Connection,
    import_id: str,
    *,
    scope: Scope,
    partner: str | None = None,
    after: str | None = None,
    limit: int = 5000,
) -> ReplaceStep:
    """Deactivate up to ``limit`` products in scope (SKU order, after the key ``after``) that the file did
    not contain; idempotent (a product already deactivated by this import is not counted again).
    Call again with ``next_after`` until it is None. For a preview it records the planned deactivations
    and counts without writing products. Commits."""
    raise NotImplementedError
