"""``handle_dead_letter``: a message that failed every delivery ends its import ``failed`` (DESIGN decision 9).

An out-of-memory kill or a timeout skips every ``except`` in the consumer and the splitter; the one path
that cannot be skipped is the dead-letter queue. A handler on the chunk DLQ and on the object-events DLQ
reads each dead message, finds its import and ends it ``failed`` with a reason the user can act on; what
was committed stays committed. This is the only place where "the last delivery fails the import" is
decided (the consumer and the splitter just let a failing message go round its receives). A dead revert
chunk ends the revert ``failed`` instead (the import back to its status before it), and a dead replace
job ends what it left open (``jobs_runner.dead_job``).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pydantic import ValidationError

from product_importer.models import (
    ChunkMessage,
    ReplaceRequest,
    RevertRequest,
    SplitContinuation,
    SplitRequest,
)
from product_importer.pipeline import lifecycle
from product_importer.pipeline.jobs_runner import dead_job
from product_importer.pipeline.s3events import parse_notification
from product_importer.pipeline.splitter import import_id_for, pin_drop_version
from product_importer.ports import ChunkLedger, JobLedger, ObjectStore, ProgressStore

logger = logging.getLogger(__name__)


class DeadLetter(StrEnum):
    CHUNK = "chunk"
    REVERT = "revert"  # a revert chunk: the revert fails, the import keeps its status before it
    REPLACE = "replace"  # a confirmed replace (held again) or the rest of a completing one (import failed)
    SPLIT = "split"  # an object event, an apply's split request or a continuation
    UNKNOWN = "unknown"


@dataclass
class DeadLetterPorts:
    progress: ProgressStore
    ledger: ChunkLedger
    objects: ObjectStore  # a partner drop's import is named after its version (HEAD when the event lacks it)
    chunk_attempts: int  # the chunk queue's maxReceiveCount
    split_attempts: int  # the object-events queue's maxReceiveCount
    jobs: JobLedger | None = None  # PostgreSQL's side of a revert (needed for revert and replace jobs)


@dataclass(frozen=True)
class DeadLetterResult:
    kind: DeadLetter
    import_ids: tuple[str, ...] = ()
    failed: tuple[str, ...] = ()  # the imports this message ended (others had ended already)


def handle_dead_letter(body: str, ports: DeadLetterPorts) -> DeadLetterResult:
    """End the import of one dead message ``failed``; an unknown message is logged and dropped."""
    try:
        value: Any = json.loads(body)
    except json.JSONDecodeError:
        value = None
    if isinstance(value, dict) and "chunk_no" in value and "start" in value:
        try:
            chunk = ChunkMessage.model_validate(value)
        except ValidationError:
            return _unknown(body)
        reason = lifecycle.chunk_dead_lettered(chunk.first_row, chunk.rows, ports.chunk_attempts)
        return _fail(DeadLetter.CHUNK, [chunk.import_id], reason, ports,
                     f"chunk {chunk.chunk_no} bytes {chunk.start}-{chunk.end} of {chunk.key}")
    if isinstance(value, dict) and value.get("kind") in ("revert", "replace"):
        return _dead_job(value, body, ports)
    reason = lifecycle.file_unreadable(ports.split_attempts)
    if isinstance(value, dict) and value.get("continue_split") is True:
        try:
            continuation = SplitContinuation.model_validate(value)
        except ValidationError:
            return _unknown(body)
        return _fail(DeadLetter.SPLIT, [continuation.import_id], reason, ports, f"continuation at {continuation.offset}")
    if isinstance(value, dict) and value.get("kind") == "split":
        try:
            request = SplitRequest.model_validate(value)
        except ValidationError:
            return _unknown(body)
        return _fail(DeadLetter.SPLIT, [request.import_id], reason, ports, f"split request of {request.key}")
    created = parse_notification(body)
    if created:
        ids = []
        for event in created:
            pinned, _ = pin_drop_version(event, ports.objects)
            import_id = import_id_for(pinned)
            if import_id is not None:
                ids.append(import_id)
        return _fail(DeadLetter.SPLIT, ids, reason, ports, "object event " + ", ".join(e.key for e in created))
    return _unknown(body)


def _fail(kind: DeadLetter, import_ids: list[str], reason: str, ports: DeadLetterPorts, detail: str) -> DeadLetterResult:
    failed = tuple(i for i in import_ids
                   if lifecycle.fail_import(ports.progress, ports.ledger, i, reason, detail=f"dead letter: {detail}"))
    return DeadLetterResult(kind, tuple(import_ids), failed)


def _dead_job(value: dict[str, Any], body: str, ports: DeadLetterPorts) -> DeadLetterResult:
    try:
        job: RevertRequest | ReplaceRequest = (RevertRequest if value["kind"] == "revert" else ReplaceRequest
                                               ).model_validate(value)
    except ValidationError:
        return _unknown(body)
    if ports.jobs is None:
        raise RuntimeError("a dead revert or replace job, and no JobLedger to end it with")
    kind = DeadLetter.REVERT if isinstance(job, RevertRequest) else DeadLetter.REPLACE
    logger.warning("dead %s job of import %s", kind, job.import_id)
    ended = dead_job(job, ports.chunk_attempts, progress=ports.progress, ledger=ports.ledger, jobs=ports.jobs)
    import_failed = ended and isinstance(job, ReplaceRequest) and job.completing  # a revert fails, not its import
    return DeadLetterResult(kind, (job.import_id,), (job.import_id,) if import_failed else ())


def _unknown(body: str) -> DeadLetterResult:
    logger.warning("dead letter of no known shape dropped: %.200s", body)
    return DeadLetterResult(DeadLetter.UNKNOWN)
