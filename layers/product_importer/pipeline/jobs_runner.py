"""The jobs the API sends the consumer about an existing import (``imports.jobs.ImportJobs``), done here.

| message          | queue  | what happens                                                                 |
| ---------------- | ------ | ---------------------------------------------------------------------------- |
| ``RevertRequest``  | chunks | ``run_revert_chunk``: one revert chunk, exactly once; the last one ends it   |
| ``ReplaceRequest`` | chunks | ``run_replace``: a confirmed held replace (or the rest of a completing one)  |

(An apply's ``SplitRequest`` goes to the splitter: ``splitter.split_request``.) Each is a no-op where the
import's item says the work is done or no longer wanted (a repeated or stale message). One that dead-letters
is ended by ``dead_job`` (the ``dead_letter`` function), so that no revert stays ``reverting`` and no run
stays ``processing`` for ever.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from product_importer.models import (
    ChunkMessage,
    ImportStatus,
    ReplaceRequest,
    RevertProgress,
    RevertRequest,
)
from product_importer.pipeline import finish, lifecycle
from product_importer.pipeline.finish import JobPorts
from product_importer.ports import ChunkLedger, JobLedger, ProgressStore, ReplaceRefusedError

logger = logging.getLogger(__name__)

ChunkJob = ChunkMessage | RevertRequest | ReplaceRequest

# How every warning that hands a confirmed replace back ends (a dead job, a restart of the local stack):
# the replace that finishes it drops them.
CONFIRM_AGAIN = "confirm it again to finish it"


# -- what arrives on the queues ---------------------------------------------------------------------------


def parse_chunk_job(body: str) -> ChunkJob:
    """A chunk-queue message: a byte-range chunk, or a job on an import (by its ``kind``)."""
    message: Any = json.loads(body)
    kind = message.get("kind") if isinstance(message, dict) else None
    if kind == "revert":
        return RevertRequest.model_validate(message)
    if kind == "replace":
        return ReplaceRequest.model_validate(message)
    return ChunkMessage.model_validate(message)


# -- revert ---------------------------------------------------------------------------------------------------


def run_revert_chunk(request: RevertRequest, ports: JobPorts) -> RevertProgress | None:
    """Revert one chunk exactly once and publish the revert's totals; the last chunk ends the import
    ``reverted``. None when the revert this message belongs to is no longer running."""
    item = ports.progress.get_item(request.import_id)
    revert = (item or {}).get("revert") or {}
    if item is None or item.get("status") != ImportStatus.REVERTING.value \
            or revert.get("requested_at") != request.requested_at:
        logger.info("revert chunk %s/%d: that revert is not running (a repeated or stale message)",
                    request.import_id, request.chunk_no)
        return None
    progress = ports.jobs.revert_chunk(request.import_id, request.chunk_no)
    ports.progress.record_revert(request.import_id, request.requested_at, progress)
    return progress


def fail_revert(request: RevertRequest, reason: str, progress: ProgressStore, jobs: JobLedger) -> bool:
    """The revert cannot finish: the import goes back to its status before it, ``revert.status`` failed."""
    jobs.fail_revert(request.import_id)
    return progress.fail_revert(request.import_id, request.requested_at, reason)


# -- replace --------------------------------------------------------------------------------------------------


def run_replace(request: ReplaceRequest, ports: JobPorts) -> bool:
    """Carry out a confirmed held replace (or go on with a completing one); True when it is done."""
    if request.completing:
        return finish.continue_replace(request, ports)
    item = ports.progress.get_item(request.import_id)
    replace = (item or {}).get("replace") or {}
    if item is None or replace.get("status") != "held" or replace.get("confirmed_at") != request.requested_at:
        logger.info("replace of %s: nothing held and confirmed at %s (a repeated or stale message)",
                    request.import_id, request.requested_at)
        return False
    if item.get("mode") == "preview":
        logger.warning("replace of %s: a preview writes no product; its held replace is not carried out",
                       request.import_id)
        return False
    try:
        if not finish.deactivate(request, ports):
            return False
    except ReplaceRefusedError:
        logger.info("replace of %s: the import's revert was planned first; nothing more is deactivated",
                    request.import_id)
        return ports.progress.release_replace(request.import_id, request.requested_at,
                                              "the confirmed replace was not carried out: the import's revert "
                                              "had started first")
    committed = ports.ledger.committed_totals(request.import_id)
    # what the replace was (held, or left half done) no longer holds once it is done: said on, the import
    # ended done and still told its user to confirm it again
    warnings = [w for w in item.get("warnings") or []
                if not w.startswith(finish.REPLACE_HELD) and not w.endswith(CONFIRM_AGAIN)]
    announced = replace.get("would_deactivate")
    if isinstance(announced, int | float) and committed.products_deactivated > announced:
        # the catalog moved while the replace waited (an older import's late file, new products in scope): the
        # user confirmed a number and got more, which the import says (found by a tester)
        warnings.append(f"replace: {committed.products_deactivated:,} products were deactivated, "
                        f"{committed.products_deactivated - int(announced):,} more than the {int(announced):,} "
                        "announced when it was held: products in scope that the file lacks were added meanwhile")
    return ports.progress.finish_replace(request.import_id, request.requested_at, committed.products_deactivated,
                                         warnings)


# -- the last delivery ------------------------------------------------------------------------------------------


def dead_job(job: RevertRequest | ReplaceRequest, attempts: int, *, progress: ProgressStore, ledger: ChunkLedger,
             jobs: JobLedger) -> bool:
    """A job that failed every delivery (from the chunk DLQ): end what it leaves open; True if this did."""
    if isinstance(job, RevertRequest):
        return fail_revert(job, f"the revert could not finish: a part of it failed {attempts} times. What was "
                                "reverted stays reverted; revert the import again to finish it", progress, jobs)
    if job.completing:
        return lifecycle.fail_import(progress, ledger, job.import_id,
                                     f"the replace could not be carried out after {attempts} attempts; the rows "
                                     "were imported and stay (revert the import to undo them)")
    return progress.release_replace(job.import_id, job.requested_at,
                                    f"the confirmed replace could not be carried out after {attempts} attempts; "
                                    f"what was deactivated stays; {CONFIRM_AGAIN}")
