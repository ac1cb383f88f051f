"""``split_object``: what happens when a CSV lands in the bucket (DESIGN decision 1).

One streaming pass over the pinned object version yields row-aligned byte ranges, sent to the chunk
queue in batches of 10 while the pass goes on; then the import learns ``chunks_total`` / ``rows_total``
and, if every chunk is already done (or there are none), completes.
"""

from __future__ import annotations

import dataclasses
import io
import logging
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import PurePosixPath
from typing import Any

from product_importer.ingest.chunking import split_ranges
from product_importer.ingest.header import MAX_HEADER_BYTES, EmptyFileError, HeaderError, read_header
from product_importer.models import ChunkMessage, Import, ImportStatus, utcnow
from product_importer.naming import DROP_PREFIX, UPLOAD_PREFIX
from product_importer.pipeline import finish
from product_importer.pipeline.s3events import ObjectCreated
from product_importer.ports import JobLedger, MessageQueue, ObjectGoneError, ObjectStore, ProgressStore

logger = logging.getLogger(__name__)

HEADER_PROBE_BYTES = MAX_HEADER_BYTES + 2  # past read_header's limit: a too-long header is an error, never cut
_DROP_NAMESPACE = uuid.UUID("6f1c3a52-8d0e-4a51-9a57-4f4f1e0c2b11")


class Outcome(StrEnum):
    SPLIT = "split"
    IGNORED = "ignored"  # not ours: other prefix, not a .csv, unknown upload id
    DUPLICATE = "duplicate"  # already started from this or another event
    FAILED = "failed"  # the import ended failed (too big, empty, bad header, gone)


@dataclass(frozen=True)
class SplitResult:
    outcome: Outcome
    import_id: str | None = None
    chunks: int = 0
    rows: int = 0
    reason: str | None = None


@dataclass
class SplitterPorts:
    objects: ObjectStore
    chunks: MessageQueue
    progress: ProgressStore
    next_import_number: Callable[[], int]
    max_upload_bytes: int
    chunk_rows: int
    # PostgreSQL's side of an import's end (its committed totals, the registry, a replace): lets the
    # splitter end an import whose chunks all finished before it learned chunks_total.
    jobs: JobLedger
    time_left: Callable[[], float] = finish.unlimited  # seconds this invocation may still run

    def job_ports(self) -> finish.JobPorts:
        return finish.JobPorts(self.progress, self.jobs, self.chunks, self.time_left)


def split_object(event: ObjectCreated, ports: SplitterPorts, *, import_id: str | None = None) -> SplitResult:
    """Split the object's import. ``import_id``: an import that already exists for this object version
    (an applied preview: ``pipeline.jobs_runner.split_applied``), instead of the one the key names."""
    if import_id is None:
        event = _pin_drop_version(event, ports)
        import_id = _import_for(event, ports)
    elif ports.progress.get_item(import_id) is None:
        return SplitResult(Outcome.IGNORED, import_id, reason="no such import")
    if import_id is None:
        return SplitResult(Outcome.IGNORED, reason=f"not an import: {event.key}")

    try:
        info = ports.objects.head(event.bucket, event.key, event.version_id)
    except ObjectGoneError:
        # The file was deleted (or replaced without versioning) before we got to it.
        ports.progress.fail(import_id, "the uploaded file no longer exists")
        return SplitResult(Outcome.FAILED, import_id, reason="gone")
    if not ports.progress.start(import_id, version_id=info.version_id, etag=info.etag):
        return SplitResult(Outcome.DUPLICATE, import_id)
    if info.size > ports.max_upload_bytes:
        reason = f"the file is {info.size:,} bytes; the maximum is {ports.max_upload_bytes:,} bytes"
        ports.progress.fail(import_id, reason)
        return SplitResult(Outcome.FAILED, import_id, reason=reason)

    probe = ports.objects.read_range(event.bucket, event.key, info.version_id, 0, min(info.size, HEADER_PROBE_BYTES))
    try:
        header, data_start = read_header(io.BytesIO(probe))
    except EmptyFileError:
        ports.progress.fail(import_id, "the file is empty")
        return SplitResult(Outcome.FAILED, import_id, reason="empty")
    except HeaderError as exc:
        ports.progress.fail(import_id, f"bad header: {exc}")
        return SplitResult(Outcome.FAILED, import_id, reason=str(exc))

    item = ports.progress.get_item(import_id) or {}
    template: dict[str, Any] = {
        "import_id": import_id,
        "import_no": int(item["import_no"]),
        "mode": item.get("mode") or "import",
        "max_errors": (item.get("options") or {}).get("max_errors"),
        "bucket": event.bucket,
        "key": event.key,
        "version_id": info.version_id,
        "etag": info.etag,
        "header": header.raw.decode("utf-8"),
    }
    totals = {"chunks": 0, "rows": 0}

    def messages() -> Iterator[dict[str, Any]]:
        stream = ports.objects.stream_from(event.bucket, event.key, info.version_id, data_start)
        for rng in split_ranges(stream, start=data_start, delimiter=header.delimiter, rows_per_chunk=ports.chunk_rows):
            totals["chunks"] += 1
            totals["rows"] += rng.rows
            message = ChunkMessage(chunk_no=rng.chunk_no, start=rng.start, end=rng.end, first_row=rng.first_row,
                                   rows=rng.rows, **template)
            yield message.model_dump(mode="json")

    ports.chunks.send_all(messages())
    ports.progress.set_totals(import_id, chunks_total=totals["chunks"], rows_total=totals["rows"])
    finish.finish_if_done(import_id, ports.job_ports())
    logger.info("split %s into %d chunks, %d rows", import_id, totals["chunks"], totals["rows"])
    return SplitResult(Outcome.SPLIT, import_id, chunks=totals["chunks"], rows=totals["rows"])


def _pin_drop_version(event: ObjectCreated, ports: SplitterPorts) -> ObjectCreated:
    """A partner drop's import is named after the version written. Events of a versioned bucket carry
    it; the emulator's do not, and there the ETag alone would take identical bytes written twice for a
    duplicate event. Pin the current version then, so a duplicate event and a new write stay apart."""
    if event.version_id or not event.key.startswith(DROP_PREFIX) or not event.key.lower().endswith(".csv"):
        return event
    try:
        info = ports.objects.head(event.bucket, event.key, None)
    except ObjectGoneError:
        return event
    return dataclasses.replace(event, version_id=info.version_id) if info.version_id else event


def import_id_for(event: ObjectCreated) -> str | None:
    """The id of the import an object event belongs to (nothing is read or created)."""
    key = event.key
    if not key.lower().endswith(".csv"):
        return None
    if key.startswith(UPLOAD_PREFIX):
        import_id = key[len(UPLOAD_PREFIX):-len(".csv")]
        return import_id if import_id and "/" not in import_id else None
    if key.startswith(DROP_PREFIX):
        return str(uuid.uuid5(_DROP_NAMESPACE, event.identity))
    return None


def fail_import_of(event: ObjectCreated, ports: SplitterPorts, reason: str) -> str | None:
    """End the event's import ``failed`` (the last delivery of an event that keeps failing)."""
    import_id = import_id_for(_pin_drop_version(event, ports))
    if import_id is not None:
        ports.progress.fail(import_id, reason)
    return import_id


def _import_for(event: ObjectCreated, ports: SplitterPorts) -> str | None:
    """The import an object belongs to: its upload's import, or a new import for a partner drop."""
    import_id = import_id_for(event)
    if import_id is None:
        return None
    if event.key.startswith(UPLOAD_PREFIX):
        return import_id if ports.progress.get_item(import_id) else None
    if ports.progress.get_item(import_id) is None:
        imp = Import(id=import_id, filename=PurePosixPath(event.key).name, source="s3-drop",
                     status=ImportStatus.PENDING, created_at=utcnow())
        ports.progress.create(imp, import_no=ports.next_import_number(), bucket=event.bucket, key=event.key,
                              version_id=event.version_id)
    return import_id
