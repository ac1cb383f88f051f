"""The ingestion core over a local file, chunk by chunk in worker processes (like consumers)."""

from __future__ import annotations

import multiprocessing
import resource
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

_worker: dict[str, Any] = {}


def _init(url: str, path: str, plan_json: dict[str, Any]) -> None:
    from product_importer.ingest.plan import FilePlan

    _worker["conn"] = psycopg.connect(url)
    _worker["file"] = open(path, "rb")  # noqa: SIM115 - lives as long as the worker
    _worker["plan"] = FilePlan.from_json(plan_json)


def _chunk(task: tuple[str, int, int, int, int, int]) -> tuple[float, int]:
    """One chunk as the consumer does it: its range read as a stream and parsed a run of records at a
    time (``pipeline.consumer.read_chunk``), then ``upsert_chunk``."""
    from product_importer.db.chunks import upsert_chunk
    from product_importer.models import ChunkMessage, SplitPlan
    from product_importer.pipeline.consumer import read_chunk

    import_id, import_no, chunk_no, start, end, first_row = task
    began = time.perf_counter()
    handle = _worker["file"]
    handle.seek(start)  # the file stands in for the ranged GET's streaming body
    plan = _worker["plan"]
    split = SplitPlan(import_id=import_id, bucket="b", key="k", size=0, file_plan={}, delimiter=plan.delimiter,
                      data_encoding=plan.data_encoding, data_start=0, rows_per_chunk=1, bytes_per_chunk=1,
                      max_record_bytes=1 << 20)
    message = ChunkMessage(import_id=import_id, import_no=import_no, bucket="b", key="k", chunk_no=chunk_no,
                           start=start, end=end, first_row=first_row, rows=0)
    parsed = read_chunk(handle, message, split, plan, stored_errors=1000)
    upsert_chunk(_worker["conn"], import_id=import_id, import_no=import_no, chunk_no=chunk_no,
                 present_fields=plan.present_fields, rows=parsed.rows, errors=parsed.errors,
                 rows_seen=parsed.rows_seen, rows_skipped=parsed.rows_skipped)
    return time.perf_counter() - began, _peak_rss_kb()


def _peak_rss_kb() -> int:
    """VmHWM: this process's own peak (ru_maxrss would include the parent's size at fork)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


@dataclass
class CoreRun:
    seconds: float
    rows: int
    chunks: int
    chunk_ms: list[float]
    worker_peak_rss_mb: float


def _warm(_: int) -> int:
    return 0


def import_file(url: str, path: Path, *, import_id: str, chunk_rows: int, workers: int) -> CoreRun:
    """Import ``path`` with ``workers`` warm worker processes (like warm consumer containers: their
    start-up is not timed); the split streams ranges to them while it reads, like the splitter."""
    from product_importer.db.chunks import next_import_number
    from product_importer.ingest.chunking import split_ranges
    from product_importer.ingest.header import read_header

    with path.open("rb") as handle:
        header, data_start = read_header(handle)  # the file's plan (ingest.sniff)
    with psycopg.connect(url) as conn:
        import_no = next_import_number(conn)
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(workers, initializer=_init, initargs=(url, str(path), header.to_json())) as pool:
        pool.map(_warm, range(workers * 4), chunksize=1)
        began = time.perf_counter()
        with path.open("rb") as handle:
            handle.seek(data_start)
            tasks = (
                (import_id, import_no, r.chunk_no, r.start, r.end, r.first_row)
                for r in split_ranges(handle, start=data_start, delimiter=header.delimiter,
                                      rows_per_chunk=chunk_rows)
            )
            results = list(pool.imap_unordered(_chunk, tasks, chunksize=1))
        elapsed = time.perf_counter() - began
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT rows_processed FROM import_totals WHERE import_id = %s", (import_id,)).fetchone()
        rows = int(row[0]) if row else 0
    return CoreRun(elapsed, rows, len(results), [r[0] * 1000 for r in results], max(r[1] for r in results) / 1024)
