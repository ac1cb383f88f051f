"""``split_object`` / ``continue_split``: what happens when a CSV lands in the bucket (DESIGN decision 1).

One streaming pass over the pinned object version cuts record-aligned byte ranges (at most
``rows_per_chunk`` rows and ``bytes_per_chunk`` bytes each), sent to the chunk queue in batches of 10
while the pass goes on; then the import learns ``chunks_total`` / ``rows_total`` and completes if its
chunks are all done. Every delivery of an import's message decides completion again from the totals
PostgreSQL committed, so a crash anywhere (even between ``set_totals`` and completion) is repaired by
the redelivery.

The first split pins the import's plan (the file's header and column plan from ``ingest.sniff``, its
encoding, the object the chunks are cut from, the chunking parameters): a retry cuts the same chunks.
A UTF-16 file is transcoded once, as a stream, to a UTF-8 object, which is chunked instead. A file that
cannot be split within one invocation is handed over before the deadline: the splitter records a
checkpoint and sends itself a continuation message that resumes there.
"""

from __future__ import annotations

import dataclasses
import logging
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from email.message import Message
from enum import StrEnum
from functools import partial
from pathlib import PurePosixPath
from typing import Any

from product_importer.ingest import rows
from product_importer.ingest.chunking import ByteRange, SplitPosition, split_ranges
from product_importer.ingest.encoding import (
    CP1252,
    UTF16_BE_BOM,
    UTF16_LE_BOM,
    UnknownEncodingError,
    normalize_encoding,
    transcode_to_utf8,
    valid_utf8,
)
from product_importer.ingest.errors import HeaderError
from product_importer.ingest.header import sniff
from product_importer.ingest.plan import SNIFF_BYTES, FilePlan
from product_importer.ingest.records import family_key
from product_importer.models import (
    ChunkMessage,
    Import,
    ImportOptions,
    ImportStatus,
    ReplaceOptions,
    SplitContinuation,
    SplitPlan,
    SplitRequest,
    partner_name,
    utcnow,
)
from product_importer.naming import DROP_PREFIX, TRANSCODED_PREFIX, UPLOAD_PREFIX
from product_importer.pipeline import finish, lifecycle
from product_importer.pipeline.s3events import ObjectCreated
from product_importer.ports import (
    ChunkLedger,
    JobLedger,
    MessageQueue,
    ObjectGoneError,
    ObjectInfo,
    ObjectStore,
    PlanStore,
    ProgressStore,
)

logger = logging.getLogger(__name__)

_DROP_NAMESPACE = uuid.UUID("6f1c3a52-8d0e-4a51-9a57-4f4f1e0c2b11")

TimeLeft = Callable[[], float]  # seconds this invocation may still spend before it hands over


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
    ledger: ChunkLedger  # PostgreSQL: committed totals, the import registry
    plans: PlanStore
    next_import_number: Callable[[], int]
    saved_mappings: Callable[[], Sequence[Mapping[str, Any]]]  # candidates for ingest.sniff
    limits: SplitLimits
    jobs: JobLedger  # PostgreSQL's side of an import's end (and of a replace that ends it)

    def job_ports(self, time_left: TimeLeft) -> finish.JobPorts:
        return finish.JobPorts(self.progress, self.ledger, self.jobs, self.chunks, time_left)


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
    return _split_import(import_id, item, event, drop_info, ports, time_left)


def split_request(request: SplitRequest, ports: SplitterPorts, time_left: TimeLeft = unlimited) -> SplitResult:
    """``POST /api/imports/{id}/apply``: split an existing import's pinned object (no S3 event comes)."""
    item = ports.progress.get_item(request.import_id)
    if item is None:
        return SplitResult(Outcome.IGNORED, request.import_id, reason="no such import")
    event = ObjectCreated(bucket=request.bucket, key=request.key, size=0, etag=request.etag,
                          version_id=request.version_id, sequencer=None)
    return _split_import(request.import_id, item, event, None, ports, time_left)


def continue_split(message: SplitContinuation, ports: SplitterPorts, time_left: TimeLeft = unlimited) -> SplitResult:
    """The splitter's continuation: go on splitting from the message's checkpoint."""
    import_id = message.import_id
    item = ports.progress.get_item(import_id)
    if item is None or item.get("status") != ImportStatus.PROCESSING.value:
        return SplitResult(Outcome.DUPLICATE, import_id)
    if item.get("chunks_total") is not None:
        finish.finish_if_done(import_id, ports.job_ports(time_left))
        return SplitResult(Outcome.DUPLICATE, import_id)
    plan = ports.plans.get(import_id)
    if plan is None:
        raise RuntimeError(f"import {import_id} has a continuation but no plan")
    position = SplitPosition(message.chunk_no, message.offset, message.first_row, message.context,
                             message.context_key)
    stored = ports.plans.checkpoint(import_id)
    if stored is not None and int(stored.position["offset"]) > position.offset:
        if stored.sent:  # a later continuation exists: this one is a stale duplicate
            return SplitResult(Outcome.DUPLICATE, import_id)
        position = position_from_json(stored.position)
    return _split(plan, int(item["import_no"]), position, ports, time_left)


def _split_import(import_id: str, item: dict[str, Any], event: ObjectCreated, info: ObjectInfo | None,
                  ports: SplitterPorts, time_left: TimeLeft) -> SplitResult:
    status = item.get("status")
    if status not in (ImportStatus.PENDING.value, ImportStatus.PROCESSING.value):
        return SplitResult(Outcome.DUPLICATE, import_id)
    if status == ImportStatus.PROCESSING.value and item.get("chunks_total") is not None:
        # Split before; a crash may have come between set_totals and completion: decide it again.
        finish.finish_if_done(import_id, ports.job_ports(time_left))
        return SplitResult(Outcome.DUPLICATE, import_id)
    try:
        info = info or ports.objects.head(event.bucket, event.key, event.version_id)
    except ObjectGoneError:
        # The file was deleted (or replaced without versioning) before we got to it.
        lifecycle.fail_import(ports.progress, ports.ledger, import_id, lifecycle.FILE_GONE)
        return SplitResult(Outcome.FAILED, import_id, reason="gone")
    if not ports.progress.start(import_id, version_id=info.version_id, etag=info.etag):
        return SplitResult(Outcome.DUPLICATE, import_id)

    plan = ports.plans.get(import_id)
    if plan is None:
        is_drop = item.get("source") == "s3-drop"
        maximum = ports.limits.max_drop_bytes if is_drop else ports.limits.max_upload_bytes
        failure: str | None = None
        if info.size > maximum:
            failure = lifecycle.too_big(info.size, maximum)
        else:
            try:
                plan = _make_plan(import_id, event, info, item, ports)
            except HeaderError as exc:  # the file itself cannot be read: fail at once, never retry
                failure = str(exc)
                read: FilePlan | None = getattr(exc, "plan", None)  # how far it was read (missing columns)
                if read is not None:  # what it was read with, the saved mapping too: the error may be its
                    ports.progress.record_plan(import_id, encoding=read.encoding, profile=read.profile,
                                               mapping=_mapping_in_effect(read))
        if is_drop:  # PostgreSQL learns of a drop here (an upload was registered by the API); idempotent
            replace = _replace_options(FilePlan.from_json(plan.file_plan)) if plan is not None else None
            ports.ledger.register_import(import_id, import_no=int(item["import_no"]), partner=item.get("partner"),
                                         replace_scope=replace.scope if replace else None)
        if failure is not None:
            lifecycle.fail_import(ports.progress, ports.ledger, import_id, failure)
            return SplitResult(Outcome.FAILED, import_id, reason=failure)
        assert plan is not None
        plan = ports.plans.pin(plan)
        _describe(import_id, plan, ports)

    position = SplitPosition(0, plan.data_start, 1)
    stored = ports.plans.checkpoint(import_id)
    if stored is not None:
        if stored.sent:  # an earlier delivery handed the rest to a continuation message
            return SplitResult(Outcome.DUPLICATE, import_id)
        position = position_from_json(stored.position)  # it stopped before sending one: go on from there
    return _split(plan, int(item["import_no"]), position, ports, time_left)


# ---- the pass -------------------------------------------------------------------------------------------


def _split(plan: SplitPlan, import_no: int, position: SplitPosition, ports: SplitterPorts,
           time_left: TimeLeft) -> SplitResult:
    import_id = plan.import_id
    stream = ports.objects.stream_from(plan.bucket, plan.key, plan.version_id, position.offset)
    file_plan = FilePlan.from_json(plan.file_plan)
    ranges = split_ranges(
        stream, start=position.offset, delimiter=plan.delimiter, rows_per_chunk=plan.rows_per_chunk,
        bytes_per_chunk=plan.bytes_per_chunk, max_record=plan.max_record_bytes, resume=position,
        family_key=family_key(plan.delimiter, plan.data_encoding, partial(rows.family_key, plan=file_plan),
                              plan.max_record_bytes)
        if rows.has_families(file_plan) else None,
    )
    template = {"import_id": import_id, "import_no": import_no, "bucket": plan.bucket, "key": plan.key,
                "version_id": plan.version_id, "etag": plan.etag}
    state: dict[str, Any] = {"last": None, "stop": None, "sent": 0}

    def messages() -> Iterator[dict[str, Any]]:
        for rng in ranges:
            if state["sent"] and time_left() <= 0:  # at least one chunk per invocation, then hand over
                state["stop"] = SplitPosition(rng.chunk_no, rng.start, rng.first_row, rng.context, rng.context_key)
                return
            state["last"] = rng
            state["sent"] += 1
            yield ChunkMessage(chunk_no=rng.chunk_no, start=rng.start, end=rng.end, first_row=rng.first_row,
                               rows=rng.rows, context=rng.context, **template).model_dump(mode="json")

    try:
        ports.chunks.send_all(messages())
    finally:
        close = getattr(stream, "close", None)
        if close is not None:
            close()
    stop: SplitPosition | None = state["stop"]
    if stop is not None:
        _hand_over(import_id, stop, ports)
        logger.info("split %s: %d chunks sent, continuing at byte %d", import_id, state["sent"], stop.offset)
        return SplitResult(Outcome.CONTINUED, import_id, chunks=state["sent"])
    last: ByteRange | None = state["last"]
    chunks_total = last.chunk_no + 1 if last else position.chunk_no
    rows_total = last.first_row + last.rows - 1 if last else position.first_row - 1
    ports.progress.set_totals(import_id, chunks_total=chunks_total, rows_total=rows_total)
    finish.finish_if_done(import_id, ports.job_ports(time_left))
    logger.info("split %s into %d chunks, %d rows", import_id, chunks_total, rows_total)
    return SplitResult(Outcome.SPLIT, import_id, chunks=chunks_total, rows=rows_total)


def _hand_over(import_id: str, position: SplitPosition, ports: SplitterPorts) -> None:
    """Record the checkpoint, send the continuation, then note that it went out. A crash before the
    message went out is repaired by the redelivery, which resumes from the stored checkpoint."""
    value = position_to_json(position)
    ports.plans.save_checkpoint(import_id, value, sent=False)
    ports.continuations.send_all([SplitContinuation(import_id=import_id, **value).model_dump(mode="json")])
    ports.plans.save_checkpoint(import_id, value, sent=True)


def position_to_json(position: SplitPosition) -> dict[str, Any]:
    return {"chunk_no": position.chunk_no, "offset": position.offset, "first_row": position.first_row,
            "context": list(position.context) if position.context else None, "context_key": position.context_key}


def position_from_json(value: Mapping[str, Any]) -> SplitPosition:
    context = value.get("context")
    return SplitPosition(int(value["chunk_no"]), int(value["offset"]), int(value["first_row"]),
                         (int(context[0]), int(context[1])) if context else None, value.get("context_key"))


# ---- the plan -------------------------------------------------------------------------------------------


def _make_plan(import_id: str, event: ObjectCreated, info: ObjectInfo, item: dict[str, Any],
               ports: SplitterPorts) -> SplitPlan:
    """Read the file's first MiB and decide how it is read and cut. Raises HeaderError (for the user)."""
    options = ImportOptions.model_validate(item.get("options") or {})
    bucket, key, version, size, etag = event.bucket, event.key, info.version_id, info.size, info.etag
    head = ports.objects.read_range(bucket, key, version, 0, min(size, SNIFF_BYTES))
    encoding: str | None = options.encoding
    if encoding is None and item.get("source") == "s3-drop" and not _tells_its_encoding(head, size <= SNIFF_BYTES):
        encoding = declared_encoding(info.content_type)
    file_plan = sniff(
        head, encoding=encoding, profile=options.profile, mapping=options.mapping,
        saved_mappings=ports.saved_mappings() if options.mapping is None and options.saved_mappings is not False
        else (),
        drop_key=key if item.get("source") == "s3-drop" else None, file_size=size,
    )
    if options.mapping_id is not None:  # an applied preview's saved mapping, pinned as it was (its id shown)
        file_plan = dataclasses.replace(file_plan, mapping_id=options.mapping_id)
    if file_plan.transcode:  # UTF-16: chunk its UTF-8 transcoding (offsets in the plan refer to it)
        key = f"{TRANSCODED_PREFIX}{import_id}.csv"
        source = ports.objects.stream_from(bucket, event.key, version, 0)
        written = ports.objects.write_stream(bucket, key, transcode_to_utf8(_blocks(source)))
        version, size, etag = written.version_id, written.size, written.etag
    limits = ports.limits
    return SplitPlan(
        import_id=import_id, bucket=bucket, key=key, version_id=version, etag=etag, size=size,
        file_plan=file_plan.to_json(), delimiter=file_plan.delimiter, data_encoding=file_plan.data_encoding,
        data_start=file_plan.data_start, family_column=file_plan.family_column,
        rows_per_chunk=limits.rows_per_chunk, bytes_per_chunk=limits.bytes_per_chunk,
        max_record_bytes=limits.max_record_bytes, mode=item.get("mode") or "import", max_errors=options.max_errors,
    )


def _tells_its_encoding(head: bytes, complete: bool) -> bool:
    """Whether the file's first bytes say its encoding better than a Content-Type label: a byte-order mark
    (Excel's UTF-16 "Unicode Text" labelled Windows-1252 would be read as garbage), or UTF-8 with characters
    beyond ASCII (tools label everything ISO-8859-1; read as Windows-1252 it would turn ``Café`` into
    ``CafÃ©`` silently). ``complete``: ``head`` is the whole file (no character cut at its end)."""
    if head.startswith((UTF16_LE_BOM, UTF16_BE_BOM)):
        return True
    return not head.isascii() and valid_utf8(head, complete=complete)


def declared_encoding(content_type: str | None) -> str | None:
    """The encoding a drop's ``Content-Type`` charset declares, as the ``encoding`` override of ``POST
    /api/imports`` (CONTRACT §1): a partner has no other way to say its file is Windows-1252 (``aws s3 cp
    --content-type "text/csv; charset=windows-1252"``), and the rows past the first MiB that the detection
    misses would fail. ``windows-1252`` for its labels (also ``cp1252``, ``iso-8859-1``, ``latin1``); None
    (detect as usual) otherwise: without a charset, for UTF-8 (the default: a file labelled UTF-8 that is
    not keeps the Windows-1252 detection), for UTF-16 (Excel writes it with a BOM, which the detection
    reads; a UTF-8 file mislabelled UTF-16 would be garbage) and for a charset we do not read."""
    if not content_type:
        return None
    message = Message()
    message["content-type"] = content_type
    charset = message.get_content_charset()
    if not charset:
        return None
    try:
        encoding = normalize_encoding(charset)
    except UnknownEncodingError:
        return None
    return encoding if encoding == CP1252 else None


def _describe(import_id: str, plan: SplitPlan, ports: SplitterPorts) -> None:
    """The Import object learns what the header decided: encoding, profile, mapping in effect, warnings."""
    file_plan = FilePlan.from_json(plan.file_plan)
    replace = _replace_options(file_plan)
    ports.progress.record_plan(import_id, encoding=file_plan.encoding, profile=file_plan.profile,
                               mapping=_mapping_in_effect(file_plan), warnings=file_plan.import_warnings(),
                               replace={**replace.model_dump(mode="json"), "status": None} if replace else None)


def _mapping_in_effect(file_plan: FilePlan) -> dict[str, Any] | None:
    """The Import's ``mapping`` (CONTRACT §1): the mapping in effect, with the saved mapping's ``id``.

    Under a saved mapping the key "id" is that mapping's id, so a column written ``id`` is shown under the
    first of "ID", "Id", "iD" the mapping does not use: header names match case-insensitively (CONTRACT §1),
    so it names the same column, and the mapping sent back as it is shown reads the file the same way. The
    id took the key over, and the import said nothing of how its ``id`` column was read."""
    mapping = dict(file_plan.mapping) if file_plan.mapping is not None else None
    if mapping is not None and file_plan.mapping_id is not None:
        if "id" in mapping:
            spare = next((k for k in ("ID", "Id", "iD") if k not in mapping), None)
            target = mapping.pop("id")
            if spare is not None:
                mapping[spare] = target
        mapping["id"] = file_plan.mapping_id
    return mapping


def _replace_options(file_plan: FilePlan) -> ReplaceOptions | None:
    """The replace options a drop's saved mapping carries (CONTRACT §2 Replace), defaults filled in."""
    return ReplaceOptions.model_validate(file_plan.replace) if file_plan.replace else None


def _blocks(stream: Any, size: int = 1 << 20) -> Iterator[bytes]:
    try:
        while block := stream.read(size):
            yield block
    finally:
        close = getattr(stream, "close", None)
        if close is not None:
            close()


# ---- which import an object belongs to --------------------------------------------------------------------


def pin_drop_version(event: ObjectCreated, objects: ObjectStore) -> tuple[ObjectCreated, ObjectInfo | None]:
    """A partner drop's import is named after the version written. Events of a versioned bucket carry
    it; the emulator's do not, and there the ETag alone would take identical bytes written twice for a
    duplicate event. Pin the current version then (the drop's one HEAD, returned for reuse)."""
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
    """CONTRACT §4: the first folder under ``incoming/`` (None directly under it), NFC-normalised as the API
    normalises a partner typed in (``models.partner_name``): a folder made on a Mac arrives decomposed.
    None too for a folder no partner can have (``models.partner_name`` refuses it: empty, blank, ``.``,
    ``..``, a control character, over 255 characters): ``incoming/ /x.csv`` gave partner " ", which the
    API's ``partner`` filter, ``partner`` on an import and a mapping's prefix all refuse, so its imports
    could not be found by partner nor given a partner mapping."""
    rest = key[len(DROP_PREFIX):]
    folder = rest.split("/", 1)[0] if "/" in rest else ""
    try:
        return partner_name(folder)
    except ValueError:
        return None


def _create_drop_import(event: ObjectCreated, import_id: str, ports: SplitterPorts) -> dict[str, Any]:
    partner = partner_of(event.key)
    imp = Import(id=import_id, filename=PurePosixPath(event.key).name, source="s3-drop", partner=partner,
                 status=ImportStatus.PENDING, created_at=utcnow())
    import_no = ports.next_import_number()
    if ports.progress.create(imp, import_no=import_no, bucket=event.bucket, key=event.key,
                             version_id=event.version_id):
        return {**imp.model_dump(mode="json"), "import_no": import_no}
    item = ports.progress.get_item(import_id)  # a concurrent delivery created it first
    assert item is not None
    return item
