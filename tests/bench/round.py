"""One round of the database benchmarks, run in its own process with the code under test on ``sys.path``.

``python -m tests.bench.round --admin-url URL --parts core,preview,revert,encodings --generic F …``
creates a fresh database (migrated by the code under test), then, timing each step:

1. (a) a bare ``COPY`` of the generic file into a products-shaped table with its unique index;
2. (b) the insert pass of that file; (p) a preview of the repriced file (``preview``); (c) the update
   pass of the repriced file (every price changed: a change record per product); the tables' sizes
   before and after each pass (change records, undo data);
3. (r1) the update import's revert, then (r2) the insert import's; (r3) in a fresh database, an insert
   import and its revert, with nothing after it (``revert``);
4. in a second and third database (``encodings``): the same insert pass of a Windows-1252 file and of a
   Shopify export, each against a bare ``COPY`` of that same file.

The last line printed is ``ROUND {json}``. ``run.py`` runs rounds of this tree and of a baseline tree
interleaved and reports medians.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import psycopg

from tests.bench import revert as revert_bench
from tests.bench.core import CoreRun, import_file, streaming_consumer

DB_PARTS = ("core", "preview", "revert", "encodings")

BARE_TABLE = """
CREATE TABLE bare_products (
    sku text NOT NULL, name text NOT NULL, description text, price numeric, currency text, quantity bigint,
    active boolean, brand text, category text, barcode text, color text
);
CREATE UNIQUE INDEX bare_products_sku_key ON bare_products (lower(sku));
"""


# ---- databases ---------------------------------------------------------------------------------------------

def database_url(admin_url: str, name: str) -> str:
    return admin_url.replace("/postgres?", f"/{name}?", 1)


class FreshDatabase:
    """A database created for one step and dropped after it, migrated by the code under test."""

    def __init__(self, admin_url: str, name: str) -> None:
        self.admin_url = admin_url
        self.name = name
        self.url = database_url(admin_url, name)

    def __enter__(self) -> str:
        from product_importer.db.migrate import apply_migrations

        with psycopg.connect(self.admin_url, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)")
            admin.execute(f"CREATE DATABASE {self.name}")
            admin.execute("CHECKPOINT")  # none inside the step (children.BENCH_SETTINGS)
        with psycopg.connect(self.url) as conn:
            apply_migrations(conn)
            conn.commit()
        return self.url

    def __exit__(self, *exc: object) -> None:
        with psycopg.connect(self.admin_url, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)")


# ---- the floor: a bare COPY ---------------------------------------------------------------------------------

def bare_copy(url: str, path: Path, *, encoding: str = "utf-8", unique: str | None = None) -> float:
    """COPY the file as it is. Generic files go into a products-shaped table with its unique index; others
    (``unique`` = the SKU column's name) into a table of text columns named after the header, with a
    unique index on that column."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS bare_products")
        if unique is None:
            conn.execute(BARE_TABLE)
        else:
            with path.open(encoding="utf-8", newline="") as handle:
                names = next(csv.reader(handle))
            columns = ", ".join(f"c{i} text" for i in range(len(names)))
            conn.execute(f"CREATE TABLE bare_products ({columns})")
            conn.execute(f"CREATE UNIQUE INDEX bare_products_sku_key ON bare_products (lower(c{names.index(unique)}))")
        pg_encoding = "WIN1252" if encoding.replace("-", "").lower() in ("windows1252", "cp1252") else "UTF8"
        began = time.perf_counter()
        with path.open("rb") as handle, conn.cursor().copy(
            f"COPY bare_products FROM STDIN (FORMAT csv, HEADER true, ENCODING '{pg_encoding}')"
        ) as copy:
            while block := handle.read(1 << 20):
                copy.write(block)
        elapsed = time.perf_counter() - began
        conn.execute("DROP TABLE bare_products")
    return elapsed


# ---- storage -----------------------------------------------------------------------------------------------

GROUPS = {"changes": ("changes",), "undo": ("undo", "undo_lost"), "preview": ("preview_products",),
          "products": ("products", "product_search")}


def table_sizes(url: str) -> dict[str, int]:
    """Bytes per table (with its indexes and TOAST; a partitioned table as the sum of its partitions)."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT coalesce(root.relname, c.relname), sum(pg_total_relation_size(c.oid))::bigint"
            " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " LEFT JOIN pg_class root ON root.oid = pg_partition_root(c.oid)"
            " WHERE n.nspname = 'public' AND c.relkind = 'r' GROUP BY 1"
        ).fetchall()
    return {name: int(size) for name, size in rows}


def storage_delta(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    """Bytes each group of tables grew by (``other``: every other table)."""
    grown = {name: after.get(name, 0) - before.get(name, 0) for name in set(before) | set(after)}
    out = {group: sum(grown.get(t, 0) for t in tables) for group, tables in GROUPS.items()}
    grouped = {t for tables in GROUPS.values() for t in tables}
    out["other"] = sum(v for name, v in grown.items() if name not in grouped)
    return out


# ---- the round ---------------------------------------------------------------------------------------------

def _pass(run: CoreRun) -> dict[str, Any]:
    return {"s": run.seconds, "rows": run.rows, "chunks": run.chunks, "chunk_ms": run.chunk_ms,
            "database_ms": run.database_ms,
            "peak_rss_mb": run.worker_peak_rss_mb, "totals": run.totals, "read_as": run.read_as}


def _check(run: CoreRun, what: str, rows: int | None, **expected: int) -> None:
    failed = run.totals.get("rows_failed", 0)
    if failed:
        raise RuntimeError(f"{what}: {failed} rows failed (the bench's files are valid): {run.totals}")
    if rows is not None and run.rows != rows:
        raise RuntimeError(f"{what}: {run.rows} rows processed, expected {rows}")
    for key, value in expected.items():
        if run.totals.get(key) != value:
            raise RuntimeError(f"{what}: {key} = {run.totals.get(key)}, expected {value}: {run.totals}")


def _split(run: CoreRun) -> str:
    """Where a chunk's time went (medians): the PostgreSQL transaction, and the rest."""
    if not run.chunk_ms:
        return ""
    total, database = statistics.median(run.chunk_ms), statistics.median(run.database_ms)
    return f"; chunk p50 {total:.0f} ms, of which database {database:.0f} ms"


def _say(label: str, text: str) -> None:
    print(f"[{label}] {text}", file=sys.stderr, flush=True)


def _revert(url: str, import_id: str, workers: int) -> dict[str, Any]:
    run = revert_bench.revert_import(url, import_id, workers=workers)
    return {"s": run.seconds, "plan_s": run.plan_seconds, "chunks": run.chunks, "restored": run.restored,
            "deleted": run.deleted, "conflicts": run.conflicts, "chunk_ms": run.chunk_ms}


def _reverts(url: str, out: dict[str, Any], label: str, rows: int, workers: int) -> None:
    """(r1) the update import's revert (every product back to the insert's values), then (r2) the insert
    import's (every product gone: a tombstone each), both in the round's database."""
    out["revert_update"] = _revert(url, "bench-update", workers)
    out["revert_insert_after"] = _revert(url, "bench-insert", workers)
    for name in ("revert_update", "revert_insert_after"):
        r = out[name]
        _say(label, f"(r) {name} {r['s']:.2f} s: restored {r['restored']}, deleted {r['deleted']},"
                    f" conflicts {r['conflicts']}")
    if out["revert_update"]["restored"] != rows or out["revert_insert_after"]["deleted"] != rows:
        raise RuntimeError(f"the reverts did not restore / delete every product: {out['revert_update']},"
                           f" {out['revert_insert_after']}")


def _clean_revert(admin_url: str, name: str, generic: Path, out: dict[str, Any], label: str, rows: int,
                  chunk_rows: int, workers: int) -> None:
    """(r3) an insert import reverted with nothing after it: a fresh database, the insert pass, its revert."""
    with FreshDatabase(admin_url, name) as url:
        insert = import_file(url, generic, import_id="bench-insert", chunk_rows=chunk_rows, workers=workers)
        _check(insert, "insert pass (to revert)", rows, products_created=rows)
        out["revert_insert"] = {**_revert(url, "bench-insert", workers), "import_s": insert.seconds}
    r = out["revert_insert"]
    _say(label, f"(r) revert of a fresh insert import {r['s']:.2f} s (its import {insert.seconds:.2f} s): deleted"
                f" {r['deleted']}, conflicts {r['conflicts']}")
    if r["deleted"] != rows:
        raise RuntimeError(f"the insert's revert did not delete every product: {r}")


def main_round(args: argparse.Namespace) -> dict[str, Any]:
    import product_importer

    parts = set(args.parts.split(","))
    streaming = streaming_consumer()
    out: dict[str, Any] = {"code": str(Path(product_importer.__file__).resolve().parents[1]), "streaming": streaming,
                           "skipped": []}
    if not streaming:  # an older tree: its insert and update passes only
        out["skipped"] = sorted(parts - {"core"})
        parts &= {"core"}
    if not revert_bench.available() and "revert" in parts:
        out["skipped"].append("revert")
        parts.discard("revert")
    label, workers, chunk_rows, rows = args.label, args.workers, args.chunk_rows, args.rows
    tag = f"{os.getpid()}"
    errors: dict[str, str] = {}
    out["errors"] = errors

    if parts & {"core", "preview", "revert"}:
        generic, repriced = Path(args.generic), Path(args.repriced)
        with FreshDatabase(args.admin_url, f"bench_{tag}_core") as url:
            out["copy_s"] = bare_copy(url, generic)
            _say(label, f"(a) bare COPY {out['copy_s']:.2f} s")
            sizes = [table_sizes(url)]
            insert = import_file(url, generic, import_id="bench-insert", chunk_rows=chunk_rows, workers=workers)
            _check(insert, "insert pass", rows, products_created=rows)
            out["insert"] = _pass(insert)
            sizes.append(table_sizes(url))
            out["storage"] = {"insert": storage_delta(sizes[-2], sizes[-1])}
            _say(label, f"(b) insert {insert.seconds:.2f} s ({insert.seconds / out['copy_s']:.2f}x COPY)"
                        + _split(insert))
            if "preview" in parts:
                try:
                    preview = import_file(url, repriced, import_id="bench-preview", chunk_rows=chunk_rows,
                                          workers=workers, mode="preview")
                    _check(preview, "preview", rows, products_updated=rows)
                    out["preview"] = _pass(preview)
                    sizes.append(table_sizes(url))
                    out["storage"]["preview"] = storage_delta(sizes[-2], sizes[-1])
                    _say(label, f"(p) preview {preview.seconds:.2f} s" + _split(preview))
                except Exception as exc:  # the rest of the round still runs
                    errors["preview"] = f"{type(exc).__name__}: {exc}"
                    _say(label, f"(p) preview FAILED: {errors['preview']}")
                    sizes.append(table_sizes(url))
            update = import_file(url, repriced, import_id="bench-update", chunk_rows=chunk_rows, workers=workers)
            _check(update, "update pass", rows, products_updated=rows)
            out["update"] = _pass(update)
            sizes.append(table_sizes(url))
            out["storage"]["update"] = storage_delta(sizes[-2], sizes[-1])
            _say(label, f"(c) update {update.seconds:.2f} s ({update.seconds / out['copy_s']:.2f}x COPY)"
                        + _split(update))
            if "revert" in parts:
                try:
                    _reverts(url, out, label, rows, workers)
                except Exception as exc:  # the rest of the round still runs
                    errors["revert"] = f"{type(exc).__name__}: {exc}"
                    _say(label, f"(r) revert FAILED: {errors['revert']}")
            out["sizes_mb"] = {name: round(size / 1e6, 1) for name, size in sorted(sizes[-1].items())
                               if size > 1e6}

    if "revert" in parts and "revert" not in errors:
        try:
            _clean_revert(args.admin_url, f"bench_{tag}_undo", Path(args.generic), out, label, rows, chunk_rows, workers)
        except Exception as exc:  # the rest of the round still runs
            errors["revert"] = f"{type(exc).__name__}: {exc}"
            _say(label, f"(r) revert FAILED: {errors['revert']}")

    if "encodings" in parts:
        files = (("cp1252", Path(args.cp1252), "windows-1252", None, {"encoding": "windows-1252"}),
                 ("shopify", Path(args.shopify), "utf-8", "Variant SKU", {"profile": "shopify"}))
        for name, path, encoding, unique, read_as in files:
            try:
                with FreshDatabase(args.admin_url, f"bench_{tag}_{name}") as url:
                    copy_s = bare_copy(url, path, encoding=encoding, unique=unique)
                    run = import_file(url, path, import_id=f"bench-{name}", chunk_rows=chunk_rows, workers=workers)
                    _check(run, f"{name} insert pass", None)
                    for key, value in read_as.items():
                        if run.read_as.get(key) != value:
                            raise RuntimeError(f"{name}: the file was read as {run.read_as}, not {read_as}")
                    out[name] = {"copy_s": copy_s, **_pass(run)}
                    _say(label, f"(e) {name}: bare COPY {copy_s:.2f} s, insert {run.seconds:.2f} s"
                                f" ({run.seconds / copy_s:.2f}x), {run.rows} rows,"
                                f" {run.totals.get('products_created')} products")
            except Exception as exc:  # the rest of the round still runs
                errors["encodings"] = f"{name}: {type(exc).__name__}: {exc}"
                _say(label, f"(e) {name} FAILED: {errors['encodings']}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--admin-url", required=True)
    parser.add_argument("--parts", default=",".join(DB_PARTS))
    parser.add_argument("--label", default="new")
    parser.add_argument("--rows", type=int, required=True, help="rows of the generic files (checked)")
    parser.add_argument("--chunk-rows", type=int, default=5000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--generic")
    parser.add_argument("--repriced")
    parser.add_argument("--cp1252")
    parser.add_argument("--shopify")
    args = parser.parse_args()
    result = main_round(args)
    print("ROUND " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
