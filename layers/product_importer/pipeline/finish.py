"""How an import's run ends (DESIGN decision 6; issues 13 and 14): decided once, whoever asks.

The splitter (which learns ``chunks_total`` last) and the consumer whose chunk took the committed totals
to ``chunks_total`` both call ``finish_if_done``; so does the redelivery of either after a crash. Every
step is idempotent, and only the last one decides:

1. PostgreSQL's committed totals cover every chunk.
2. The registry records the end (``completed``, or ``previewed`` for a preview): from then on no chunk of
   the import writes. A chunk that failed the import first (``max_errors``) wins: the import ends
   ``failed`` with the registry's reason instead.
3. A replace (the import's ``replace`` options): over the cap (``max_deactivate_percent`` of the products
   in scope) it is ``held`` with a warning and nothing is deactivated; else the products in scope that
   the file does not contain are deactivated, step by step, and a long scope continues in a
   ``ReplaceRequest(completing=True)`` on the chunk queue before time runs out (``continue_replace``).
   A preview plans the same deactivations without writing a product.
4. One conditional write in the progress store: ``processing`` → ``completed`` / ``previewed`` with the
   final counts, the ``replace`` object and the warnings. Only one caller's write succeeds, so the final
   broadcast and the webhook event follow from it exactly once.

"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from product_importer.models import REPLACE_HELD_WARNING, ImportStatus, ImportTotals, ReplaceRequest, utcnow
from product_importer.ports import ChunkLedger, JobLedger, MessageQueue, ProgressStore

logger = logging.getLogger(__name__)

DEFAULT_MAX_DEACTIVATE_PERCENT = 20
TOO_MANY_ROW_ERRORS = "too many row errors"


def unlimited() -> float:
    return float("inf")


@dataclass
class JobPorts:
    """What the end of a run and the later jobs on an import (revert, confirmed replace) need."""

    progress: ProgressStore
    ledger: ChunkLedger  # PostgreSQL: committed totals, failing an import in the registry
    jobs: JobLedger  # PostgreSQL: an import's end, its replace, its revert
    chunks: MessageQueue  # where a long replace continues
    time_left: Callable[[], float] = unlimited  # seconds this invocation may still spend before it hands over


# -- after a chunk, and the end of a run -------------------------------------------------------------------


def after_chunk(import_id: str, totals: ImportTotals, ports: JobPorts) -> bool:
    """Record a chunk's committed totals, and end the run if they are its last (True if this call did).

    One progress write per chunk on the common path: the end is only attempted when the recorded item
    says these totals cover every chunk, or when the snapshot was refused (a redelivery after a crash
    between the commit and the end must still be able to end it)."""
    item = ports.progress.record_snapshot(import_id, totals)
    if item is not None and item.get("chunks_total") != totals.chunks_done:
        return False
    return finish_if_done(import_id, ports, item)


def finish_if_done(import_id: str, ports: JobPorts, item: dict[str, Any] | None = None) -> bool:
    """End the run if every chunk is committed (True if this call wrote the end)."""
    item = item if item is not None else ports.progress.get_item(import_id)
    if item is None or item.get("status") != ImportStatus.PROCESSING.value or item.get("chunks_total") is None:
        return False
    committed = ports.ledger.committed_totals(import_id)
    if committed.chunks_done != item["chunks_total"]:
        return False
    preview = item.get("mode") == "preview"
    status = ImportStatus.PREVIEWED if preview else ImportStatus.COMPLETED
    spec = replace_spec(item)
    end = ports.jobs.end_import(import_id, status, import_no=int(item["import_no"]),
                                mode="preview" if preview else "import", partner=item.get("partner"),
                                replace_scope=spec["scope"] if spec else None)
    if end.status == ImportStatus.FAILED.value:
        # A chunk failed the import first (too many row errors) and the progress store missed it.
        return ports.progress.fail(import_id, end.error or TOO_MANY_ROW_ERRORS)
    if end.status not in (status.value, None):
        logger.warning("import %s is %s in the registry; its run is not ended as %s", import_id, end.status, status)
        return False
    if spec is None:
        return ports.progress.finish(import_id, status, ports.ledger.committed_totals(import_id))
    return _replace_then_finish(import_id, item, spec, status, ports)


# -- replace -------------------------------------------------------------------------------------------------


def replace_spec(item: dict[str, Any]) -> dict[str, Any] | None:
    """The import's replace options (``scope``, ``max_deactivate_percent``), or None for no replace."""
    spec = item.get("replace") or (item.get("options") or {}).get("replace")
    if not spec:
        return None
    percent = spec.get("max_deactivate_percent")
    return {**spec, "scope": spec.get("scope") or "all",
            "max_deactivate_percent": DEFAULT_MAX_DEACTIVATE_PERCENT if percent is None else percent}


REPLACE_HELD = REPLACE_HELD_WARNING  # the warning of a held replace starts so (dropped once it is carried out)

def _replace_then_finish(import_id: str, item: dict[str, Any], spec: dict[str, Any], status: ImportStatus,
                         ports: JobPorts) -> bool:
    preview = status is ImportStatus.PREVIEWED
    scope, partner = spec["scope"], item.get("partner")
    if scope == "partner" and not partner:
        warning = "replace skipped: scope partner needs the import's partner, and this import has none"
        return _finish(import_id, status, {**spec, "status": None}, [warning], ports)
    estimate = ports.jobs.estimate_replace(import_id, scope=scope, partner=partner)
    percent = spec["max_deactivate_percent"]
    if estimate.over(float(percent)):
        share = 100 * estimate.would_deactivate / estimate.in_scope
        what = (f"{estimate.would_deactivate:,} of the {estimate.in_scope:,} products in scope ({share:.1f} %) "
                f"are not in the file, more than the cap of {percent} %")
        if preview:
            warning = f"replace would be held: {what}; the import would deactivate none until confirmed"
        else:
            warning = (f"{REPLACE_HELD} {what}, so none was deactivated; to deactivate them, "
                       f"POST /api/imports/{import_id}/replace?confirm=true")
        logger.info("import %s: replace held (%d of %d in scope)", import_id, estimate.would_deactivate,
                    estimate.in_scope)
        held = {**spec, "status": "held", "would_deactivate": estimate.would_deactivate,
                "in_scope": estimate.in_scope}
        return _finish(import_id, status, held, [warning], ports)
    continuation = ReplaceRequest(import_id=import_id, requested_at=item.get("started_at") or utcnow(),
                                  scope=scope, partner=partner, completing=True)
    if not deactivate(continuation, ports):
        return False  # a continuation message ends the run
    return _finish(import_id, status, {**spec, "status": _carried_out(preview)}, [], ports)


def _carried_out(preview: bool) -> str:
    """The replace's status once its deactivations are recorded: ``done``, or for a preview, which writes no
    product, ``planned`` (a tester read "done" on a preview whose products were all still active)."""
    return "planned" if preview else "done"


def continue_replace(request: ReplaceRequest, ports: JobPorts) -> bool:
    """The rest of the replace that ends a run (``completing``); True if this call ended the run."""
    item = ports.progress.get_item(request.import_id)
    if item is None or item.get("status") != ImportStatus.PROCESSING.value:
        return False  # ended already (a repeated message, or another caller finished it)
    spec = replace_spec(item)
    if spec is None:
        raise ValueError(f"import {request.import_id} has no replace to continue")
    if not deactivate(request, ports):
        return False
    status = ImportStatus.PREVIEWED if item.get("mode") == "preview" else ImportStatus.COMPLETED
    return _finish(request.import_id, status, {**spec, "status": _carried_out(status is ImportStatus.PREVIEWED)}, [],
                   ports)


def deactivate(request: ReplaceRequest, ports: JobPorts) -> bool:
    """Deactivate the products in scope the file lacks, from ``request.after`` on; True when the whole
    scope is done, False when the rest was handed to a new message (time is running out)."""
    after = request.after
    while True:
        step = ports.jobs.deactivate_missing(request.import_id, scope=request.scope, partner=request.partner,
                                             after=after)
        if step.deactivated:  # the import shows (and its watchers hear) the count as it grows
            ports.progress.record_deactivated(request.import_id, step.products_deactivated)
        after = step.next_after
        if after is None:
            return True
        if ports.time_left() <= 0:
            ports.chunks.send_all([request.model_copy(update={"after": after}).model_dump(mode="json")])
            logger.info("import %s: replace continues after %s", request.import_id, after)
            return False


def _finish(import_id: str, status: ImportStatus, replace: dict[str, Any], warnings: Sequence[str],
            ports: JobPorts) -> bool:
    committed = ports.ledger.committed_totals(import_id)  # with the replace's products_deactivated
    return ports.progress.finish(import_id, status, committed, replace=replace, warnings=warnings)
