"""The ports of the pipeline: what the domain (``pipeline/``) asks of the outside world, as protocols.

The domain types its parameters with these and never with an adapter, so a test passes an in-memory
fake (``tests/unit/fakes.py``) without ``# type: ignore``, and an adapter can be swapped without
touching the domain. The adapters that implement them:

| port           | adapter (module)                                   | built by              |
| -------------- | -------------------------------------------------- | --------------------- |
| ``ObjectStore``  | ``S3ObjectStore`` (``storage``)                      | ``runtime.object_store``  |
| ``MessageQueue`` | ``SqsMessageQueue`` (``storage``)                    | ``runtime.queue``         |
| ``ProgressStore``| ``DynamoProgressStore`` (``progress``)               | ``runtime.progress_store``|
| ``ChunkLedger``  | ``PostgresChunkLedger`` (``db.ledger``)              | ``runtime.chunk_ledger``  |
| ``JobLedger``    | ``PostgresJobLedger`` (``db.job_ledger``)            | ``runtime.job_ledger``    |

A method added to an adapter that the domain calls belongs here too (and in the fake).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, BinaryIO, Protocol, runtime_checkable

from product_importer.models import (
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
)

if TYPE_CHECKING:
    from product_importer.ingest.rows import RowError


class ObjectGoneError(Exception):
    """The object (or the pinned version) no longer exists."""


class ReplaceRefusedError(Exception):
    """A replace step refused: the import's revert was planned first (``JobLedger.deactivate_missing``)."""


class StorageError(Exception):
    """Object storage or a queue failed in a way a retry may fix."""


@dataclass(frozen=True)
class ObjectInfo:
    size: int
    etag: str
    version_id: str | None
    content_type: str | None = None  # as written (``text/csv; charset=windows-1252``), None if not told


@runtime_checkable
class ObjectStore(Protocol):
    """Read access to uploaded files, always pinned to one version (S3)."""

    def head(self, bucket: str, key: str, version_id: str | None) -> ObjectInfo:
        """Size, ETag and version; ``ObjectGoneError`` if the object (version) no longer exists."""
        ...

    def read_range(self, bucket: str, key: str, version_id: str | None, start: int, end: int) -> bytes:
        """Bytes ``[start, end)`` of the pinned version."""
        ...

    def stream_from(self, bucket: str, key: str, version_id: str | None, start: int) -> BinaryIO:
        """A streaming body from ``start`` to the end (memory stays flat)."""
        ...

    def stream_range(self, bucket: str, key: str, version_id: str | None, start: int, end: int) -> BinaryIO:
        """Bytes ``[start, end)`` of the pinned version as a stream (memory stays flat)."""
        ...

    def write_stream(self, bucket: str, key: str, blocks: Iterable[bytes]) -> ObjectInfo:
        """Write ``blocks`` as one new object (a multipart upload: memory about one part)."""
        ...


@runtime_checkable
class MessageQueue(Protocol):
    """One queue that takes JSON messages (SQS)."""

    def send_all(self, bodies: Iterable[dict[str, Any]]) -> int:
        """Send every body (in batches as the queue allows); returns how many were sent."""
        ...


@runtime_checkable
class ProgressStore(Protocol):
    """The Import objects (DynamoDB): every write conditional, status only forward, counted once."""

    def create(self, imp: Import, *, import_no: int, bucket: str, key: str, version_id: str | None = None) -> bool:
        """Create the import; False if one with this id already exists."""
        ...

    def start(self, import_id: str, *, version_id: str | None, etag: str | None) -> bool:
        """pending → processing, pinning the object version; False for a duplicate event."""
        ...

    def set_totals(self, import_id: str, *, chunks_total: int, rows_total: int) -> bool: ...

    def record_totals(self, import_id: str, totals: ImportTotals) -> bool:
        """An absolute snapshot of the committed totals; only ever moves forward."""
        ...

    def record_deactivated(self, import_id: str, products_deactivated: int) -> bool:
        """A running replace's count of the products it deactivated so far (forward only, while the import
        is processing): what the import shows, and its watchers hear, between two of the replace's steps."""
        ...

    def record_late_deactivated(self, import_id: str, products_deactivated: int) -> bool:
        """A replace's count after an older import's late chunk deactivated more for it, whatever the
        import's status now (forward only)."""
        ...

    def complete_if_done(self, import_id: str, committed: ImportTotals | None = None, *,
                         status: str = "completed") -> bool:
        """processing → ``status`` (``completed``, or ``previewed`` for a preview), once, by whoever first
        sees every chunk done."""
        ...

    def fail(self, import_id: str, reason: str) -> bool:
        """pending/processing → failed with a reason, once."""
        ...

    def record_snapshot(self, import_id: str, totals: ImportTotals) -> dict[str, Any] | None:
        """Record the committed totals (forward only, while pending/processing); the item as it is now,
        or None if the snapshot was refused (not newer, or the import is no longer running)."""
        ...

    def finish(self, import_id: str, status: ImportStatus, committed: ImportTotals, *,
               replace: dict[str, Any] | None = None, warnings: Sequence[str] = ()) -> bool:
        """processing → ``completed`` or ``previewed`` with the final counts, once (only when
        ``committed`` covers every chunk); sets the ``replace`` object and appends ``warnings``."""
        ...

    def record_revert(self, import_id: str, requested_at: str, progress: RevertProgress) -> bool:
        """The revert's running totals into the import's ``revert`` (forward only); on its last chunk
        ``reverting`` → ``reverted`` with ``reverted_at`` and ``revert.status = "done"``, once."""
        ...

    def fail_revert(self, import_id: str, requested_at: str, reason: str) -> bool:
        """``reverting`` → the status it had before, ``revert.status = "failed"`` with ``revert.error``, once."""
        ...

    def finish_replace(self, import_id: str, confirmed_at: str, products_deactivated: int,
                       warnings: list[str]) -> bool:
        """A confirmed held replace carried out: ``replace.status`` held → done, ``products_deactivated``,
        and ``warnings`` (the import's, without the one that said the replace was held)."""
        ...

    def release_replace(self, import_id: str, confirmed_at: str, warning: str) -> bool:
        """A confirmed replace that could not be carried out: held again (confirmable again), with a warning."""
        ...

    def record_plan(self, import_id: str, *, encoding: str | None, profile: str | None,
                    mapping: dict[str, Any] | None = None, warnings: list[str] | None = None,
                    replace: dict[str, Any] | None = None) -> bool:
        """What the file's header decided (encoding, profile, mapping in effect, warnings, a drop's replace
        options from its saved mapping), while processing."""
        ...

    def add_warning(self, import_id: str, warning: str) -> bool:
        """A warning a chunk found (rows past the first MiB that are not UTF-8, …) into ``warnings``, once."""
        ...

    def expire(self, import_id: str, reason: str) -> bool:
        """pending → failed (the file never arrived), once; an import that started meanwhile is left alone."""
        ...

    def pending_created_between(self, after: str, before: str) -> list[str]:
        """Ids of the imports still ``pending`` created in ``[after, before)`` (ISO 8601 UTC)."""
        ...

    def get_item(self, import_id: str) -> dict[str, Any] | None:
        """The raw item (Import fields plus import_no, bucket, object_key, …)."""
        ...

    def get(self, import_id: str) -> Import | None: ...

    def list(self, *, limit: int = 50, cursor: str | None = None) -> tuple[list[Import], str | None]:
        """Newest first, paged with an opaque cursor."""
        ...


@runtime_checkable
class ChunkLedger(Protocol):
    """Where a chunk's effect is committed exactly once (PostgreSQL: products, row errors, ledger row
    and the import's totals in one transaction; a chunk already in the ledger is a no-op that returns
    what was recorded), and PostgreSQL's own record of the import (its registry) that decides whether a
    chunk may still write."""

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
    ) -> ChunkResult: ...

    def committed_totals(self, import_id: str) -> ImportTotals:
        """The import's totals as PostgreSQL committed them."""
        ...

    def register_import(self, import_id: str, *, import_no: int, partner: str | None = None,
                        replace_scope: str | None = None) -> None:
        """Record an import PostgreSQL has not seen (a partner drop; ``replace_scope`` from its saved
        mapping); idempotent."""
        ...

    def fail_import(self, import_id: str, reason: str) -> bool:
        """From now on the import's chunks write nothing (chunks in flight either committed or see it)."""
        ...

    def finish_import(self, import_id: str, status: str) -> bool:
        """Record the import's end (``completed`` or ``previewed``); idempotent."""
        ...


@dataclass(frozen=True)
class StoredCheckpoint:
    """Where a split that was cut short stands (``ingest.chunking.SplitPosition`` as JSON), and whether
    the continuation message for it has been sent."""

    position: dict[str, Any]
    sent: bool


@runtime_checkable
class PlanStore(Protocol):
    """Split plans, pinned once per import, and the splitter's checkpoints (PostgreSQL)."""

    def pin(self, plan: SplitPlan) -> SplitPlan:
        """Store ``plan`` unless the import has one; return the one stored (the first split's)."""
        ...

    def get(self, import_id: str) -> SplitPlan | None: ...

    def checkpoint(self, import_id: str) -> StoredCheckpoint | None: ...

    def save_checkpoint(self, import_id: str, position: dict[str, Any], *, sent: bool) -> bool:
        """Record a checkpoint (only ever forward by its ``offset``; at the same offset ``sent`` may turn
        true). True if recorded."""
        ...


@runtime_checkable
class JobLedger(Protocol):
    """PostgreSQL's side of an import's end and of the work done on it later (replace, revert): each
    step commits exactly once, and a repeated step changes nothing."""

    def end_import(self, import_id: str, status: ImportStatus, *, import_no: int, mode: ImportMode,
                   partner: str | None = None, replace_scope: str | None = None) -> ImportEnd:
        """Record the end of an import whose chunks are all committed (``completed`` or ``previewed``;
        from then on no chunk of it writes); registers an import PostgreSQL never saw (no chunk).
        Returns the registry's status after it: ``failed`` if a chunk failed the import first."""
        ...

    def estimate_replace(self, import_id: str, *, scope: str, partner: str | None) -> ReplaceEstimate: ...

    def deactivate_missing(self, import_id: str, *, scope: str, partner: str | None,
                           after: str | None) -> DeactivationStep:
        """One step of a replace (idempotent): deactivate the next products in scope the file lacks.
        Raises ``ReplaceRefusedError`` once the import's revert is planned."""
        ...

    def revert_chunk(self, import_id: str, chunk_no: int) -> RevertProgress:
        """Revert one planned chunk exactly once; the last one marks the import reverted."""
        ...

    def fail_revert(self, import_id: str) -> None:
        """The revert cannot finish: the import goes back to its previous status (planning again resumes)."""
        ...
