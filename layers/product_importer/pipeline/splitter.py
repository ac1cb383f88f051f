"""``split_object`` / ``continue_split``: what happens when a CSV lands in the bucket (DESIGN decision 1).

One streaming pass over the pinned object version cuts record-aligned byte ranges (at most
``rows_per_chunk`` rows and ``bytes_per_chunk`` bytes each), sent to the chunk queue in batches of 10
while the pass goes on; then the import learns ``chunks_total`` / ``rows_total`` and completes if its
chunks are all done. Every delivery of an import's event decides completion from the totals PostgreSQL
committed, so a crash anywhere (even between ``set_totals`` and completion) is repaired by the redelivery.

The first split pins the import's plan (the file's header and column plan, its encoding, the object the
chunks are cut from, the chunking parameters): a retry cuts the same chunks. A file that cannot be split
within one invocation is handed over before the deadline: the splitter records a checkpoint and sends
itself a continuation message that resumes there.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import logging
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import PurePosixPath
from typing import Any

from product_importer.ingest.chunking import ByteRange, SplitPosition, split_ranges
from product_importer.ingest.header import MAX_HEADER_BYTES, EmptyFileError, HeaderError, read_header
from product_importer.ingest.records import family_key
from product_importer.models import ChunkMessage, Import, ImportStatus, ImportTotals, SplitContinuation, utcnow
from product_importer.naming import DROP_PREFIX, UPLOAD_PREFIX
from product_importer.pipeline import lifecycle
from product_importer.pipeline.plans import PlanStore, SplitPlan, position_to_json
from product_importer.pipeline.s3events import ObjectCreated
from product_importer.progress import ProgressStore
from product_importer.storage import MessageQueue, ObjectGoneError, ObjectInfo, ObjectStore

logger = logging.getLogger(__name__)

HEADER_PROBE_BYTES = MAX_HEADER_BYTES + 2  # past the header's limit: a too-long header is an error, never cut
TRANSCODED_PREFIX = "transcoded/"  # UTF-8 copies of UTF-16 files (outside the watched prefixes)
_DROP_NAMESPACE = uuid.UUID("6f1c3a52-8d0e-4a51-9a57-4f4f1e0c2b11")
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")

TimeLeft = Callable[[], float]  # seconds this invocation may still spend before handing over


def unlimited() -> float:
    return float("inf")


class Outcome(StrEnum):
    SPLIT = "split"  # every chunk is on the queue
    CONTINUED = "continued"  # part of the file is on the queue; a continuation message does the rest
    IGNORED = "ignored"  # not ours: other prefix, not a .csv, unknown upload id
    DUPLICATE = "duplicate"  # already split (or being split) from this or another message
    FAILED = "failed"  # the import ended failed (too big, empty, bad header, gone)


@dataclass(frozen=True)
class SplitResult:
    outcome: Outcome
    import_id: str | None = None
    chunks: int = 0
    rows: int = 0
    reason: str | None = None


@dataclass(frozen=True)
class SplitLimits:
    """The settings a split reads; pinned on the import at its first split."""

    max_upload_bytes: int
    max_drop_bytes: int
    rows_per_chunk: int
    bytes_per_chunk: int
    max_record_bytes: int


@dataclass
class SplitterPorts:
    objects: ObjectStore
    chunks: MessageQueue
    continuations: MessageQueue  # the splitter's own queue (object events)
    progress: ProgressStore
    plans: PlanStore
    next_import_number: Callable[[], int]
    committed_totals: Callable[[str], ImportTotals]  # the import's totals as PostgreSQL committed them
    limits: SplitLimits


def upload_key(import_id: str) -> str:
    return f"{UPLOAD_PREFIX}{import_id}.csv"


# ---- entry points ---------------------------------------------------------------------------------------


def split_object(event: ObjectCreated, ports: SplitterPorts, time_left: TimeLeft = unlimited) -> SplitResult:
    """An object was written: split its import's file (or finish, or resume, what an earlier delivery began)."""
    event, drop_info = pin_drop_version(event, ports.objects)
    import_id = import_id_for(event)
    if import_id is None:
        return SplitResult(Outcome.IGNORED, reason=f"not an import: {event.key}")
    item = ports.progress.get_item(import_id)
    if item is None:
        if not event.key.startswith(DROP_PREFIX):
            return SplitResult(Outcome.IGNORED, import_id, reason="no such upload")
        item = _create_drop_import(event, import_id, ports)
    status = item.get("status")
    if status not in (ImportStatus.PENDING.value, ImportStatus.PROCESSING.value):
        return SplitResult(Outcome.DUPLICATE, import_id)
    if status == ImportStatus.PROCESSING.value and item.get("chunks_total") is not None:
        # Split before; a crash may have come between set_totals and completion: decide it again.
        lifecycle.complete_if_done(ports.progress, ports.committed_totals, import_id)
        return SplitResult(Outcome.DUPLICATE, import_id)

    try:
        info = drop_info or ports.objects.head(event.bucket, event.key, event.version_id)
    except ObjectGoneError:
        # The file was deleted (or replaced without versioning) before we got to it.
        lifecycle.fail_import(ports.progress, import_id, lifecycle.FILE_GONE)
        return SplitResult(Outcome.FAILED, import_id, reason="gone")
    if not ports.progress.start(import_id, version_id=info.version_id, etag=info.etag):
        return SplitResult(Outcome.DUPLICATE, import_id)

    plan = ports.plans.get(import_id)
    if plan is None:
        is_drop = item.get("source") == "s3-drop"
        maximum = ports.limits.max_drop_bytes if is_drop else ports.limits.max_upload_bytes
        if info.size > maximum:
            reason = lifecycle.too_big(info.size, maximum)
            lifecycle.fail_import(ports.progress, import_id, reason)
            return SplitResult(Outcome.FAILED, import_id, reason=reason)
        try:
            plan = _make_plan(import_id, event, info, item, ports)
        except HeaderError as exc:
            lifecycle.fail_import(ports.progress, import_id, str(exc))
            return SplitResult(Outcome.FAILED, import_id, reason=str(exc))
        plan = ports.plans.pin(plan)
        ports.progress.record_plan(import_id, encoding=plan.encoding, profile=plan.file_plan.get("profile"),
                                   warnings=plan.file_plan.get("warnings"))

    position = SplitPosition(0, plan.data_start, 1)
    stored = ports.plans.checkpoint(import_id)
    if stored is not None:
        if stored.sent:  # an earlier delivery handed the rest to a continuation message
            return SplitResult(Outcome.DUPLICATE, import_id)
        position = stored.split_position  # it crashed before sending it: go on from its checkpoint
    return _split(plan, int(item["import_no"]), position, ports, time_left)


def continue_split(message: SplitContinuation, ports: SplitterPorts, time_left: TimeLeft = unlimited) -> SplitResult:
    """The splitter's continuation: go on splitting from the message's checkpoint."""
    import_id = message.import_id
    item = ports.progress.get_item(import_id)
    if item is None or item.get("status") != ImportStatus.PROCESSING.value:
        return SplitResult(Outcome.DUPLICATE, import_id)
    if item.get("chunks_total") is not None:
        lifecycle.complete_if_done(ports.progress, ports.committed_totals, import_id)
        return SplitResult(Outcome.DUPLICATE, import_id)
    plan = ports.plans.get(import_id)
    if plan is None:
        raise RuntimeError(f"import {import_id} has a continuation but no plan")
    position = SplitPosition(message.chunk_no, message.offset, message.first_row, message.context,
                             message.context_key)
    stored = ports.plans.checkpoint(import_id)
    if stored is not None and stored.split_position.offset > position.offset:
        if stored.sent:  # a later continuation exists: this one is a stale duplicate
            return SplitResult(Outcome.DUPLICATE, import_id)
        position = stored.split_position
    return _split(plan, int(item["import_no"]), position, ports, time_left)


# ---- the pass -------------------------------------------------------------------------------------------


def _split(plan: SplitPlan, import_no: int, position: SplitPosition, ports: SplitterPorts,
           time_left: TimeLeft) -> SplitResult:
    import_id = plan.import_id
    stream = ports.objects.stream_from(plan.bucket, plan.key, plan.version_id, position.offset)
    ranges = split_ranges(
        stream, start=position.offset, delimiter=plan.delimiter, rows_per_chunk=plan.rows_per_chunk,
        bytes_per_chunk=plan.bytes_per_chunk, max_record=plan.max_record_bytes, resume=position,
        family_key=family_key(plan.delimiter, plan.data_encoding, plan.family_column)
        if plan.family_column is not None else None,
    )
    template = {"import_id": import_id, "import_no": import_no, "bucket": plan.bucket, "key": plan.key,
                "version_id": plan.version_id, "etag": plan.etag}
    progress: dict[str, Any] = {"last": None, "stop": None, "sent": 0}

    def messages() -> Iterator[dict[str, Any]]:
        for rng in ranges:
            if progress["sent"] and time_left() <= 0:  # at least one chunk per invocation, then hand over
                progress["stop"] = SplitPosition(rng.chunk_no, rng.start, rng.first_row, rng.context,
                                                 rng.context_key)
                return
            progress["last"] = rng
            progress["sent"] += 1
            yield _message(rng, template)

    try:
        ports.chunks.send_all(messages())
    finally:
        close = getattr(stream, "close", None)
        if close is not None:
            close()
    stop: SplitPosition | None = progress["stop"]
    if stop is not None:
        _hand_over(import_id, stop, ports)
        logger.info("split %s: %d chunks sent, continuing at byte %d", import_id, progress["sent"], stop.offset)
        return SplitResult(Outcome.CONTINUED, import_id, chunks=progress["sent"])
    last: ByteRange | None = progress["last"]
    chunks_total = last.chunk_no + 1 if last else position.chunk_no
    rows_total = last.first_row + last.rows - 1 if last else position.first_row - 1
    ports.progress.set_totals(import_id, chunks_total=chunks_total, rows_total=rows_total)
    lifecycle.complete_if_done(ports.progress, ports.committed_totals, import_id)
    logger.info("split %s into %d chunks, %d rows", import_id, chunks_total, rows_total)
    return SplitResult(Outcome.SPLIT, import_id, chunks=chunks_total, rows=rows_total)


def _message(rng: ByteRange, template: dict[str, Any]) -> dict[str, Any]:
    return ChunkMessage(chunk_no=rng.chunk_no, start=rng.start, end=rng.end, first_row=rng.first_row,
                        rows=rng.rows, context=rng.context, **template).model_dump(mode="json")


def _hand_over(import_id: str, position: SplitPosition, ports: SplitterPorts) -> None:
    """Record the checkpoint, then send the continuation, then note that it went out. A crash between the
    first two steps is repaired by a redelivery, which resumes from the stored checkpoint."""
    ports.plans.save_checkpoint(import_id, position, sent=False)
    message = SplitContinuation(import_id=import_id, **position_to_json(position))
    ports.continuations.send_all([message.model_dump(mode="json")])
    ports.plans.save_checkpoint(import_id, position, sent=True)


# ---- the plan -------------------------------------------------------------------------------------------


def _make_plan(import_id: str, event: ObjectCreated, info: ObjectInfo, item: dict[str, Any],
               ports: SplitterPorts) -> SplitPlan:
    """Read the file's first bytes and decide how it is read and cut. Raises HeaderError (for the user)."""
    bucket, key, version, size, etag = event.bucket, event.key, info.version_id, info.size, info.etag
    probe = ports.objects.read_range(bucket, key, version, 0, min(size, HEADER_PROBE_BYTES))
    encoding = str(item.get("encoding") or "")
    if probe.startswith(_UTF16_BOMS) or encoding == "utf-16":
        encoding = "utf-16"
        key = f"{TRANSCODED_PREFIX}{import_id}.csv"
        transcoded = ports.objects.write_stream(bucket, key, _utf16_to_utf8(
            _blocks(ports.objects.stream_from(event.bucket, event.key, info.version_id, 0))))
        version, size, etag = transcoded.version_id, transcoded.size, transcoded.etag
        probe = ports.objects.read_range(bucket, key, version, 0, min(size, HEADER_PROBE_BYTES))
    file_plan, delimiter, data_start = _read_header(probe)
    limits = ports.limits
    return SplitPlan(
        import_id=import_id, bucket=bucket, key=key, version_id=version, etag=etag, size=size,
        file_plan=file_plan, encoding=encoding or "utf-8", data_encoding="utf-8", delimiter=delimiter,
        data_start=data_start, family_column=None, rows_per_chunk=limits.rows_per_chunk,
        bytes_per_chunk=limits.bytes_per_chunk, max_record_bytes=limits.max_record_bytes,
    )


_MAX_HEADER_COLUMNS = 1024
_MAX_HEADER_TEXT = 64 << 10


def _read_header(probe: bytes) -> tuple[dict[str, Any], str, int]:
    """(file plan JSON, delimiter, data offset) from the file's first bytes; HeaderError for the user.

    Interim reading until the ingest package's ``sniff`` takes over (it owns the header's rules)."""
    skip = 3 if probe.startswith(b"\xef\xbb\xbf") else 0
    hint = _SEP_LINE_END(probe, skip)
    body = probe[hint:] if hint else probe
    try:
        header, data_start = read_header(io.BytesIO(body))
    except EmptyFileError:
        raise
    except (csv.Error, UnicodeError) as exc:
        logger.info("header unreadable: %s", exc)
        raise HeaderError("the header line could not be read: is a column name longer than 128 KiB, "
                          "or a quote in it never closed?") from exc
    text = header.raw.decode("utf-8")
    if "\x00" in text:
        raise HeaderError("the header line contains a NUL character; remove it and import the file again")
    if len(header.names) > _MAX_HEADER_COLUMNS:
        raise HeaderError(f"the header has {len(header.names):,} columns; at most {_MAX_HEADER_COLUMNS:,} "
                          "are allowed")
    if len(header.raw) > _MAX_HEADER_TEXT:
        raise HeaderError("the header line is longer than 64 KiB")
    return {"header": text, "profile": "generic"}, header.delimiter, hint + data_start


def _SEP_LINE_END(probe: bytes, start: int) -> int:  # noqa: N802 - interim, see _read_header
    """After Excel's ``sep=X`` line (and the BOM before it), or 0 when the file has none."""
    line_end = probe.find(b"\n", start)
    line = probe[start : line_end if line_end >= 0 else len(probe)].rstrip(b"\r")
    if len(line) == 5 and line[:4].lower() == b"sep=":
        return line_end + 1 if line_end >= 0 else len(probe)
    return 0


def _blocks(stream: Any, size: int = 1 << 20) -> Iterator[bytes]:
    while block := stream.read(size):
        yield block


def _utf16_to_utf8(blocks: Iterable[bytes]) -> Iterator[bytes]:
    """A UTF-16 file (BOM first, little-endian without) as UTF-8 without a BOM, block by block."""
    import codecs

    decoder: codecs.IncrementalDecoder | None = None
    pending = b""
    for block in blocks:
        if decoder is None:
            pending += block
            if len(pending) < 2:
                continue
            big = pending.startswith(b"\xfe\xff")
            skip = 2 if pending.startswith(_UTF16_BOMS) else 0
            decoder = codecs.getincrementaldecoder("utf-16-be" if big else "utf-16-le")("replace")
            block, pending = pending[skip:], b""
        text = decoder.decode(block)
        if text:
            yield text.encode("utf-8")
    if decoder is None:
        decoder = codecs.getincrementaldecoder("utf-16-le")("replace")
    tail = decoder.decode(pending, final=True)
    if tail:
        yield tail.encode("utf-8")


# ---- which import an object belongs to --------------------------------------------------------------------


def pin_drop_version(event: ObjectCreated, objects: ObjectStore) -> tuple[ObjectCreated, ObjectInfo | None]:
    """A partner drop's import is named after the version written. Events of a versioned bucket carry
    it; the emulator's do not, and there the ETag alone would take identical bytes written twice for a
    duplicate event. Pin the current version then (the one HEAD of the drop, returned for reuse)."""
    if event.version_id or not event.key.startswith(DROP_PREFIX) or not event.key.lower().endswith(".csv"):
        return event, None
    try:
        info = objects.head(event.bucket, event.key, None)
    except ObjectGoneError:
        return event, None
    return (dataclasses.replace(event, version_id=info.version_id) if info.version_id else event), info


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


def partner_of(key: str) -> str | None:
    """CONTRACT §4: the first folder under ``incoming/`` (None directly under it)."""
    rest = key[len(DROP_PREFIX):]
    return rest.split("/", 1)[0] if "/" in rest else None


def _create_drop_import(event: ObjectCreated, import_id: str, ports: SplitterPorts) -> dict[str, Any]:
    imp = Import(id=import_id, filename=PurePosixPath(event.key).name, source="s3-drop",
                 partner=partner_of(event.key), status=ImportStatus.PENDING, created_at=utcnow())
    import_no = ports.next_import_number()
    if ports.progress.create(imp, import_no=import_no, bucket=event.bucket, key=event.key,
                             version_id=event.version_id):
        return {**imp.model_dump(mode="json"), "import_no": import_no}
    item = ports.progress.get_item(import_id)  # a concurrent delivery created it first
    assert item is not None
    return item
