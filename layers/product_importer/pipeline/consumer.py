"""``process_chunk``: what happens to one byte-range chunk (DESIGN decisions 2–4 and 8).

The chunk's range of the pinned object version is read as a stream and parsed a run of records at a time
(about one MiB), so memory follows the chunk's rows, never a whole range parsed at once; the import's plan
(stored once, at its first split) says how. Then one PostgreSQL transaction (products, row errors, ledger,
totals) and an absolute progress snapshot in DynamoDB, which completes the import if this was its last
chunk. Delivered twice, crashed after the commit, or run concurrently with itself, it counts exactly once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import compress
from typing import Any

import psycopg

from product_importer.db.chunks import upsert_chunk
from product_importer.ingest.header import Header, resolve_header
from product_importer.ingest.records import RecordBatch, read_records
from product_importer.ingest.rows import ParsedChunk, RowError, _plan
from product_importer.models import ChunkMessage, ChunkResult
from product_importer.pipeline.plans import PlanStore, SplitPlan
from product_importer.progress import ProgressStore
from product_importer.storage import ObjectStore

logger = logging.getLogger(__name__)


class PlanMissingError(RuntimeError):
    """A chunk of an import that has no plan: never split here (retrying will not help, the DLQ will end it)."""


@dataclass
class ConsumerPorts:
    objects: ObjectStore
    progress: ProgressStore
    plans: PlanStore
    connection: Callable[[], psycopg.Connection]  # this container's one reused connection
    write_chunk: Callable[..., ChunkResult] = upsert_chunk  # the one PostgreSQL transaction (tests: a fake)
    stored_errors: int = 1000  # row errors a chunk stores at most; its counts stay exact
    read_block: int = field(default=1 << 20)


@dataclass
class ChunkRows:
    """What a chunk's records came to: valid rows, the first ``stored_errors`` row errors, exact counts."""

    rows: list[tuple] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    rows_seen: int = 0  # imported + failed
    rows_failed: int = 0
    rows_skipped: int = 0  # blank rows


def process_chunk(message: ChunkMessage, ports: ConsumerPorts) -> ChunkResult:
    clock = _Stopwatch()
    plan = ports.plans.get(message.import_id)
    if plan is None:
        raise PlanMissingError(f"import {message.import_id} has no plan")
    stream = ports.objects.stream_range(message.bucket, message.key, message.version_id, message.start, message.end)
    try:
        parsed = read_chunk(stream, message, plan, ports.stored_errors, ports.read_block)
    finally:
        close = getattr(stream, "close", None)
        if close is not None:
            close()
    clock.lap("read+parse")
    conn = ports.connection()
    result = ports.write_chunk(
        conn,
        import_id=message.import_id,
        import_no=message.import_no,
        chunk_no=message.chunk_no,
        present_fields=present_fields(plan),
        rows=parsed.rows,
        errors=parsed.errors,
        rows_seen=parsed.rows_seen,
    )
    clock.lap("database")
    if result.chunk.replayed:
        logger.info("chunk %s/%d was already committed: repairing progress only", message.import_id, message.chunk_no)
    ports.progress.publish_totals(message.import_id, result.totals)  # repairs a lost update on replay
    clock.lap("progress")
    logger.debug("chunk %s/%d: %s", message.import_id, message.chunk_no, clock)
    return result


def read_chunk(stream: Any, message: ChunkMessage, plan: SplitPlan, stored_errors: int,
               block_size: int = 1 << 20) -> ChunkRows:
    """Parse a chunk's range, batch by batch, into rows and (at most ``stored_errors``) row errors."""
    out = ChunkRows()
    for batch in read_records(stream, start=message.start, end=message.end, delimiter=plan.delimiter,
                              encoding=plan.data_encoding, first_row=message.first_row,
                              max_record=plan.max_record_bytes, block_size=block_size):
        parsed, skipped = _validate(batch, plan)
        out.rows.extend(parsed.rows)
        out.rows_seen += parsed.rows_seen
        out.rows_failed += parsed.rows_seen - len(parsed.rows)
        out.rows_skipped += skipped
        room = stored_errors - len(out.errors)
        if room > 0:
            out.errors.extend(parsed.errors[:room])
    return out


def present_fields(plan: SplitPlan) -> set[str]:
    """The fields an imported row sets (a column the file lacks leaves the stored value alone)."""
    header = _header(plan.file_plan["header"])
    present = set(header.field_index)
    if header.attribute_columns:
        present.add("attributes")
    return present


# -- interim validation over the ingest package's current rules (its parse_rows will take the batch as is) --


@lru_cache(maxsize=64)
def _header(text: str) -> Header:
    return resolve_header(text.encode("utf-8"))


def _validate(batch: RecordBatch, plan: SplitPlan) -> tuple[ParsedChunk, int]:
    rules = _plan(_header(plan.file_plan["header"]))
    keep = [bool(record) or i in batch.broken for i, record in enumerate(batch.records)]
    skipped = keep.count(False)
    indexes = list(compress(range(len(batch.records)), keep))
    broken = [RowError(batch.first_row + i, None, None, batch.broken[i].message, batch.broken[i].excerpt or None)
              for i in indexes if i in batch.broken]
    good = [i for i in indexes if i not in batch.broken]
    records = [batch.records[i] for i in good]
    numbers = [batch.first_row + i for i in good]
    has_nul = any("\x00" in cell for record in records for cell in record)
    structural = rules.structural_errors(records, numbers, batch.lossy, has_nul, False)
    if structural:
        fine = [i not in structural for i in range(len(records))]
        records, numbers = list(compress(records, fine)), list(compress(numbers, fine))
    rows, errors = rules.validate(records, numbers)
    errors = sorted([*errors, *structural.values(), *broken], key=lambda e: e.row)
    return ParsedChunk(rows, errors, len(indexes)), skipped


class _Stopwatch:
    """Where a chunk's time goes (read+parse / database / progress), for logs and benchmarks."""

    def __init__(self) -> None:
        self.laps: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = now - self._last
        self._last = now

    def __str__(self) -> str:
        return " ".join(f"{name} {seconds * 1000:.0f} ms" for name, seconds in self.laps.items())
