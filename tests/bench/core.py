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


def _init(url: str, path: str, header_raw: bytes) -> None:
    from product_importer.ingest.header import resolve_header

    _worker["conn"] = psycopg.connect(url)
    _worker["file"] = open(path, "rb")  # noqa: SIM115 - lives as long as the worker
    _worker["header"] = resolve_header(header_raw)


def _chunk(task: tuple[str, int, int, int, int, int]) -> tuple[float, int]:
    from product_importer.db.chunks import upsert_chunk
    from product_importer.ingest.rows import parse_chunk

    import_id, import_no, chunk_no, start, end, first_row = task
    began = time.perf_counter()
    handle = _worker["file"]
    handle.seek(start)
    data = handle.read(end - start)  # stands in for the ranged GET
    header = _worker["header"]
    parsed = parse_chunk(data, header, first_row)
    present = set(header.field_index) | ({"attributes"} if header.attribute_columns else set())
    upsert_chunk(_worker["conn"], import_id=import_id, import_no=import_no, chunk_no=chunk_no,
                 present_fields=present, rows=parsed.rows, errors=parsed.errors, rows_seen=parsed.rows_seen)
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
        header, data_start = read_header(handle)
    with psycopg.connect(url) as conn:
        import_no = next_import_number(conn)
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(workers, initializer=_init, initargs=(url, str(path), header.raw)) as pool:
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
