"""The import requests a user makes, decided here: create (with a presigned upload), apply a preview,
discard, revert, carry out a held replace. Routes call these; they call the stores and the pipeline's
``ImportJobs``. Refusals are typed: ``ImportNotFoundError`` (404), ``ImportConflictError`` (409)."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from product_importer.db.chunks import next_import_number
from product_importer.db.plans import PgPlanStore
from product_importer.db.registry import discard_preview, register_import
from product_importer.db.revert import RevertRefusedError, fail_revert, plan_revert
from product_importer.imports.jobs import ImportJobs
from product_importer.imports.store import ImportRequests
from product_importer.ingest.plan import FilePlan
from product_importer.models import (
    PREVIEW_APPLICABLE_DAYS,
    Import,
    ImportMode,
    ImportOptions,
    ImportStatus,
    ReplaceRequest,
    RevertRequest,
    SplitRequest,
    utcnow,
)
from product_importer.naming import upload_key
from product_importer.transfers import PresignedPost, Transfers

logger = logging.getLogger(__name__)


class ImportNotFoundError(Exception):
    """No import has this id."""


class ImportConflictError(Exception):
    """The import is not in a state that allows the request; the message says why, for the user."""


class PreviewExpiredError(ImportConflictError):
    """A preview older than 7 days cannot be applied any more."""


@dataclass(frozen=True)
class UploadTarget:
    bucket: str
    max_bytes: int
    expires_s: int
    content_type: str


def existing(requests: ImportRequests, import_id: str) -> dict[str, Any]:
    """The import's item, or ``ImportNotFoundError``."""
    item = requests.get_item(import_id)
    if item is None:
        raise ImportNotFoundError(f"import {import_id[:100]} not found")
    return item


def get_import(requests: ImportRequests, import_id: str) -> Import:
    return Import.model_validate(existing(requests, import_id))


def create_import(conn: psycopg.Connection, requests: ImportRequests, transfers: Transfers, target: UploadTarget,
                  *, filename: str, mode: ImportMode, partner: str | None,
                  options: ImportOptions) -> tuple[Import, PresignedPost]:
    """A ``pending`` import with its options (numbered now: created now), and the presigned POST its file
    goes up with."""
    imp = Import(
        id=uuid.uuid4().hex, filename=filename, source="upload", partner=partner, mode=mode,
        status=ImportStatus.PENDING, created_at=utcnow(), profile=options.profile, encoding=options.encoding,
        mapping=options.mapping, replace=_replace_shown(options),
    )
    key = upload_key(imp.id)
    import_no = _register(conn, imp, options)
    requests.create(imp, import_no=import_no, bucket=target.bucket, key=key, options=options)
    post = transfers.presigned_post(target.bucket, key, content_type=target.content_type,
                                    max_bytes=target.max_bytes, expires_s=target.expires_s)
    return imp, post


def _register(conn: psycopg.Connection, imp: Import, options: ImportOptions) -> int:
    """Take the import's number and record it in PostgreSQL's import registry (both committed)."""
    import_no = next_import_number(conn)
    register_import(conn, imp.id, import_no=import_no, mode=imp.mode, partner=imp.partner,
                    replace_scope=options.replace.scope if options.replace else None, preview_of=imp.preview_of,
                    status=ImportStatus.PENDING.value)
    return import_no


def _replace_shown(options: ImportOptions) -> dict[str, Any] | None:
    if options.replace is None:
        return None
    return {**options.replace.model_dump(mode="json"), "status": None}


def _previewed_mapping(conn: psycopg.Connection, preview_id: str,
                       shown: dict[str, Any] | None) -> tuple[dict[str, str] | None, str | None]:
    """(the saved mapping the preview read its file with, its id), or (None, None) when none applied.

    From the preview's pinned plan: the Import's ``mapping`` cannot say it, since its ``id`` key (the saved
    mapping's id, CONTRACT §1) hides the target of a column named ``id``: a saved mapping ``{"id": "sku",
    …}`` was applied without it, and the file the preview had read failed ("missing required column: sku")."""
    plan = PgPlanStore(lambda: conn).get(preview_id)
    if plan is not None:
        file_plan = FilePlan.from_json(plan.file_plan)
        if file_plan.mapping is None:
            return None, None
        return {str(k): str(v) for k, v in file_plan.mapping.items()}, file_plan.mapping_id
    if not shown:  # a preview from before plans were kept
        return None, None
    return {k: v for k, v in shown.items() if k != "id"}, shown.get("id")


def apply_preview(conn: psycopg.Connection, requests: ImportRequests, jobs: ImportJobs, preview_id: str, *,
                  now: datetime | None = None) -> Import:
    """A new import of the preview's file version, with its options, created now (so newer than
    everything before it); the preview gets ``applied_as``. Nothing is uploaded again."""
    preview = existing(requests, preview_id)
    status = preview.get("status")
    if status != ImportStatus.PREVIEWED:
        raise ImportConflictError(f"only a previewed import can be applied; this one is {status}")
    if preview.get("applied_as"):
        raise ImportConflictError(f"this preview was already applied as import {preview['applied_as']}")
    previewed_at = _parse_time(preview.get("finished_at") or preview["created_at"])
    if (now or datetime.now(UTC)) - previewed_at > timedelta(days=PREVIEW_APPLICABLE_DAYS):
        raise PreviewExpiredError(
            f"preview expired: a preview can be applied for {PREVIEW_APPLICABLE_DAYS} days; preview the file again")

    options = ImportOptions.model_validate(preview.get("options") or {})
    # The preview read the file one way: the applied import reads it the same way.
    options = options.model_copy(update={"profile": options.profile or preview.get("profile"),
                                         "encoding": options.encoding or preview.get("encoding")})
    if options.mapping is None:
        # The preview's mapping in effect came from a saved mapping (or none applied): pin it, so that a saved
        # mapping changed, deleted or created since does not read the file another way (CONTRACT §2).
        mapping, mapping_id = _previewed_mapping(conn, preview_id, preview.get("mapping"))
        if mapping is not None:
            options = options.model_copy(update={"mapping": mapping, "mapping_id": mapping_id})
        else:
            options = options.model_copy(update={"saved_mappings": False})
    applied = Import(
        id=uuid.uuid4().hex, filename=preview["filename"], source=preview["source"], partner=preview.get("partner"),
        mode="import", status=ImportStatus.PENDING, created_at=utcnow(), profile=options.profile,
        encoding=options.encoding, mapping=preview.get("mapping"), replace=_replace_shown(options),
        preview_of=preview_id,
    )
    if not requests.claim_apply(preview_id, applied.id):
        raise ImportConflictError("this preview is being applied or was discarded")
    created = False
    try:
        requests.create(applied, import_no=_register(conn, applied, options), bucket=preview["bucket"],
                        key=preview["object_key"],
                        version_id=preview.get("object_version") or None, etag=preview.get("object_etag") or None,
                        options=options)
        created = True
        jobs.start_apply(SplitRequest(import_id=applied.id, bucket=preview["bucket"], key=preview["object_key"],
                                      version_id=preview.get("object_version") or None,
                                      etag=preview.get("object_etag") or None))
    except Exception:
        logger.exception("apply could not start", extra={"import_id": preview_id, "applied_id": applied.id})
        if created:
            requests.delete_unstarted(applied.id)
        requests.release_apply(preview_id, applied.id)
        raise
    return applied


def discard_import(conn: psycopg.Connection, requests: ImportRequests, import_id: str) -> None:
    """Forget a ``previewed`` (never applied) or ``pending`` import."""
    item = existing(requests, import_id)
    status = item.get("status")
    if status not in (ImportStatus.PREVIEWED, ImportStatus.PENDING):
        raise ImportConflictError(f"only a previewed or pending import can be discarded; this one is {status}")
    if item.get("applied_as"):
        raise ImportConflictError(f"this preview was applied as import {item['applied_as']}; it stays as its record")
    if not requests.discard(import_id):
        raise ImportConflictError("the import changed meanwhile (it started or was applied); it is kept")
    if status == ImportStatus.PREVIEWED:
        discard_preview(conn, import_id)  # its planned changes and counts


def request_revert(conn: psycopg.Connection, requests: ImportRequests, jobs: ImportJobs, import_id: str) -> Import:
    """``completed``/``failed`` → ``reverting``: the revert is planned in PostgreSQL (which refuses an
    import reverted already or whose undo data expired) and one job per planned chunk is sent."""
    item = existing(requests, import_id)
    status = item.get("status")
    if item.get("mode") == "preview" or status == ImportStatus.PREVIEWED:
        # say what can be done with it instead: discard_import refuses an applied or failed preview
        if item.get("applied_as"):
            raise ImportConflictError(f"a preview changed nothing to revert; it was applied as import "
                                      f"{item['applied_as']}: revert that one")
        if status == ImportStatus.PREVIEWED:
            raise ImportConflictError("a preview changed nothing to revert; discard it instead")
        raise ImportConflictError(f"a preview changed nothing to revert, and this one is {status}: "
                                  "there is nothing to revert or discard")
    if status == ImportStatus.REVERTED:
        raise ImportConflictError("this import is already reverted")
    if status == ImportStatus.REVERTING:
        raise ImportConflictError("this import is being reverted")
    if status not in (ImportStatus.COMPLETED, ImportStatus.FAILED):
        raise ImportConflictError(f"only a finished import can be reverted; this one is {status}")
    replace = item.get("replace") or {}
    if replace.get("status") == "held" and replace.get("confirmed_at"):
        raise ImportConflictError("its confirmed replace is being carried out; revert the import when it is done")
    try:
        chunks = plan_revert(conn, import_id)
    except RevertRefusedError as exc:
        raise ImportConflictError(_revert_refusal(exc)) from exc
    requested_at = utcnow()
    started = requests.start_revert(import_id, from_status=str(status), requested_at=requested_at)
    if started is None:
        fail_revert(conn, import_id)  # planned but not started: planning again resumes it
        raise ImportConflictError("the import changed meanwhile; try again")
    if chunks == 0:
        # It touched no product: PostgreSQL has it reverted already.
        requests.finish_empty_revert(import_id, requested_at=requested_at)
        return started
    try:
        jobs.start_revert([RevertRequest(import_id=import_id, requested_at=requested_at, chunk_no=n,
                                         chunks_total=chunks) for n in range(chunks)])
    except Exception:
        # The import goes back to its status; PostgreSQL keeps the plan (failed), so asking again resumes it.
        logger.exception("revert could not start", extra={"import_id": import_id})
        fail_revert(conn, import_id)
        requests.cancel_revert(import_id, requested_at=requested_at)
        raise
    return started


def _revert_refusal(exc: RevertRefusedError) -> str:
    from product_importer.db.revert import AlreadyRevertedError, UndoExpiredError

    if isinstance(exc, UndoExpiredError):
        return "undo data expired: an import can be reverted for a limited time after it ran; its history stays"
    if isinstance(exc, AlreadyRevertedError):
        return "this import is already reverted or being reverted"
    return "this import cannot be reverted"


def confirm_replace(requests: ImportRequests, jobs: ImportJobs, import_id: str) -> Import:
    """Carry out a held replace (deactivations over the cap the user now confirms)."""
    item = existing(requests, import_id)
    replace = item.get("replace") or {}
    status = item.get("status")
    if item.get("mode") == "preview" or status == ImportStatus.PREVIEWED:
        raise ImportConflictError("nothing is held: a preview deactivates nothing; apply it, and confirm the "
                                  "replace of the import it makes")
    if status in (ImportStatus.REVERTING, ImportStatus.REVERTED):
        raise ImportConflictError("nothing is held: this import was reverted, and its replace with it")
    if replace.get("status") != "held":
        raise ImportConflictError("nothing is held: this import has no replace waiting for confirmation")
    if replace.get("confirmed_at"):
        raise ImportConflictError("this replace was already confirmed and is being carried out")
    confirmed_at = utcnow()
    confirmed = requests.confirm_replace(import_id, confirmed_at=confirmed_at)
    if confirmed is None:
        raise ImportConflictError("nothing is held: the replace was confirmed or carried out meanwhile")
    try:
        jobs.start_replace(ReplaceRequest(import_id=import_id, requested_at=confirmed_at,
                                          scope=replace.get("scope") or "all", partner=item.get("partner")))
    except Exception:
        logger.exception("replace could not start", extra={"import_id": import_id})
        requests.unconfirm_replace(import_id, confirmed_at=confirmed_at)
        raise
    return confirmed


def _parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))
