"""In-memory fakes of the pipeline's ports (``product_importer.ports``: ObjectStore, MessageQueue,
ProgressStore, ChunkLedger).

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

from product_importer.ingest.rows import RowError
from product_importer.models import (
    ChunkCounts,
    ChunkMessage,
    ChunkResult,
    Import,
    ImportStatus,
    ImportTotals,
    SplitPlan,
    utcnow,
)
from product_importer.ports import StoredCheckpoint
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

    def publish_totals(self, import_id: str, committed: ImportTotals, *, status: str = "completed") -> bool:
        recorded = self.record_totals(import_id, committed)
        if recorded and self.items[import_id].get("chunks_total") != committed.chunks_done:
            return False
        return self.complete_if_done(import_id, committed, status=status)

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
                    mapping: dict[str, Any] | None = None, warnings: list[str] | None = None) -> bool:
        with self._lock:
            self.calls.append(("record_plan", import_id))
            item = self.items.get(import_id)
            if item is None or item["status"] != _PROCESSING:
                return False
            values = {"encoding": encoding, "profile": profile, "mapping": mapping, "warnings": warnings}
            item.update({k: v for k, v in values.items() if v is not None})
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

    def register_import(self, import_id: str, *, import_no: int, partner: str | None = None) -> None:
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
    _progress: ports.ProgressStore = FakeProgress()
    _ledger: ports.ChunkLedger = FakeChunkLedger()
    _plans: ports.PlanStore = FakePlanStore()
