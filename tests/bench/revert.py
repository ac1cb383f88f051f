"""Reverting an import through ``db.revert``, its chunks in warm worker processes (like consumers).

``POST /api/imports/{id}/revert`` plans the revert (``plan_revert``: the products the import touched cut
into SKU ranges) and sends one message per range; consumers run ``revert_chunk`` on each. Here the plan
and every chunk are timed, with the chunks on ``workers`` warm processes, as an import's are.
"""

from __future__ import annotations

import multiprocessing
import time
from dataclasses import dataclass
from typing import Any

import psycopg

_worker: dict[str, Any] = {}


def available() -> bool:
    try:
        from product_importer.db.revert import plan_revert, revert_chunk  # noqa: F401
    except ImportError:
        return False
    return True


@dataclass
class RevertRun:
    seconds: float  # plan + every chunk
    plan_seconds: float
    chunks: int
    restored: int
    deleted: int
    conflicts: int
    done: bool
    chunk_ms: list[float]


def _init(url: str) -> None:
    _worker["conn"] = psycopg.connect(url)


def _warm(_: int) -> int:
    return 0


def _revert_one(task: tuple[str, int]) -> float:
    from product_importer.db.revert import revert_chunk

    import_id, chunk_no = task
    began = time.perf_counter()
    revert_chunk(_worker["conn"], import_id=import_id, chunk_no=chunk_no)
    return time.perf_counter() - began


def revert_import(url: str, import_id: str, *, workers: int, chunk_products: int | None = None) -> RevertRun:
    """Revert ``import_id`` (plan + all chunks); raises if the revert does not end ``done``."""
    from product_importer.db.revert import plan_revert, revert_totals

    options = {} if chunk_products is None else {"chunk_products": chunk_products}
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(workers, initializer=_init, initargs=(url,)) as pool, psycopg.connect(url) as conn:
        pool.map(_warm, range(workers * 4), chunksize=1)
        began = time.perf_counter()
        total = plan_revert(conn, import_id, **options)
        planned = time.perf_counter()
        chunk_s = list(pool.imap_unordered(_revert_one, ((import_id, k) for k in range(total)), chunksize=1))
        elapsed = time.perf_counter() - began
        totals = revert_totals(conn, import_id)
        conn.rollback()
    if totals is None or not totals.done:
        raise RuntimeError(f"the revert of {import_id} did not finish: {totals}")
    return RevertRun(elapsed, planned - began, total, totals.restored, totals.deleted, totals.conflicts,
                     totals.done, [s * 1000 for s in chunk_s])
