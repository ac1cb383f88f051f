"""``process_chunk``: what happens to one byte-range chunk (DESIGN decisions 2–4 and 8).

The chunk's range of the pinned object version is read as a stream through the same record scanner
that cut it, and validated a run of records at a time (about one MiB), with the import's plan (stored
once, at its first split). Memory follows the chunk's valid rows, never a whole range parsed at once.
Then one PostgreSQL transaction (products, row errors, ledger, totals) and an absolute progress snapshot
in DynamoDB; if this was its last chunk, the run ends there (``pipeline.finish``: completed, or previewed,
after its replace). Delivered twice, crashed after the
commit, or run concurrently with itself, it counts exactly once.

Every row error of a chunk is stored (a chunk has at most ``CHUNK_ROWS`` rows, one error each, with
excerpts of bounded length), until the import has 100,000 (CONTRACT §1: PostgreSQL keeps at most that
many per import, under the totals lock); ``rows_failed`` stays exact either way.
"""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from product_importer.ingest.plan import FilePlan
from product_importer.ingest.records import read_records
from product_importer.ingest.rows import RowError, family_values, parent_names, parse_rows
from product_importer.ingest.rules import LOOKUP_BYTES
from product_importer.models import ChunkCounts, ChunkMessage, ChunkResult, SplitPlan
from product_importer.pipeline import finish, lifecycle
from product_importer.ports import (
    ChunkLedger,
    JobLedger,
    MessageQueue,
    ObjectGoneError,
    ObjectStore,
    PlanStore,
    ProgressStore,
)

logger = logging.getLogger(__name__)


class PlanMissingError(RuntimeError):
    """A chunk of an import without a plan (never split here): retries will not help; the DLQ ends it."""


@dataclass
class ConsumerPorts:
    objects: ObjectStore
    progress: ProgressStore
    ledger: ChunkLedger  # the one PostgreSQL transaction per chunk
    plans: PlanStore
    jobs: JobLedger  # PostgreSQL's side of an import's end, its replace and its revert
    chunks: MessageQueue  # this queue: where a long replace continues
    stored_errors: int = 100_000  # row errors one chunk stores at most (its counts stay exact): all, by default
    read_block: int = 1 << 20
    time_left: Callable[[], float] = finish.unlimited  # seconds this invocation may spend before it hands over
    # (receipt handle, seconds): when a failed chunk's message is received again (SQS ChangeMessageVisibility);
    # None: after the queue's own visibility timeout
    retry_later: Callable[[str, int], None] | None = None

    def job_ports(self) -> finish.JobPorts:
        return finish.JobPorts(self.progress, self.ledger, self.jobs, self.chunks, self.time_left)


@dataclass
class ChunkRows:
    """What a chunk's records came to: the valid rows, the first row errors, exact counts."""

    rows: list[tuple[Any, ...]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    rows_seen: int = 0  # imported + failed
    rows_skipped: int = 0  # blank rows, rows the profile skips
    warnings: list[str] = field(default_factory=list)
    missing_parents: frozenset[str] = frozenset()  # variations' parents not in the chunk (ParsedChunk's)
    missing_families: frozenset[str] = frozenset()  # families whose first row is not in the chunk


def process_chunk(message: ChunkMessage, ports: ConsumerPorts) -> ChunkResult:
    clock = _Stopwatch()
    plan = ports.plans.get(message.import_id)
    if plan is None:
        raise PlanMissingError(f"import {message.import_id} has no plan")
    file_plan = _file_plan(plan)
    try:
        context = _family_context(message, plan, file_plan, ports.objects, ports.read_block)
        parsed = _read_range(message, plan, file_plan, ports, context)
        if parsed.missing_parents:
            parsed = _with_parents_elsewhere(parsed, message, plan, file_plan, context, ports)
        if parsed.missing_families:
            parsed = _with_families_elsewhere(parsed, message, plan, file_plan, context, ports)
    except ObjectGoneError:
        # The pinned version was deleted while the import ran: no retry can read it. End the import now,
        # with a reason, instead of after every receive of every chunk left (an hour in AWS).
        lifecycle.fail_import(ports.progress, ports.ledger, message.import_id, lifecycle.FILE_GONE_WHILE_IMPORTING)
        totals = ports.ledger.committed_totals(message.import_id)
        return ChunkResult(ChunkCounts(0, 0, 0, 0, 0, 0), totals, import_failed=True, written=False,
                           error=lifecycle.FILE_GONE_WHILE_IMPORTING)
    clock.lap("read+parse")
    if plan.max_errors is not None and parsed.rows_seen > len(parsed.rows):
        committed = ports.ledger.committed_totals(message.import_id).rows_failed
        parsed = stop_at_error_limit(parsed, message.first_row, plan.max_errors - committed)
    result = ports.ledger.write_chunk(
        import_id=message.import_id,
        import_no=message.import_no,
        chunk_no=message.chunk_no,
        present_fields=file_plan.present_fields,
        rows=parsed.rows,
        errors=parsed.errors,
        rows_seen=parsed.rows_seen,
        rows_skipped=parsed.rows_skipped,
        max_errors=plan.max_errors,
        mode=plan.mode,
    )
    clock.lap("database")
    if result.import_failed:
        if result.error:  # this chunk passed max_errors: the import stops ("too many row errors")
            ports.progress.record_totals(message.import_id, result.totals)  # with what this chunk committed
            ports.progress.fail(message.import_id, result.error)
        logger.info("chunk %s/%d: the import has failed", message.import_id, message.chunk_no)
        return result
    if not result.written:
        logger.info("chunk %s/%d: the import had ended; nothing written", message.import_id, message.chunk_no)
        return result
    for replace_id, deactivated in result.late_deactivated:  # newer replaces this chunk's rows were late for
        ports.progress.record_late_deactivated(replace_id, deactivated)
    if result.chunk.replayed:
        logger.info("chunk %s/%d was already committed: repairing progress only", message.import_id, message.chunk_no)
    for warning in parsed.warnings:  # before the end is recorded, so the final Import carries them
        ports.progress.add_warning(message.import_id, warning)
    finish.after_chunk(message.import_id, result.totals, ports.job_ports())  # repairs a lost update on replay
    clock.lap("progress")
    logger.debug("chunk %s/%d: %s", message.import_id, message.chunk_no, clock)
    return result


RETRY_BASE_S = 15  # a failed chunk comes back after 15, 30, 60, 120 s …, at most the queue's visibility timeout


def retry_delay(receive_count: int, ceiling_s: int) -> int:
    """Seconds before a chunk that failed on its ``receive_count``-th receive is tried again: a blip (the
    database restarting) costs seconds, and a chunk that always fails reaches the dead-letter queue, which
    ends its import ``failed``, in minutes (5 receives: ~4 minutes) instead of 5 visibility timeouts."""
    return min(ceiling_s, RETRY_BASE_S * 2 ** max(0, receive_count - 1))


def read_chunk(stream: Any, message: ChunkMessage, plan: SplitPlan, file_plan: FilePlan, *, stored_errors: int,
               block_size: int = 1 << 20, context: dict[str, Any] | None = None) -> ChunkRows:
    """Parse a chunk's range, batch by batch, into rows and (at most ``stored_errors``) row errors."""
    out = ChunkRows()
    for batch in read_records(stream, start=message.start, end=message.end, delimiter=plan.delimiter,
                              encoding=plan.data_encoding, first_row=message.first_row,
                              max_record=plan.max_record_bytes, block_size=block_size):
        parsed = parse_rows(batch.records, file_plan, batch.first_row, broken=batch.broken, lossy=batch.lossy,
                            has_nul=batch.has_nul, excel_text=batch.excel_text, family_context=context)
        context = parsed.family_tail
        out.rows.extend(parsed.rows)
        out.rows_seen += parsed.rows_seen
        out.rows_skipped += parsed.rows_skipped
        out.warnings.extend(w for w in parsed.warnings if w not in out.warnings)
        out.missing_parents |= parsed.missing_parents
        out.missing_families |= parsed.missing_families
        room = stored_errors - len(out.errors)
        if room > 0:
            out.errors.extend(parsed.errors[:room])
    return out


def stop_at_error_limit(parsed: ChunkRows, first_row: int, allowed: int) -> ChunkRows:
    """The chunk as far as its row that fails once more than ``allowed`` more rows may (CONTRACT §1
    ``max_errors``: once more rows than that have failed, the import stops): the rows after it are not
    written, read or counted. ``allowed``: ``max_errors`` minus the failures other chunks committed
    before this one (its import's committed totals); rows processed in chunks running meanwhile can
    make the stop a little late, never early. Unchanged when the chunk stays within ``allowed``, or
    when some of its row errors were not kept (then the rows it failed are not all known)."""
    failed_rows = sorted({e.row for e in parsed.errors})
    if parsed.rows_seen - len(parsed.rows) <= max(allowed, 0) or len(failed_rows) != parsed.rows_seen - len(parsed.rows):
        return parsed
    last = failed_rows[max(allowed, 0)]  # the row whose failure is one more than the limit allows
    rows = [r for r in parsed.rows if r[0] < last]
    failed = max(allowed, 0) + 1
    read = last - first_row + 1  # every row takes a number: valid, failed or skipped (blank, a profile's)
    skipped = min(parsed.rows_skipped, max(0, read - len(rows) - failed))
    return ChunkRows(rows, [e for e in parsed.errors if e.row <= last], len(rows) + failed, skipped,
                     parsed.warnings)


def _family_context(message: ChunkMessage, plan: SplitPlan, file_plan: FilePlan, objects: ObjectStore,
                    block_size: int) -> dict[str, Any] | None:
    """A chunk that starts inside a row family (a Shopify product) reads the family's first row, as its
    rows would in a chunk that holds the whole family (the splitter gives a row, never a record the
    reading rejects)."""
    if message.context is None:
        return None
    start, end = message.context
    data = objects.read_range(message.bucket, message.key, message.version_id, start, end)
    context = None
    for batch in read_records(io.BytesIO(data), start=start, end=end, delimiter=plan.delimiter,
                              encoding=plan.data_encoding, first_row=1, max_record=plan.max_record_bytes,
                              block_size=block_size):
        context = parse_rows(batch.records, file_plan, batch.first_row, broken=batch.broken, lossy=batch.lossy,
                             has_nul=batch.has_nul, excel_text=batch.excel_text, family_context=context).family_tail
    return context


def _with_parents_elsewhere(parsed: ChunkRows, message: ChunkMessage, plan: SplitPlan, file_plan: FilePlan,
                            context: dict[str, Any] | None, ports: ConsumerPorts) -> ChunkRows:
    """The chunk read again with its variations' parents (name, stock) found elsewhere in the file.

    CONTRACT §1 (WooCommerce): a variation with an empty name takes its parent's, wherever the parent's row
    is: WooCommerce's exporter writes rows in ID order, so a variation added later comes after other
    products, often in a later chunk than its parent's row. Only a chunk with such variations pays (see
    ``_parents_in_file``). ``parsed`` as it is when none is found."""
    found = _parents_in_file(parsed.missing_parents, message, plan, file_plan, ports)
    if not found:
        return parsed
    parents = {**found, **((context or {}).get("parents") or {})}
    return _read_range(message, plan, file_plan, ports, {**(context or {}), "parents": parents})


def _read_range(message: ChunkMessage, plan: SplitPlan, file_plan: FilePlan, ports: ConsumerPorts,
                context: dict[str, Any] | None) -> ChunkRows:
    """The chunk's range, streamed and parsed with ``context`` (the family it starts in; rows found
    elsewhere in the file, when it is read again)."""
    stream = ports.objects.stream_range(message.bucket, message.key, message.version_id, message.start, message.end)
    try:
        return read_chunk(stream, message, plan, file_plan, stored_errors=ports.stored_errors,
                          block_size=ports.read_block, context=context)
    finally:
        close = getattr(stream, "close", None)
        if close is not None:
            close()


def _with_families_elsewhere(parsed: ChunkRows, message: ChunkMessage, plan: SplitPlan, file_plan: FilePlan,
                             context: dict[str, Any] | None, ports: ConsumerPorts) -> ChunkRows:
    """The chunk read again with the first rows of its families that began elsewhere in the file.

    CONTRACT §1 (Shopify): rows sharing a Handle are one family, and a variant's empty cells take the
    family's first row's values, even when the family's rows are not next to each other (a sheet sorted by
    another column). The splitter keeps adjacent rows together; only a chunk holding a row whose family
    began elsewhere (its first row here has no Title) pays: it reads the file from the start, at most to its
    own end and ``ELSEWHERE_MAX_BYTES``, until it has found those families' first rows. A process that
    found none for an import looks no more for it: in a file whose rows have no Title (all of them fail),
    each chunk would read the file."""
    if plan.import_id in _fruitless_family_lookups:
        return parsed
    missing = set(parsed.missing_families)
    found: dict[str, dict[str, str]] = {}
    for records in _records_elsewhere(message, plan, ports, until=message.end):
        found.update(family_values(records, file_plan, missing))
        missing.difference_update(found)
        if not missing:
            break
    name_column = file_plan.field_index.get("name")
    title = file_plan.names[name_column] if name_column is not None and name_column < len(file_plan.names) else None
    if not any(values.get(title or "") for values in found.values()):
        if len(_fruitless_family_lookups) >= 64:
            _fruitless_family_lookups.clear()
        _fruitless_family_lookups.add(plan.import_id)
    if not found:
        return parsed
    families = {**((context or {}).get("families") or {}), **found}
    return _read_range(message, plan, file_plan, ports, {**(context or {}), "families": families})


# How much of the file a chunk reads to find the rows its own rows need from elsewhere (a WooCommerce parent,
# a Shopify family's first row): its first 256 MiB (~1M rows of a platform export). Without a bound a
# chunk near the end of a 5 GiB file read it whole (past the consumer's 120 s, and once per chunk: the
# import failed through the dead-letter queue). Beyond, such a row is read on its own (a variation without
# its parent's name is a row error that says where parents are looked up).
ELSEWHERE_MAX_BYTES = LOOKUP_BYTES


def _records_elsewhere(message: ChunkMessage, plan: SplitPlan, ports: ConsumerPorts, *,
                       until: int) -> Iterator[list[list[str]]]:
    """The file's records from its first data row to ``until``, at most ``ELSEWHERE_MAX_BYTES`` of them,
    batch by batch. A record cut by that bound is left out (its last cell would be cut short)."""
    end = min(until, plan.data_start + ELSEWHERE_MAX_BYTES)
    cut = end < until
    stream = ports.objects.stream_range(message.bucket, message.key, message.version_id, plan.data_start, end)
    try:
        batches = read_records(stream, start=plan.data_start, end=end, delimiter=plan.delimiter,
                               encoding=plan.data_encoding, first_row=1, max_record=plan.max_record_bytes,
                               block_size=ports.read_block)
        previous = next(batches, None)
        for batch in batches:
            assert previous is not None
            yield previous.records
            previous = batch
        if previous is not None:
            yield previous.records[:-1] if cut else previous.records
    finally:
        close = getattr(stream, "close", None)
        if close is not None:
            close()


_fruitless_family_lookups: set[str] = set()  # imports whose family lookup found no first row with a Title


MAX_PARENT_INDEX = 200_000  # parent keys (id:N, SKU) of one file a consumer keeps: some tens of MB at most
_parent_indexes: dict[str, dict[str, list[str]]] = {}  # import → every parent of its file (one whole read)


def _parents_in_file(wanted: frozenset[str], message: ChunkMessage, plan: SplitPlan, file_plan: FilePlan,
                     ports: ConsumerPorts) -> dict[str, list[str]]:
    """``[name, stock]`` of the parents ``wanted`` that the file holds anywhere.

    The first chunk of an import that needs it reads the file once (its first ``ELSEWHERE_MAX_BYTES``) and
    keeps every row that may be a parent (per process, for the next chunks: a file whose variations all
    refer elsewhere costs one read per process, not one per chunk); past ``MAX_PARENT_INDEX`` parent keys,
    each chunk that needs it reads only until its parents are found."""
    index = _parent_indexes.get(plan.import_id)
    if index is not None:
        return {key: index[key] for key in wanted if key in index}
    missing = set(wanted)
    found: dict[str, list[str]] = {}
    whole: dict[str, list[str]] | None = {}
    for records in _records_elsewhere(message, plan, ports, until=plan.size):
        if whole is not None:
            for key, entry in parent_names(records, file_plan, None).items():
                whole.setdefault(key, entry)
            if len(whole) > MAX_PARENT_INDEX:  # too many to keep: look for this chunk's parents only
                found = {key: whole[key] for key in missing if key in whole}
                missing.difference_update(found)
                whole = None
        if whole is None:
            found.update((k, v) for k, v in parent_names(records, file_plan, missing).items() if k not in found)
            missing.difference_update(found)
            if not missing:
                break
    if whole is None:
        return found
    if len(_parent_indexes) >= 2:  # one import's at a time, mostly (tens of MB each at most)
        _parent_indexes.clear()
    _parent_indexes[plan.import_id] = whole
    return {key: whole[key] for key in wanted if key in whole}


_file_plans: dict[str, FilePlan] = {}


def _file_plan(plan: SplitPlan) -> FilePlan:
    """The import's FilePlan, built once per import and process (a pinned plan never changes)."""
    found = _file_plans.get(plan.import_id)
    if found is None:
        if len(_file_plans) >= 64:
            _file_plans.clear()
        found = _file_plans[plan.import_id] = FilePlan.from_json(plan.file_plan)
    return found


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
