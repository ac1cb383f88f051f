"""The ingestion core over a local file, chunk by chunk in warm worker processes (like consumers).

The same harness times this tree's code and an older tree's (``run.py --baseline-ref``): the code under
test is whatever ``product_importer`` is on ``sys.path``.

- This tree: each chunk goes through the consumer's own ``pipeline.consumer.process_chunk`` (the range
  streamed through the record scanner, ``parse_rows``, ``upsert_chunk`` through ``PostgresChunkLedger``),
  with the object store a local file and the progress store a no-op: no AWS call is timed.
- An older tree without that consumer (``1a9d6ed``): what its consumer did, the range read into bytes,
  ``parse_chunk`` and ``upsert_chunk``.

The split streams ranges to the workers while it reads, like the splitter (with this tree's chunk
limits: rows and bytes per chunk, row families kept together).
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from tests.bench.memory import peak_rss_kb
from tests.bench.splitter import chunk_limits

BUCKET = "bench"
_worker: dict[str, Any] = {}


def streaming_consumer() -> bool:
    """Is the code under test this tree's consumer (streamed ranges, stored plans)?"""
    try:
        from product_importer.ingest.records import read_records  # noqa: F401
        from product_importer.pipeline.consumer import process_chunk  # noqa: F401
    except ImportError:
        return False
    return "plans" in {f.name for f in dataclasses.fields(_consumer_ports_class())}


def _consumer_ports_class() -> Any:
    from product_importer.pipeline.consumer import ConsumerPorts

    return ConsumerPorts


# ---- the ports of a consumer on one machine --------------------------------------------------------------

class _Null:
    """A port whose every call does nothing and answers None (the progress store: no DynamoDB)."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return lambda *args, **kwargs: None


class FileObjects:
    """``ObjectStore`` over local files: the key is the path."""

    def read_range(self, bucket: str, key: str, version_id: str | None, start: int, end: int) -> bytes:
        with open(key, "rb") as handle:
            handle.seek(start)
            return handle.read(end - start)

    def stream_range(self, bucket: str, key: str, version_id: str | None, start: int, end: int) -> Any:
        handle = open(key, "rb")  # noqa: SIM115 - the consumer closes it
        handle.seek(start)
        return handle

    def stream_from(self, bucket: str, key: str, version_id: str | None, start: int) -> Any:
        return self.stream_range(bucket, key, version_id, start, -1)


class TimedLedger:
    """The ledger, timing its one PostgreSQL transaction per chunk (``seconds``: the last call's)."""

    def __init__(self, ledger: Any) -> None:
        self._ledger = ledger
        self.seconds = 0.0

    def write_chunk(self, **kwargs: Any) -> Any:
        began = time.perf_counter()
        try:
            return self._ledger.write_chunk(**kwargs)
        finally:
            self.seconds = time.perf_counter() - began

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ledger, name)


class OnePlan:
    """``PlanStore`` holding one pinned plan."""

    def __init__(self, plan: Any) -> None:
        self.plan = plan

    def get(self, import_id: str) -> Any:
        return self.plan if self.plan.import_id == import_id else None

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return lambda *args, **kwargs: None


def consumer_ports(conn: psycopg.Connection, plan: Any) -> Any:
    """The consumer's ports: the real PostgreSQL ledger, a local file, the plan, no-ops for the rest."""
    from product_importer.db.ledger import PostgresChunkLedger

    cls = _consumer_ports_class()
    given: dict[str, Any] = {"objects": FileObjects(), "progress": _Null(), "plans": OnePlan(plan),
                             "ledger": TimedLedger(PostgresChunkLedger(lambda: conn))}
    for field in dataclasses.fields(cls):
        needed = field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING
        if needed and field.name not in given:
            given[field.name] = _Null()  # ports added since (job ledger, queues): unused by an import
    return cls(**{k: v for k, v in given.items() if k in {f.name for f in dataclasses.fields(cls)}})


def split_plan(path: Path, import_id: str, *, mode: str, chunk_rows: int) -> Any:
    """The plan the splitter pins for ``path`` (the header sniffed from the first MiB)."""
    from product_importer.ingest.header import SNIFF_BYTES, sniff
    from product_importer.models import SplitPlan

    size = path.stat().st_size
    with path.open("rb") as handle:
        head = handle.read(SNIFF_BYTES)
    file_plan = sniff(head, file_size=size)
    limits = chunk_limits()
    fields = {"import_id": import_id, "bucket": BUCKET, "key": str(path), "size": size,
              "file_plan": file_plan.to_json(), "delimiter": file_plan.delimiter,
              "data_encoding": file_plan.data_encoding, "data_start": file_plan.data_start,
              "family_column": file_plan.family_column, "rows_per_chunk": chunk_rows,
              "bytes_per_chunk": limits["bytes_per_chunk"], "max_record_bytes": limits["max_record_bytes"],
              "mode": mode}
    return SplitPlan(**{k: v for k, v in fields.items() if k in SplitPlan.model_fields})


# ---- the workers -------------------------------------------------------------------------------------------

def _init(url: str, path: str, setup: str, streaming: bool) -> None:
    _worker["conn"] = psycopg.connect(url)
    _worker["streaming"] = streaming
    if streaming:
        from product_importer.models import SplitPlan

        plan = SplitPlan.model_validate_json(setup)
        _worker["plan"] = plan
        _worker["ports"] = consumer_ports(_worker["conn"], plan)
    else:
        from product_importer.ingest.header import resolve_header

        _worker["file"] = open(path, "rb")  # noqa: SIM115 - lives as long as the worker
        _worker["header"] = resolve_header(setup.encode("utf-8"))


def _chunk(task: tuple) -> tuple[float, float, int]:
    """(seconds, seconds in the database transaction, the worker's peak RSS in KiB)."""
    began = time.perf_counter()
    database = _streamed_chunk(task) if _worker["streaming"] else _whole_chunk(task)
    return time.perf_counter() - began, database, peak_rss_kb()


def _streamed_chunk(task: tuple) -> float:
    from product_importer.models import ChunkMessage
    from product_importer.pipeline.consumer import process_chunk

    import_id, import_no, chunk_no, start, end, first_row, rows, context = task
    plan = _worker["plan"]
    message = ChunkMessage(import_id=import_id, import_no=import_no, bucket=BUCKET, key=plan.key,
                           chunk_no=chunk_no, start=start, end=end, first_row=first_row, rows=rows,
                           context=context)
    result = process_chunk(message, _worker["ports"])
    if not result.written:
        raise RuntimeError(f"chunk {chunk_no} of {import_id} was not written: {result.error}")
    return float(_worker["ports"].ledger.seconds)


def _whole_chunk(task: tuple) -> float:
    from product_importer.db.chunks import upsert_chunk
    from product_importer.ingest.rows import parse_chunk

    import_id, import_no, chunk_no, start, end, first_row, _rows, _context = task
    handle = _worker["file"]
    handle.seek(start)
    data = handle.read(end - start)  # stands in for the ranged GET
    header = _worker["header"]
    parsed = parse_chunk(data, header, first_row)
    present = set(header.field_index) | ({"attributes"} if header.attribute_columns else set())
    began = time.perf_counter()
    upsert_chunk(_worker["conn"], import_id=import_id, import_no=import_no, chunk_no=chunk_no,
                 present_fields=present, rows=parsed.rows, errors=parsed.errors, rows_seen=parsed.rows_seen)
    return time.perf_counter() - began


def _warm(_: int) -> int:
    return 0


# ---- one pass ------------------------------------------------------------------------------------------------

@dataclass
class CoreRun:
    seconds: float
    rows: int  # rows_processed as committed
    chunks: int
    chunk_ms: list[float]
    database_ms: list[float]  # per chunk: its PostgreSQL transaction (the rest: read, parse, validate)
    worker_peak_rss_mb: float
    totals: dict[str, int]
    read_as: dict[str, str] = dataclasses.field(default_factory=dict)  # the plan's encoding and profile


def import_file(url: str, path: Path, *, import_id: str, chunk_rows: int, workers: int,
                mode: str = "import") -> CoreRun:
    """Import ``path`` with ``workers`` warm worker processes (like warm consumer containers: their
    start-up is not timed); the split streams ranges to them while it reads, like the splitter.
    ``mode="preview"``: the same chunks as a preview (compare and record, write no product)."""
    from product_importer.db.chunks import next_import_number

    streaming = streaming_consumer()
    if mode != "import" and not streaming:
        raise RuntimeError("the code under test has no preview")
    with psycopg.connect(url) as conn:
        import_no = next_import_number(conn)
    read_as: dict[str, str] = {}
    if streaming:
        plan = split_plan(path, import_id, mode=mode, chunk_rows=chunk_rows)
        setup = plan.model_dump_json()
        read_as = {"encoding": plan.file_plan.get("encoding"), "profile": plan.file_plan.get("profile")}
    else:
        from product_importer.ingest.header import read_header

        with path.open("rb") as handle:
            header, _ = read_header(handle)
        setup = header.raw.decode("utf-8")
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(workers, initializer=_init, initargs=(url, str(path), setup, streaming)) as pool:
        pool.map(_warm, range(workers * 4), chunksize=1)
        began = time.perf_counter()
        tasks = ((import_id, import_no, r.chunk_no, r.start, r.end, r.first_row, r.rows,
                  getattr(r, "context", None)) for r in _ranges(path, chunk_rows, streaming))
        results = list(pool.imap_unordered(_chunk, tasks, chunksize=1))
        elapsed = time.perf_counter() - began
    _finish(url, import_id, "previewed" if mode == "preview" else "completed")
    totals = read_totals(url, import_id)
    return CoreRun(elapsed, totals.get("rows_processed", 0), len(results), [r[0] * 1000 for r in results],
                   [r[1] * 1000 for r in results], max(r[2] for r in results) / 1024, totals, read_as)


def _ranges(path: Path, chunk_rows: int, streaming: bool) -> Any:
    """The splitter's cuts of ``path``, lazily (a generator: the split overlaps the workers)."""
    from tests.bench.splitter import ranges

    return ranges(path, chunk_rows, families=streaming)


def _finish(url: str, import_id: str, status: str) -> None:
    """End the import in the registry, as the last chunk's consumer does (code that has one)."""
    try:
        from product_importer.db.registry import finish_import
    except ImportError:
        return
    with psycopg.connect(url) as conn:
        finish_import(conn, import_id, status)  # type: ignore[arg-type]
        conn.commit()


def read_totals(url: str, import_id: str) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        cur = conn.execute("SELECT * FROM import_totals WHERE import_id = %s", (import_id,))
        row = cur.fetchone()
        if row is None or cur.description is None:
            return {}
        return {d.name: v for d, v in zip(cur.description, row, strict=True) if isinstance(v, int)}
