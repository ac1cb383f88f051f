"""The splitter's scan and the consumer's memory, each in a fresh process (issue 10's targets).

- ``split_speed(path)``: one pass of ``split_ranges`` over a file with the production chunking (5,000 rows,
  8 MiB), the way the splitter streams an object: MB/s (wall and CPU) and peak RSS (VmHWM). Run it on a
  plain catalog, on a quote-dense one (``write_dense_catalog``: every field quoted, quoted line breaks in
  a third of the rows) and on a ~1 GB file.
- ``consumer_rss(url)``: 5,000 rows with 60,000-character descriptions (~300 MB) imported chunk by chunk
  with the consumer's own read path (``pipeline.consumer.read_chunk``, the range read as a stream) and
  ``upsert_chunk`` into PostgreSQL: the worker's peak RSS.

``--layers DIR`` runs the same measurement against another checkout's package (before/after comparisons).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.bench.catalog import HEADER, _description

ROOT = Path(__file__).resolve().parents[2]

_SPLIT = r"""
import io, json, sys, time
from product_importer.ingest.chunking import split_ranges
from product_importer.ingest.header import sniff
path = sys.argv[1]
with open(path, "rb") as f:
    head = f.read(1 << 20)
plan = sniff(head)
with open(path, "rb") as f:
    f.seek(plan.data_start)
    wall, cpu = time.perf_counter(), time.process_time()
    chunks = rows = 0
    for r in split_ranges(f, start=plan.data_start, delimiter=plan.delimiter, rows_per_chunk=5000):
        chunks += 1
        rows += r.rows
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
hwm = int([l for l in open("/proc/self/status") if l.startswith("VmHWM")][0].split()[1])
print(json.dumps({"rows": rows, "chunks": chunks, "wall_s": wall, "cpu_s": cpu, "peak_rss_kb": hwm}))
"""

_CONSUME = r"""
import io, json, sys, time
import psycopg
from product_importer.db.chunks import next_import_number, upsert_chunk
from product_importer.ingest.chunking import split_ranges
from product_importer.ingest.header import sniff
from product_importer.ingest.plan import FilePlan
from product_importer.models import ChunkMessage, SplitPlan
from product_importer.pipeline.consumer import read_chunk
path, url = sys.argv[1], sys.argv[2]
with open(path, "rb") as f:
    head = f.read(1 << 20)
fp = sniff(head)
size = len(open(path, "rb").read(0)) or 0
plan = SplitPlan(import_id="bench-rss", bucket="b", key="k", size=0, file_plan=fp.to_json(), delimiter=fp.delimiter,
                 data_encoding=fp.data_encoding, data_start=fp.data_start, rows_per_chunk=5000,
                 bytes_per_chunk=8 << 20, max_record_bytes=1 << 20)
conn = psycopg.connect(url)
no = next_import_number(conn)
with open(path, "rb") as f:
    f.seek(fp.data_start)
    ranges = list(split_ranges(f, start=fp.data_start, delimiter=fp.delimiter, rows_per_chunk=5000))
rows = 0
began = time.perf_counter()
with open(path, "rb") as f:
    for r in ranges:
        f.seek(r.start)
        message = ChunkMessage(import_id="bench-rss", import_no=no, bucket="b", key="k", chunk_no=r.chunk_no,
                               start=r.start, end=r.end, first_row=r.first_row, rows=r.rows)
        parsed = read_chunk(f, message, plan, fp, stored_errors=1000)
        result = upsert_chunk(conn, import_id="bench-rss", import_no=no, chunk_no=r.chunk_no,
                              present_fields=fp.present_fields, rows=parsed.rows, errors=parsed.errors,
                              rows_seen=parsed.rows_seen, rows_skipped=parsed.rows_skipped)
        rows += result.chunk.rows_imported
hwm = int([l for l in open("/proc/self/status") if l.startswith("VmHWM")][0].split()[1])
print(json.dumps({"rows": rows, "chunks": len(ranges), "seconds": time.perf_counter() - began, "peak_rss_kb": hwm}))
"""


def write_dense_catalog(path: Path, rows: int, *, seed: int = 42) -> Path:
    """The bench catalog with every field quoted and line breaks in every third description."""
    rng = random.Random(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, quoting=csv.QUOTE_ALL, lineterminator="\n")
        writer.writerow(HEADER)
        for i in range(1, rows + 1):
            description = _description(rng)
            if i % 3 == 0:
                description = description.replace(" ", "\n", 2)
            writer.writerow([f"SKU-{i:08d}", f"Product {i}", description, f"{rng.randint(100, 99999) / 100:.2f}",
                             "USD", rng.randint(0, 5000), "true", rng.choice(("Brand A", "Brand B")), "Home",
                             str(rng.randrange(10**12, 10**13)), "red"])
    return path


def write_wide_catalog(path: Path, rows: int = 5000, description_chars: int = 60_000) -> Path:
    """``rows`` products with ``description_chars``-character descriptions (a Shopify export's HTML bodies)."""
    rng = random.Random(7)
    words = ("<p>", "steel", "cotton", "lamp", "chair,", "\"inch\"", "</p>", "wireless", "ergonomic")
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["sku", "name", "description", "price"])
        for i in range(1, rows + 1):
            text = " ".join(rng.choice(words) for _ in range(description_chars // 5))
            writer.writerow([f"WIDE-{i:06d}", f"Product {i}", text[:description_chars].ljust(description_chars, "."),
                             "1.00"])
    return path


def _run(code: str, *args: str, layers: Path | None = None) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": f"{layers or ROOT / 'layers'}:{ROOT}"}
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=True, env=env)
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def split_speed(path: Path, *, layers: Path | None = None) -> dict[str, Any]:
    found = _run(_SPLIT, str(path), layers=layers)
    mb = path.stat().st_size / 1e6
    return {"file_mb": round(mb), "rows": found["rows"], "chunks": found["chunks"],
            "mb_per_s": round(mb / found["wall_s"]), "cpu_mb_per_s": round(mb / found["cpu_s"]),
            "peak_rss_mb": round(found["peak_rss_kb"] / 1024)}


def consumer_rss(path: Path, database_url: str, *, layers: Path | None = None) -> dict[str, Any]:
    found = _run(_CONSUME, str(path), database_url, layers=layers)
    return {"rows": found["rows"], "chunks": found["chunks"], "seconds": round(found["seconds"], 1),
            "peak_rss_mb": round(found["peak_rss_kb"] / 1024)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("what", choices=["split", "consumer"])
    parser.add_argument("path", type=Path)
    parser.add_argument("--layers", type=Path, default=None, help="the package to measure (another checkout's)")
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    if args.what == "split":
        print(json.dumps(split_speed(args.path, layers=args.layers)))
    else:
        print(json.dumps(consumer_rss(args.path, args.database_url, layers=args.layers)))


if __name__ == "__main__":
    main()
