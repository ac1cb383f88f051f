"""``make bench``: the ingestion core and the local pipeline against a bare COPY of the same file.

Writes the figures into docs/benchmarks.md (between the RESULTS markers) and docs/bench-results.json;
the last line printed is machine-readable: ``RESULT insert_x_copy=… update_x_copy=… peak_rss_mb=… e2e_x_copy=…``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

from tests.bench.catalog import write_catalog
from tests.bench.core import import_file

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / ".local" / "bench"
DOC = ROOT / "docs" / "benchmarks.md"
JSON_OUT = ROOT / "docs" / "bench-results.json"
BEGIN, END = "<!-- RESULTS:BEGIN -->", "<!-- RESULTS:END -->"

BARE_TABLE = """
CREATE TABLE bare_products (
    sku text NOT NULL, name text NOT NULL, description text, price numeric, currency text, quantity bigint,
    active boolean, brand text, category text, barcode text, color text
);
CREATE UNIQUE INDEX bare_products_sku_key ON bare_products (lower(sku));
"""


def bare_copy(url: str, path: Path) -> float:
    """(a) COPY the file as it is into a table shaped like products, with its unique index."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS bare_products")
        conn.execute(BARE_TABLE)
        began = time.perf_counter()
        with path.open("rb") as handle, conn.cursor().copy("COPY bare_products FROM STDIN (FORMAT csv, HEADER true)") as copy:
            while block := handle.read(1 << 20):
                copy.write(block)
        elapsed = time.perf_counter() - began
        conn.execute("DROP TABLE bare_products")
    return elapsed


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
    return f"{cpu}, {os.cpu_count()} cores, {mem_gb:.0f} GiB RAM, {platform.system()} {platform.release()}, Python {platform.python_version()}"


def run(rows: int, chunk_rows: int, workers: int, with_e2e: bool, with_live: bool) -> dict[str, Any]:
    from tests.pg import EmbeddedDatabases

    DATA.mkdir(parents=True, exist_ok=True)
    catalog = DATA / f"catalog-{rows}.csv"
    repriced = DATA / f"catalog-{rows}-repriced.csv"
    for path, factor in ((catalog, 1.0), (repriced, 1.1)):
        if not path.exists():
            print(f"generating {path.name} …", flush=True)
            write_catalog(path, rows, seed=42, price_factor=factor)
    size_mb = catalog.stat().st_size / 1e6
    print(f"catalog: {rows:,} rows, {size_mb:.0f} MB; chunk {chunk_rows} rows, {workers} workers", flush=True)

    dbs = EmbeddedDatabases()
    try:
        url = dbs.create()
        copy_s = bare_copy(url, catalog)
        print(f"(a) bare COPY           {copy_s:6.2f} s  {rows / copy_s:10,.0f} rows/s", flush=True)
        insert = import_file(url, catalog, import_id="bench-insert", chunk_rows=chunk_rows, workers=workers)
        assert insert.rows == rows, f"insert pass processed {insert.rows} rows, expected {rows}"
        print(f"(b) core, insert pass   {insert.seconds:6.2f} s  {rows / insert.seconds:10,.0f} rows/s"
              f"  {insert.seconds / copy_s:4.2f}x COPY  peak RSS {insert.worker_peak_rss_mb:.0f} MB/worker", flush=True)
        update = import_file(url, repriced, import_id="bench-update", chunk_rows=chunk_rows, workers=workers)
        with psycopg.connect(url) as conn:
            updated = conn.execute("SELECT products_updated FROM import_totals WHERE import_id = 'bench-update'").fetchone()
        assert updated and updated[0] == rows, f"update pass updated {updated}, expected {rows}"
        print(f"(c) core, update pass   {update.seconds:6.2f} s  {rows / update.seconds:10,.0f} rows/s"
              f"  {update.seconds / copy_s:4.2f}x COPY  peak RSS {update.worker_peak_rss_mb:.0f} MB/worker", flush=True)
        dbs.drop(url)
    finally:
        dbs.close()

    results: dict[str, Any] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "rows": rows,
        "file_mb": round(size_mb, 1),
        "chunk_rows": chunk_rows,
        "workers": workers,
        "copy_s": round(copy_s, 2),
        "copy_rows_per_s": round(rows / copy_s),
        "core_insert_s": round(insert.seconds, 2),
        "core_insert_rows_per_s": round(rows / insert.seconds),
        "core_update_s": round(update.seconds, 2),
        "core_update_rows_per_s": round(rows / update.seconds),
        "insert_x_copy": round(insert.seconds / copy_s, 2),
        "update_x_copy": round(update.seconds / copy_s, 2),
        "peak_rss_mb": round(max(insert.worker_peak_rss_mb, update.worker_peak_rss_mb)),
        "chunk_ms_p50": round(statistics.median(insert.chunk_ms + update.chunk_ms), 1),
        "chunk_ms_p95": round(_p95(insert.chunk_ms + update.chunk_ms), 1),
        "chunk_ms_insert_p50": round(statistics.median(insert.chunk_ms), 1),
        "chunk_ms_update_p50": round(statistics.median(update.chunk_ms), 1),
    }
    if with_e2e:
        from tests.bench.e2e import pipeline_run

        e2e = pipeline_run(catalog, chunk_rows=chunk_rows, consumers=workers)
        results.update(e2e)
        results["e2e_x_copy"] = round(e2e["e2e_s"] / copy_s, 2)
        print(f"(d) local pipeline e2e  {e2e['e2e_s']:6.2f} s  {rows / e2e['e2e_s']:10,.0f} rows/s"
              f"  {results['e2e_x_copy']:4.2f}x COPY  (upload {e2e['upload_s']:.2f} s, split {e2e['split_s']:.2f} s)",
              flush=True)
        splitter = splitter_rss()
        results.update(splitter)
        print(f"(e) splitter on a {splitter['splitter_file_mb']:.0f} MB file: peak RSS {splitter['splitter_peak_rss_mb']} MB,"
              f" {splitter['splitter_mb_per_s']} MB/s", flush=True)
        results.update(pipeline_limits())
    if with_live:
        try:
            from tests.bench import live  # the live-progress figures (WebSocket latency, search p95)
        except ImportError:
            live = None  # type: ignore[assignment]
        if live is not None and hasattr(live, "run_all"):
            results.update(live.run_all())
    return results


def pipeline_limits() -> dict[str, Any]:
    """(f) the splitter on a quote-dense file, (g) the consumer's peak RSS on 5,000 rows of 60,000-character
    descriptions (issue 10's targets: ≥ 100 MB/s, ≤ 300 MB)."""
    from tests.bench.pipeline import consumer_rss, split_speed, write_dense_catalog, write_wide_catalog
    from tests.pg import EmbeddedDatabases

    dense = DATA / "catalog-dense-2000000.csv"
    if not dense.exists():
        write_dense_catalog(dense, 2_000_000)
    quoted = split_speed(dense)
    print(f"(f) splitter on a {quoted['file_mb']} MB quote-dense file: {quoted['mb_per_s']} MB/s "
          f"({quoted['cpu_mb_per_s']} MB/s of CPU), peak RSS {quoted['peak_rss_mb']} MB", flush=True)
    wide = DATA / "catalog-wide-5000.csv"
    if not wide.exists():
        write_wide_catalog(wide)
    dbs = EmbeddedDatabases()
    try:
        url = dbs.create()
        consumer = consumer_rss(wide, url)
        dbs.drop(url)
    finally:
        dbs.close()
    print(f"(g) consumer on 5,000 rows x 60,000-character descriptions ({consumer['chunks']} chunks): "
          f"peak RSS {consumer['peak_rss_mb']} MB", flush=True)
    return {"splitter_dense_file_mb": quoted["file_mb"], "splitter_dense_mb_per_s": quoted["mb_per_s"],
            "splitter_dense_peak_rss_mb": quoted["peak_rss_mb"], "consumer_wide_peak_rss_mb": consumer["peak_rss_mb"],
            "consumer_wide_chunks": consumer["chunks"]}


def splitter_rss(target_mb: int = 1024) -> dict[str, Any]:
    """Split a ~1 GB file in a fresh process and report its peak RSS (the Lambda's memory need).

    Peak RSS is VmHWM of the process itself: ``ru_maxrss`` would carry over the parent's size through
    fork + exec."""
    big = DATA / "catalog-1gb.csv"
    if not big.exists():
        base = DATA / "catalog-500000.csv"
        with big.open("wb") as out, base.open("rb") as src:
            out.write(src.readline())
            start = src.tell()
            while out.tell() < target_mb * 1024**2:
                src.seek(start)
                while block := src.read(1 << 24):
                    out.write(block)
    from tests.bench.pipeline import split_speed

    found = split_speed(big)
    return {"splitter_file_mb": found["file_mb"], "splitter_peak_rss_mb": found["peak_rss_mb"],
            "splitter_mb_per_s": found["mb_per_s"]}


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


def result_line(results: dict[str, Any]) -> str:
    keys = ["insert_x_copy", "update_x_copy", "peak_rss_mb", "e2e_x_copy", "splitter_peak_rss_mb",
            "splitter_mb_per_s", "splitter_dense_mb_per_s", "consumer_wide_peak_rss_mb",
            "ws_latency_p50_ms", "ws_latency_p95_ms", "search_p95_ms"]
    return "RESULT " + " ".join(f"{k}={results[k]}" for k in keys if k in results)


def write_docs(results: dict[str, Any]) -> None:
    JSON_OUT.write_text(json.dumps(results, indent=2) + "\n")
    rows = results["rows"]
    lines = [
        BEGIN,
        f"Measured {results['date']} on {results['machine']}.",
        f"File: {rows:,} rows, {results['file_mb']} MB; chunks of {results['chunk_rows']:,} rows; "
        f"{results['workers']} worker processes.",
        "",
        "| step | seconds | rows/s | × bare COPY |",
        "| --- | ---: | ---: | ---: |",
        f"| (a) bare `COPY` into a products-shaped table with its unique index | {results['copy_s']} | {results['copy_rows_per_s']:,} | 1.00 |",
        f"| (b) core, insert pass (split + parse + validate + `upsert_chunk`) | {results['core_insert_s']} | {results['core_insert_rows_per_s']:,} | {results['insert_x_copy']} |",
        f"| (c) core, update pass (every price changed) | {results['core_update_s']} | {results['core_update_rows_per_s']:,} | {results['update_x_copy']} |",
    ]
    if "e2e_s" in results:
        lines.append(f"| (d) local pipeline, upload → `completed` | {results['e2e_s']} | {round(rows / results['e2e_s']):,} | {results['e2e_x_copy']} |")
    lines += [
        "",
        f"Peak RSS per worker process: {results['peak_rss_mb']} MB. Chunk time p50 {results['chunk_ms_p50']} ms, "
        f"p95 {results['chunk_ms_p95']} ms (insert p50 {results['chunk_ms_insert_p50']} ms, update p50 "
        f"{results['chunk_ms_update_p50']} ms).",
    ]
    if "e2e_s" in results:
        lines.append(f"Pipeline breakdown: upload {results['upload_s']} s, splitter {results['split_s']} s "
                     f"(first chunk enqueued after {results['first_chunk_s']} s), consumers until completed "
                     f"{results['consume_s']} s.")
        lines.append(f"Splitter on a {results['splitter_file_mb']} MB file: peak RSS {results['splitter_peak_rss_mb']} MB, "
                     f"{results['splitter_mb_per_s']} MB/s.")
    if "splitter_dense_mb_per_s" in results:
        lines.append(f"Splitter on a {results['splitter_dense_file_mb']} MB quote-dense file (every field quoted, "
                     f"line breaks in a third of the rows): {results['splitter_dense_mb_per_s']} MB/s, peak RSS "
                     f"{results['splitter_dense_peak_rss_mb']} MB. Consumer on 5,000 rows of 60,000-character "
                     f"descriptions: peak RSS {results['consumer_wide_peak_rss_mb']} MB.")
    for key, label in (("ws_latency_p50_ms", "WebSocket commit → message p50"), ("ws_latency_p95_ms", "WebSocket commit → message p95"),
                       ("search_p95_ms", "GET /api/products?q= p95 at 1M products")):
        if key in results:
            lines.append(f"{label}: {results[key]} ms.")
    lines += ["", "```", result_line(results), "```", END]
    block = "\n".join(lines)
    text = DOC.read_text() if DOC.exists() else "# Benchmarks\n\n" + BEGIN + "\n" + END + "\n"
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        _, tail = rest.split(END, 1)
        text = head + block + tail
    else:
        text += "\n" + block + "\n"
    DOC.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=500_000)
    parser.add_argument("--chunk-rows", type=int, default=5000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--no-e2e", action="store_true", help="skip the local-pipeline figure")
    parser.add_argument("--no-live", action="store_true", help="skip the WebSocket / search figures")
    parser.add_argument("--no-write", action="store_true", help="do not update docs/")
    args = parser.parse_args()
    results = run(args.rows, args.chunk_rows, args.workers, not args.no_e2e, not args.no_live)
    if not args.no_write:
        write_docs(results)
    print(result_line(results))


if __name__ == "__main__":
    main()
