"""In-memory fakes of the pipeline's ports (``product_importer.ports``: ObjectStore, MessageQueue,
ProgressStore, ChunkLedger, PlanStore, JobLedger).

They keep the same contract as the real adapters (conditional progress writes, pinned object versions)
and record what was asked of them, so handler tests read as "event in → calls and response out". They
are typed as the ports (see the end of this module), so the ports take them without ``# type: ignore``.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import json
import threading
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, BinaryIO

from product_importer.ingest.plan import MAX_IMPORT_WARNINGS
from product_importer.ingest.rows import RowError
from product_importer.models import (
    ChunkCounts,
    ChunkMessage,
    ChunkResult,
    DeactivationStep,
    Import,
    ImportEnd,
    ImportMode,
    ImportStatus,
    ImportTotals,
    ReplaceEstimate,
    RevertProgress,
    SplitPlan,
    utcnow,
)
from product_importer.ports import ReplaceRefusedError, StoredCheckpoint
from product_importer.storage import ObjectGoneError, ObjectInfo, StorageError

if TYPE_CHECKING:
    from product_importer import ports

BUCKET = "uploads-bucket"


class FakeObjectStore:
    """A versioned bucket: every ``put`` makes a new version; reads are pinned to one."""

    def __init__(self) -> None:
        self._versions: dict[tuple[str, str], list[tuple[str, bytes]]] = {}
        self._counter = itertools.count(1)
        self.broken: set[str] = set()  # keys whose reads fail like an S3 outage (StorageError)
        self.reads: list[tuple[str, str, str | None, int, int]] = []

    def put(self, key: str, data: bytes, bucket: str = BUCKET) -> str:
        version = f"v{next(self._counter)}"
        self._versions.setdefault((bucket, key), []).append((version, data))
        return version

    def _get(self, bucket: str, key: str, version_id: str | None) -> tuple[str, bytes]:
        if key in self.broken:
            raise StorageError(f"InternalError: {key}")
        versions = self._versions.get((bucket, key))
        if not versions:
            raise ObjectGoneError("NoSuchKey")
        if version_id is None:
            return versions[-1]
        for version, data in versions:
            if version == version_id:
                return version, data
        raise ObjectGoneError("NoSuchVersion")

    def head(self, bucket: str, key: str, version_id: str | None) -> ObjectInfo:
        version, data = self._get(bucket, key, version_id)
        return ObjectInfo(len(data), hashlib.md5(data).hexdigest(), version)

    def read_range(self, bucket: str, key: str, version_id: str | None, start: int, end: int) -> bytes:
        self.reads.append((bucket, key, version_id, start, end))
        return self._get(bucket, key, version_id)[1][start:end]

    def stream_from(self, bucket: str, key: str, version_id: str | None, start: int) -> BinaryIO:
        return io.BytesIO(self._get(bucket, key, version_id)[1][start:])

    def stream_range(self, bucket: str, key: str, version_id: str | None, start: int, end: int) -> BinaryIO:
        self.reads.append((bucket, key, version_id, start, end))
        return io.BytesIO(self._get(bucket, key, version_id)[1][start:end])

    def write_stream(self, bucket: str, key: str, blocks: Iterable[bytes]) -> ObjectInfo:
        data = b"".join(blocks)
        version = self.put(key, data, bucket)
        return ObjectInfo(len(data), hashlib.md5(data).hexdigest(), version)


class FakeQueue:
    """The chunk queue: keeps every body sent, in order."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self.batches = 0

    def send_all(self, bodies: Iterable[dict[str, Any]]) -> int:
        batch: list[dict[str, Any]] = []
        count = 0
        for body in bodies:
            json.dumps(body)  # must be serialisable, as SQS needs
            batch.append(body)
            if len(batch) == 10:
                self.sent.extend(batch)
                self.batches += 1
                count += len(batch)
                batch = []
        if batch:
            self.sent.extend(batch)
            self.batches += 1
            count += len(batch)
        return count

    def messages(self) -> list[ChunkMessage]:
        return [ChunkMessage.model_validate(body) for body in self.sent]


_PENDING, _PROCESSING = ImportStatus.PENDING.value, ImportStatus.PROCESSING.value


class FakeProgress:
    """ProgressStore's contract in memory: conditional writes, status only forward, counted once."""

    def __init__(self) -> None:
        self.items: dict[str, dict[str, Any]] = {}
        self.calls: list[tuple[str, str]] = []  # (method, import_id), the writes asked for
        self._lock = threading.Lock()

    def create(
        self, imp: Import, *, import_no: int, bucket: str, key: str, version_id: str | None = None
    ) -> bool:
        with self._lock:
            self.calls.append(("create", imp.id))
            if imp.id in self.items:
                return False
            self.items[imp.id] = {
                **imp.model_dump(mode="json"),
                "import_no": import_no,
                "bucket": bucket,
                "object_key": key,
                "object_version": version_id,
            }
            return True

    def start(self, import_id: str, *, version_id: str | None, etag: str | None) -> bool:
        with self._lock:
            self.calls.append(("start", import_id))
            item = self.items.get(import_id)
            if item is None:
                return False
            retry = (
                item["status"] == _PROCESSING
                and item.get("chunks_total") is None
                and item.get("object_etag") == (etag or "")
            )
            if item["status"] != _PENDING and not retry:
                return False
            item.update(
                status=_PROCESSING,
                object_version=version_id or "",
                object_etag=etag or "",
                started_at=item.get("started_at") or utcnow(),
            )
            return True

    def set_totals(self, import_id: str, *, chunks_total: int, rows_total: int) -> bool:
        with self._lock:
            self.calls.append(("set_totals", import_id))
            item = self.items.get(import_id)
            if item is None or item["status"] != _PROCESSING:
                return False
            item.update(chunks_total=chunks_total, rows_total=rows_total)
            return True

    def record_totals(self, import_id: str, totals: ImportTotals) -> bool:
        with self._lock:
            self.calls.append(("record_totals", import_id))
            item = self.items.get(import_id)
            if item is None or item["status"] not in (_PENDING, _PROCESSING):
                return False
            if item.get("chunks_done") is not None and item["chunks_done"] >= totals.chunks_done:
                return False
            item.update(asdict(totals), updated_at=utcnow())
            return True

    def record_late_deactivated(self, import_id: str, products_deactivated: int) -> bool:
        with self._lock:
            self.calls.append(("record_late_deactivated", import_id))
            item = self.items.get(import_id)
            if item is None or (item.get("products_deactivated") or 0) >= products_deactivated:
                return False
            item.update(products_deactivated=products_deactivated, updated_at=utcnow())
            return True

    def record_deactivated(self, import_id: str, products_deactivated: int) -> bool:
        with self._lock:
            self.calls.append(("record_deactivated", import_id))
            item = self.items.get(import_id)
            if item is None or item["status"] != _PROCESSING:
                return False
            if (item.get("products_deactivated") or 0) >= products_deactivated:
                return False
            item.update(products_deactivated=products_deactivated, updated_at=utcnow())
            return True

    def record_snapshot(self, import_id: str, totals: ImportTotals) -> dict[str, Any] | None:
        recorded = self.record_totals(import_id, totals)
        return dict(self.items[import_id]) if recorded else None

    def finish(self, import_id: str, status: ImportStatus, committed: ImportTotals, *,
               replace: dict[str, Any] | None = None, warnings: Sequence[str] = ()) -> bool:
        with self._lock:
            self.calls.append(("finish", import_id))
            item = self.items.get(import_id)
            if item is None or item["status"] != _PROCESSING or item.get("chunks_total") != committed.chunks_done:
                return False
            item.update(asdict(committed), status=status.value, finished_at=utcnow())
            if replace is not None:
                item["replace"] = dict(replace)
            item["warnings"] = [*(item.get("warnings") or []), *warnings]
            return True

    def record_revert(self, import_id: str, requested_at: str, progress: RevertProgress) -> bool:
        with self._lock:
            self.calls.append(("record_revert", import_id))
            item = self.items.get(import_id)
            revert = (item or {}).get("revert") or {}
            if item is None or item["status"] != ImportStatus.REVERTING.value or revert.get("requested_at") != requested_at:
                return False
            if not progress.done and revert.get("chunks_done", -1) >= progress.chunks_done:
                return False
            revert.update(restored=progress.restored, deleted=progress.deleted, conflicts=progress.conflicts,
                          chunks_done=progress.chunks_done, chunks_total=progress.chunks_total)
            if progress.done:
                revert["status"] = "done"
                item.update(status=ImportStatus.REVERTED.value, reverted_at=utcnow())
            return True

    def fail_revert(self, import_id: str, requested_at: str, reason: str) -> bool:
        with self._lock:
            self.calls.append(("fail_revert", import_id))
            item = self.items.get(import_id)
            revert = (item or {}).get("revert") or {}
            if item is None or item["status"] != ImportStatus.REVERTING.value or revert.get("requested_at") != requested_at:
                return False
            revert.update(status="failed", error=reason)
            item["status"] = revert["previous_status"]
            return True

    def finish_replace(self, import_id: str, confirmed_at: str, products_deactivated: int,
                       warnings: list[str]) -> bool:
        with self._lock:
            self.calls.append(("finish_replace", import_id))
            replace = (self.items.get(import_id) or {}).get("replace") or {}
            if replace.get("status") != "held" or replace.get("confirmed_at") != confirmed_at:
                return False
            replace["status"] = "done"
            self.items[import_id]["products_deactivated"] = products_deactivated
            self.items[import_id]["warnings"] = list(warnings)
            return True

    def release_replace(self, import_id: str, confirmed_at: str, warning: str) -> bool:
        with self._lock:
            self.calls.append(("release_replace", import_id))
            item = self.items.get(import_id) or {}
            replace = item.get("replace") or {}
            if replace.get("status") != "held" or replace.get("confirmed_at") != confirmed_at:
                return False
            del replace["confirmed_at"]
            item["warnings"] = [*(item.get("warnings") or []), warning]
            return True

    def complete_if_done(self, import_id: str, committed: ImportTotals | None = None, *,
                         status: str = "completed") -> bool:
        with self._lock:
            self.calls.append(("complete_if_done", import_id))
            item = self.items.get(import_id)
            if item is None or item["status"] != _PROCESSING or item.get("chunks_total") is None:
                return False
            done = committed.chunks_done if committed is not None else item.get("chunks_done", 0)
            if done != item["chunks_total"]:
                return False
            item.update(status=status, finished_at=utcnow())
            if committed is not None:
                item.update(asdict(committed))
            return True

    def fail(self, import_id: str, reason: str) -> bool:
        with self._lock:
            self.calls.append(("fail", import_id))
            item = self.items.get(import_id)
            if item is None or item["status"] not in (_PENDING, _PROCESSING):
                return False
            item.update(status=ImportStatus.FAILED.value, error=reason[:2000], finished_at=utcnow())
            return True

    def record_plan(self, import_id: str, *, encoding: str | None, profile: str | None,
                    mapping: dict[str, Any] | None = None, warnings: list[str] | None = None,
                    replace: dict[str, Any] | None = None) -> bool:
        with self._lock:
            self.calls.append(("record_plan", import_id))
            item = self.items.get(import_id)
            if item is None or item["status"] != _PROCESSING:
                return False
            values = {"encoding": encoding, "profile": profile, "mapping": mapping, "warnings": warnings,
                      "replace": replace}
            item.update({k: v for k, v in values.items() if v is not None})
            return True

    def add_warning(self, import_id: str, warning: str) -> bool:
        with self._lock:
            self.calls.append(("add_warning", import_id))
            item = self.items.get(import_id)
            if item is None:
                return False
            warnings = item.setdefault("warnings", [])
            if warning in warnings or len(warnings) >= MAX_IMPORT_WARNINGS:
                return False
            warnings.append(warning)
            return True

    def expire(self, import_id: str, reason: str) -> bool:
        with self._lock:
            self.calls.append(("expire", import_id))
            item = self.items.get(import_id)
            if item is None or item["status"] != _PENDING:
                return False
            item.update(status=ImportStatus.FAILED.value, error=reason, finished_at=utcnow())
            return True

    def pending_created_between(self, after: str, before: str) -> list[str]:
        return [i for i, item in self.items.items()
                if item["status"] == _PENDING and after <= item["created_at"] < before]

    def get_item(self, import_id: str) -> dict[str, Any] | None:
        item = self.items.get(import_id)
        return dict(item) if item is not None else None

    def get(self, import_id: str) -> Import | None:
        item = self.items.get(import_id)
        return Import.model_validate(item) if item is not None else None

    def writes(self, method: str) -> list[str]:
        return [import_id for name, import_id in self.calls if name == method]

    def list(self, *, limit: int = 50, cursor: str | None = None) -> tuple[list[Import], str | None]:
        """Newest first; the cursor is the offset as text."""
        start = int(cursor or 0)
        newest = sorted(self.items.values(), key=lambda i: (i["created_at"], i["id"]), reverse=True)
        page = [Import.model_validate(item) for item in newest[start:start + limit]]
        more = start + limit < len(newest)
        return page, str(start + limit) if more else None


def pending_upload(
    progress: FakeProgress, import_id: str, *, import_no: int = 7, filename: str = "catalog.csv"
) -> None:
    """An import created through POST /api/imports, waiting for its file."""
    progress.create(
        Import(
            id=import_id, filename=filename, source="upload", status=ImportStatus.PENDING, created_at=utcnow()
        ),
        import_no=import_no,
        bucket=BUCKET,
        key=f"uploads/{import_id}.csv",
    )


@dataclass
class FakeChunkLedger:
    """The ``ChunkLedger`` port in memory (``upsert_chunk``'s contract): a ledger and running totals per import.

    ``fail_for`` holds chunk numbers whose write raises (a poison chunk, a database outage).
    """

    ledger: dict[tuple[str, int], ChunkCounts] = field(default_factory=dict)
    totals: dict[str, ImportTotals] = field(default_factory=dict)
    calls: list[dict[str, Any]] = field(default_factory=list)
    fail_for: set[int] = field(default_factory=set)
    registry: dict[str, str] = field(default_factory=dict)  # import id -> status in PostgreSQL's registry
    registered: dict[str, tuple[int, str | None]] = field(default_factory=dict)

    def write_chunk(
        self,
        *,
        import_id: str,
        import_no: int,
        chunk_no: int,
        present_fields: Iterable[str],
        rows: Sequence[tuple[Any, ...]],
        errors: Sequence[RowError],
        rows_seen: int,
        rows_skipped: int = 0,
        max_errors: int | None = None,
        mode: str = "import",
    ) -> ChunkResult:
        self.calls.append(
            {
                "import_id": import_id,
                "import_no": import_no,
                "chunk_no": chunk_no,
                "present_fields": set(present_fields),
                "rows": list(rows),
                "errors": list(errors),
                "rows_seen": rows_seen,
                "rows_skipped": rows_skipped,
                "max_errors": max_errors,
                "mode": mode,
            }
        )
        if chunk_no in self.fail_for:
            raise RuntimeError(f"cannot write chunk {chunk_no}")
        zero = ImportTotals(0, 0, 0, 0, 0, 0, 0)
        if self.registry.get(import_id, "processing") not in ("pending", "processing"):
            return ChunkResult(ChunkCounts(0, 0, 0, 0, 0, 0), self.totals.get(import_id, zero),
                               import_failed=self.registry[import_id] == "failed", written=False)
        recorded = self.ledger.get((import_id, chunk_no))
        if recorded is not None:
            return ChunkResult(
                ChunkCounts(**{**asdict(recorded), "replayed": True}), self.totals.get(import_id, zero)
            )
        counts = ChunkCounts(
            rows_seen=rows_seen,
            rows_imported=len(rows),
            rows_failed=rows_seen - len(rows),
            products_created=len(rows),
            products_updated=0,
            products_unchanged=0,
            rows_skipped=rows_skipped,
        )
        self.ledger[(import_id, chunk_no)] = counts
        before = self.totals.get(import_id, zero)
        after = ImportTotals(
            before.chunks_done + 1,
            before.rows_processed + rows_seen + rows_skipped,
            before.rows_imported + len(rows),
            before.rows_failed + rows_seen - len(rows),
            before.products_created + len(rows),
            0,
            0,
            rows_skipped=before.rows_skipped + rows_skipped,
        )
        self.totals[import_id] = after
        if max_errors is not None and after.rows_failed > max_errors:
            self.registry[import_id] = "failed"
            return ChunkResult(counts, after, import_failed=True, error="too many row errors")
        return ChunkResult(counts, after)

    def committed_totals(self, import_id: str) -> ImportTotals:
        return self.totals.get(import_id, ImportTotals(0, 0, 0, 0, 0, 0, 0))

    def register_import(self, import_id: str, *, import_no: int, partner: str | None = None,
                        replace_scope: str | None = None) -> None:
        self.registered.setdefault(import_id, (import_no, partner))

    def fail_import(self, import_id: str, reason: str) -> bool:
        if self.registry.get(import_id, "processing") not in ("pending", "processing"):
            return False
        self.registry[import_id] = "failed"
        return True

    def finish_import(self, import_id: str, status: str) -> bool:
        if self.registry.get(import_id, "processing") not in ("pending", "processing"):
            return False
        self.registry[import_id] = status
        return True


@dataclass
class FakeJobLedger:
    """The ``JobLedger`` port in memory, over a ``FakeChunkLedger`` (its registry and totals): a catalog
    of ``products`` (sku → active) for replaces, and planned reverts.

    ``in_file``: per import, the SKUs its file has; ``revert_plans``: per import, (restored, deleted,
    conflicts) per chunk; ``fail_revert_for``: chunk numbers whose revert raises."""

    chunks: FakeChunkLedger
    products: dict[str, bool] = field(default_factory=dict)
    in_file: dict[str, set[str]] = field(default_factory=dict)
    step: int = 2  # products per deactivation step
    deactivated_by: dict[str, set[str]] = field(default_factory=dict)
    reverted: set[str] = field(default_factory=set)  # imports whose revert the database has planned
    revert_plans: dict[str, list[tuple[int, int, int]]] = field(default_factory=dict)
    reverted_chunks: dict[str, set[int]] = field(default_factory=dict)
    fail_revert_for: set[int] = field(default_factory=set)
    calls: list[tuple[str, str]] = field(default_factory=list)

    def end_import(self, import_id: str, status: ImportStatus, *, import_no: int, mode: ImportMode,
                   partner: str | None = None, replace_scope: str | None = None) -> ImportEnd:
        self.calls.append(("end_import", import_id))
        self.chunks.register_import(import_id, import_no=import_no, partner=partner)
        self.chunks.finish_import(import_id, status.value)
        found = self.chunks.registry[import_id]
        return ImportEnd(found, "too many row errors" if found == "failed" else None)

    def estimate_replace(self, import_id: str, *, scope: str, partner: str | None) -> ReplaceEstimate:
        self.calls.append(("estimate_replace", import_id))
        keep = self.in_file.get(import_id, set())
        missing = [sku for sku, active in self.products.items() if active and sku not in keep]
        return ReplaceEstimate(len(self.products), len(missing))

    def deactivate_missing(self, import_id: str, *, scope: str, partner: str | None,
                           after: str | None) -> DeactivationStep:
        self.calls.append(("deactivate_missing", import_id))
        if import_id in self.reverted:
            raise ReplaceRefusedError(f"import {import_id} is reverted or being reverted")
        keep = self.in_file.get(import_id, set())
        page = sorted(sku for sku in self.products if sku > (after or ""))[: self.step]
        done = 0
        mine = self.deactivated_by.setdefault(import_id, set())
        for sku in page:
            if self.products[sku] and sku not in keep:
                self.products[sku] = False
                mine.add(sku)
                done += 1
        totals = self.chunks.totals.get(import_id, ImportTotals(0, 0, 0, 0, 0, 0, 0))
        self.chunks.totals[import_id] = ImportTotals(**{**asdict(totals), "products_deactivated": len(mine)})
        more = len(page) == self.step and any(sku > page[-1] for sku in self.products)
        return DeactivationStep(done, page[-1] if more else None, len(mine))

    def revert_chunk(self, import_id: str, chunk_no: int) -> RevertProgress:
        self.calls.append(("revert_chunk", import_id))
        if chunk_no in self.fail_revert_for:
            raise RuntimeError(f"cannot revert chunk {chunk_no}")
        plan = self.revert_plans[import_id]
        done = self.reverted_chunks.setdefault(import_id, set())
        replayed = chunk_no in done
        done.add(chunk_no)
        restored, deleted, conflicts = (sum(plan[n][i] for n in done) for i in range(3))
        finished = len(done) == len(plan)
        if finished:
            self.chunks.registry[import_id] = "reverted"
        return RevertProgress(len(plan), len(done), restored, deleted, conflicts, done=finished, replayed=replayed)

    def fail_revert(self, import_id: str) -> None:
        self.calls.append(("fail_revert", import_id))


@dataclass
class FakePlanStore:
    """The ``PlanStore`` port in memory: the first plan pinned wins; checkpoints only move forward."""

    plans: dict[str, SplitPlan] = field(default_factory=dict)
    checkpoints: dict[str, StoredCheckpoint] = field(default_factory=dict)

    def pin(self, plan: SplitPlan) -> SplitPlan:
        return self.plans.setdefault(plan.import_id, plan)

    def get(self, import_id: str) -> SplitPlan | None:
        return self.plans.get(import_id)

    def checkpoint(self, import_id: str) -> StoredCheckpoint | None:
        return self.checkpoints.get(import_id)

    def save_checkpoint(self, import_id: str, position: dict[str, Any], *, sent: bool) -> bool:
        stored = self.checkpoints.get(import_id)
        offset = int(position["offset"])
        if stored is not None:
            before = int(stored.position["offset"])
            if offset < before or (offset == before and not sent):
                return False
        self.checkpoints[import_id] = StoredCheckpoint(dict(position), sent)
        return True


if TYPE_CHECKING:  # mypy checks that every fake implements its port (``make typecheck``)
    _objects: ports.ObjectStore = FakeObjectStore()
    _queue: ports.MessageQueue = FakeQueue()
    _jobs: ports.JobLedger = FakeJobLedger(FakeChunkLedger())
    _progress: ports.ProgressStore = FakeProgress()
    _ledger: ports.ChunkLedger = FakeChunkLedger()
    _plans: ports.PlanStore = FakePlanStore()
