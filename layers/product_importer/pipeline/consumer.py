"""``process_chunk``: what happens to one byte-range chunk (DESIGN decisions 2–4).

Ranged GET of the pinned version → parse and validate → one PostgreSQL transaction (products, row
errors, ledger, totals) → an absolute progress snapshot in DynamoDB → the end of the run if this was the
last (``pipeline.finish``). Delivered twice, crashed after the commit, or run concurrently with itself, it
counts exactly once. A chunk that takes ``rows_failed`` past the import's ``max_errors`` fails the import.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from product_importer.ingest.header import resolve_header
from product_importer.ingest.rows import parse_chunk
from product_importer.models import ChunkMessage, ChunkResult
from product_importer.pipeline import finish
from product_importer.ports import ChunkLedger, JobLedger, MessageQueue, ObjectStore, ProgressStore

logger = logging.getLogger(__name__)


@dataclass
class ConsumerPorts:
    objects: ObjectStore
    progress: ProgressStore
    ledger: ChunkLedger  # the one PostgreSQL transaction per chunk
    jobs: JobLedger  # PostgreSQL's side of an import's end, its replace and its revert
    chunks: MessageQueue  # this queue: where a long replace continues
    time_left: Callable[[], float] = finish.unlimited  # seconds this invocation may still run

    def job_ports(self) -> finish.JobPorts:
        return finish.JobPorts(self.progress, self.jobs, self.chunks, self.time_left)


def process_chunk(message: ChunkMessage, ports: ConsumerPorts) -> ChunkResult:
    clock = _Stopwatch()
    data = ports.objects.read_range(message.bucket, message.key, message.version_id, message.start, message.end)
    clock.lap("read")
    header = resolve_header(message.header.encode("utf-8"))
    parsed = parse_chunk(data, header, message.first_row)
    clock.lap("parse")
    present = set(header.field_index)
    if header.attribute_columns:
        present.add("attributes")
    result = ports.ledger.write_chunk(
        import_id=message.import_id,
        import_no=message.import_no,
        chunk_no=message.chunk_no,
        present_fields=present,
        rows=parsed.rows,
        errors=parsed.errors,
        rows_seen=parsed.rows_seen,
        rows_skipped=parsed.rows_skipped,
        max_errors=message.max_errors,
        mode=message.mode,
    )
    clock.lap("database")
    if result.chunk.replayed:
        logger.info("chunk %s/%d was already committed: repairing progress only", message.import_id, message.chunk_no)
    if result.import_failed:
        # This chunk failed the import (max_errors passed), or it had failed before: PostgreSQL says so.
        ports.progress.record_totals(message.import_id, result.totals)
        ports.progress.fail(message.import_id, result.error or finish.TOO_MANY_ROW_ERRORS)
    else:
        finish.after_chunk(message.import_id, result.totals, ports.job_ports())  # repairs a lost update on replay
    clock.lap("progress")
    logger.debug("chunk %s/%d: %s", message.import_id, message.chunk_no, clock)
    return result


class _Stopwatch:
    """Where a chunk's time goes (read / parse / database / progress), for logs and benchmarks."""

    def __init__(self) -> None:
        self.laps: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = now - self._last
        self._last = now

    def __str__(self) -> str:
        return " ".join(f"{name} {seconds * 1000:.0f} ms" for name, seconds in self.laps.items())
