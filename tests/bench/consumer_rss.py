"""The consumer's peak memory on a file of very long rows, in a process of its own.

``python -m tests.bench.consumer_rss --admin-url URL --file F --ranges R.json`` imports the chunks listed
in ``R.json`` (the splitter's cuts of ``F``, made by the parent) one after another through
``pipeline.consumer.process_chunk``, as one warm consumer container would, into a fresh database, and
prints ``RSS {json}``: the process's peak resident set (VmHWM; ``ru_maxrss`` agrees in a fresh process)
and what it was before the first chunk (interpreter, libraries, connection).
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path

import psycopg

from tests.bench.core import consumer_ports, split_plan
from tests.bench.memory import peak_rss_kb, rss_kb
from tests.bench.round import FreshDatabase


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--admin-url", required=True)
    parser.add_argument("--file", required=True)
    parser.add_argument("--ranges", required=True)
    parser.add_argument("--chunk-rows", type=int, default=5000)
    args = parser.parse_args()

    from product_importer.db.chunks import next_import_number
    from product_importer.models import ChunkMessage
    from product_importer.pipeline.consumer import process_chunk

    path = Path(args.file)
    ranges = json.loads(Path(args.ranges).read_text())
    with FreshDatabase(args.admin_url, "bench_consumer_rss") as url, psycopg.connect(url) as conn:
        import_no = next_import_number(conn)
        plan = split_plan(path, "bench-rss", mode="import", chunk_rows=args.chunk_rows)
        ports = consumer_ports(conn, plan)
        floor_kb = rss_kb()
        began = time.perf_counter()
        rows = 0
        for r in ranges:
            message = ChunkMessage(import_id=plan.import_id, import_no=import_no, bucket="bench", key=str(path),
                                   chunk_no=r["chunk_no"], start=r["start"], end=r["end"], first_row=r["first_row"],
                                   rows=r["rows"], context=r.get("context"))
            result = process_chunk(message, ports)
            rows += result.chunk.rows_imported
        elapsed = time.perf_counter() - began
        failed = result.totals.rows_failed if ranges else 0
    if failed:
        raise SystemExit(f"{failed} rows failed: the memory of a consumer that rejects its rows says nothing")
    print("RSS " + json.dumps({
        "peak_rss_mb": round(peak_rss_kb() / 1024),
        "ru_maxrss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "floor_rss_mb": round(floor_kb / 1024),
        "chunks": len(ranges),
        "rows": rows,
        "rows_failed": failed,
        "largest_chunk_mb": round(max((r["end"] - r["start"] for r in ranges), default=0) / 2**20, 1),
        "seconds": round(elapsed, 2),
    }), flush=True)


if __name__ == "__main__":
    main()
