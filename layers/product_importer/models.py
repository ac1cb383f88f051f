"""The Import object of CONTRACT §2 and the messages that travel between functions."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError


class ImportStatus(StrEnum):
    """CONTRACT §2: pending → processing → completed | failed; a preview ends previewed; a revert takes a
    finished import through reverting to reverted."""

    PENDING = "pending"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"
    PREVIEWED = "previewed"
    REVERTING = "reverting"
    REVERTED = "reverted"

    @property
    def final(self) -> bool:
        """The import's own run has ended (no more chunks of it will write)."""
        return self in (ImportStatus.COMPLETED, ImportStatus.FAILED, ImportStatus.PREVIEWED,
                        ImportStatus.REVERTING, ImportStatus.REVERTED)

    @property
    def settled(self) -> bool:
        """Nothing runs on the import (its run, or its revert, has ended): the statuses that make a
        webhook event (CONTRACT §6). ``reverting`` is final for its run, but not settled."""
        return self in (ImportStatus.COMPLETED, ImportStatus.FAILED, ImportStatus.PREVIEWED, ImportStatus.REVERTED)


ImportMode = Literal["import", "preview"]
Profile = Literal["generic", "shopify", "woocommerce", "magento"]
Encoding = Literal["utf-8", "utf-16", "windows-1252"]


def utcnow() -> str:
    """ISO 8601 UTC with milliseconds and a Z, the format of every time in the API."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


REPLACE_HELD_WARNING = "replace held:"  # how the warning of a held replace starts (pipeline.finish)
CANCELLED_BY_REVERT = ("replace cancelled: it was held over its cap and not confirmed when the import was reverted, "
                       "so nothing was deactivated")


class Import(BaseModel):
    """CONTRACT §2. Counts are ``None`` until known."""

    model_config = ConfigDict(extra="ignore")

    id: str
    filename: str
    source: Literal["upload", "s3-drop"]
    partner: str | None = None
    mode: ImportMode = "import"
    status: ImportStatus
    profile: str | None = None  # Profile once the header is read (None while pending)
    encoding: str | None = None  # Encoding once the file is sniffed
    mapping: dict[str, Any] | None = None  # the mapping in effect (with the saved mapping's "id")
    warnings: list[str] = Field(default_factory=list)
    rows_total: int | None = None
    rows_processed: int = 0
    rows_imported: int = 0
    rows_failed: int = 0
    rows_skipped: int = 0
    products_created: int = 0
    products_updated: int = 0
    products_unchanged: int = 0
    products_deactivated: int = 0
    chunks_total: int | None = None
    chunks_done: int = 0
    error: str | None = None
    preview_of: str | None = None
    applied_as: str | None = None
    replace: dict[str, Any] | None = None  # {"scope", "max_deactivate_percent", "status"}
    revert: dict[str, Any] | None = None  # {"restored", "deleted", "conflicts", "requested_at", "status", ...}
    created_at: str
    started_at: str | None = None
    finished_at: str | None = None
    reverted_at: str | None = None

    @model_validator(mode="after")
    def _held_replace_of_a_reverted_import(self) -> Import:
        """A replace held over its cap and never confirmed is cancelled by the import's revert (the confirm answers
        409 "this import was reverted"): it reads ``cancelled``, and its warning no longer says to confirm it (a
        tester followed it and got the 409). Only how it reads: the stored item keeps ``held``, so a revert
        that fails gives the held replace back."""
        replace = self.replace or {}
        if (self.status in (ImportStatus.REVERTING, ImportStatus.REVERTED) and replace.get("status") == "held"
                and not replace.get("confirmed_at")):
            self.replace = {**replace, "status": "cancelled"}
            self.warnings = [w for w in self.warnings if not w.startswith(REPLACE_HELD_WARNING)] + [
                CANCELLED_BY_REVERT]
        return self


@dataclass(frozen=True)
class ChunkCounts:
    """What one chunk did (rows and net product effects), as its ledger row records it."""

    rows_seen: int
    rows_imported: int
    rows_failed: int
    products_created: int
    products_updated: int
    products_unchanged: int
    replayed: bool = False  # True: the ledger already had this chunk and nothing was written
    rows_skipped: int = 0  # blank / profile-skipped rows (counted in rows_processed)
    products_deactivated: int = 0  # by a replace (never by a chunk of rows)


@dataclass(frozen=True)
class ImportTotals:
    """The running totals of one import after a chunk (absolute values, for the progress store)."""

    chunks_done: int
    rows_processed: int
    rows_imported: int
    rows_failed: int
    products_created: int
    products_updated: int
    products_unchanged: int
    rows_skipped: int = 0
    products_deactivated: int = 0


@dataclass(frozen=True)
class ChunkResult:
    chunk: ChunkCounts
    totals: ImportTotals
    import_failed: bool = False  # the import is failed: by this chunk (max_errors passed) or before it
    written: bool = True  # False: the import had ended (failed, reverting, …) and the chunk wrote nothing
    error: str | None = None  # why the import failed ("too many row errors" when this chunk failed it)
    # newer imports whose replace deactivated products this chunk wrote late: (import id, its count now)
    late_deactivated: tuple[tuple[str, int], ...] = ()


class ChunkMessage(BaseModel):
    """What the splitter sends per byte range (DESIGN decision 1): tiny whatever the file size.

    The file's plan (header, column plan, encoding) is stored once per import and looked up by
    ``import_id``; it is never copied into the messages. ``context``: the byte range of the first row of
    the row family (a Shopify product) this chunk starts inside, when that family began in an earlier chunk.
    """

    import_id: str
    import_no: int
    bucket: str
    key: str
    version_id: str | None = None
    etag: str | None = None
    chunk_no: int = Field(ge=0)
    start: int = Field(ge=0)
    end: int = Field(ge=0)
    first_row: int = Field(ge=1)
    rows: int = Field(ge=0)
    context: tuple[int, int] | None = None


class SplitPlan(BaseModel):
    """How one import's file is read and cut, pinned at its first split (DESIGN decisions 1 and 12).

    Stored once per import (chunk messages refer to it by ``import_id``, never carry it): the file's
    plan from its header (``ingest.FilePlan`` as JSON: header, column plan, profile, encoding), the
    object the chunks are byte ranges of (the upload, or its UTF-8 transcoding for a UTF-16 file), and
    the chunking parameters. A retry of the split cuts the same chunks even if the settings changed."""

    model_config = ConfigDict(frozen=True)

    import_id: str
    bucket: str
    key: str
    version_id: str | None = None
    etag: str | None = None
    size: int = Field(ge=0)
    file_plan: dict[str, Any]  # ingest.FilePlan.to_json()
    delimiter: str
    data_encoding: str  # how chunk bytes decode: "utf-8" or "windows-1252"
    data_start: int = Field(ge=0)
    family_column: int | None = None
    rows_per_chunk: int = Field(ge=1)
    bytes_per_chunk: int = Field(ge=1)
    max_record_bytes: int = Field(ge=2)
    mode: ImportMode = "import"
    max_errors: int | None = None


class SplitContinuation(BaseModel):
    """The splitter's message to itself when a file cannot be split in one invocation: go on from here."""

    continue_split: Literal[True] = True
    import_id: str
    chunk_no: int = Field(ge=0)
    offset: int = Field(ge=0)
    first_row: int = Field(ge=1)
    context: tuple[int, int] | None = None
    context_key: str | None = None


# -- what POST /api/imports asks for, and the jobs the API hands to the pipeline ---------------------------

# CONTRACT §4: a partner is the first folder under incoming/, whatever S3 folder name a partner system
# writes ("ACME Corp", "Müller GmbH"): at most 255 characters, no '/' and no control characters.
PARTNER_PATTERN = r"^[^/\x00-\x1f\x7f-\x9f]{1,255}$"


def partner_name(value: str) -> str:
    """``value`` as a partner (a folder name under ``incoming/``), NFC-normalised: a folder created on a
    Mac arrives decomposed (``u`` + U+0308) and must still be the partner typed as ``ü``.
    Raises ValueError for a name no drop folder can have (blank, ``.``, ``..``, ``/`` or a control
    character, over 255 characters)."""
    name = unicodedata.normalize("NFC", value)
    if not re.match(PARTNER_PATTERN, name) or not name.strip() or name in (".", ".."):
        raise ValueError("a partner is a folder name under incoming/: 1-255 characters, without '/' or control "
                         "characters, not blank, '.' or '..'")
    return name


def _json_boolean(value: Any) -> Any:
    if value is not None and not isinstance(value, bool):
        raise PydanticCustomError("bool_type", "must be a JSON boolean, true or false (not a number or a string)")
    return value


def _json_number(value: Any) -> Any:
    if isinstance(value, bool | str):
        raise PydanticCustomError("number_type", "must be a JSON number (not a string or a boolean)")
    return value


# A JSON body's booleans and numbers are JSON's own (pydantic's lax mode took 0, 1, "yes", "on" and "true" as
# booleans, and "3" and true as numbers). Only what a JSON body can hold is checked; values read back from
# the stores (DynamoDB's Decimal) pass as before.
JsonBool = Annotated[bool, BeforeValidator(_json_boolean)]
JsonInt = Annotated[int, BeforeValidator(_json_number)]  # an integral number: 3 or 3.0, not 3.5
JsonNumber = Annotated[int | float, BeforeValidator(_json_number)]


PREVIEW_APPLICABLE_DAYS = 7  # CONTRACT §2: a preview can be applied for 7 days


class ReplaceOptions(BaseModel):
    """CONTRACT §2 Replace: products in scope that the file does not contain are deactivated."""

    model_config = ConfigDict(extra="forbid")

    scope: Literal["all", "partner"] = "all"
    max_deactivate_percent: JsonNumber = Field(default=20, ge=0, le=100, allow_inf_nan=False)


class ImportOptions(BaseModel):
    """The options an import was created with (the progress item's ``options`` attribute).

    Written once, when the import is created (``POST /api/imports``, or copied from the preview by
    ``/apply``), never changed afterwards; the splitter and consumers read them. Each is an override:
    ``None`` means "decide from the file" (encoding and profile detection, saved mappings)."""

    model_config = ConfigDict(extra="ignore")

    mapping: dict[str, str] | None = None  # {"<header as written>": field | "attribute" | "ignore"}
    profile: Profile | None = None
    encoding: Encoding | None = None
    replace: ReplaceOptions | None = None
    max_errors: int | None = Field(default=None, ge=0)
    # Set by ``/apply`` (CONTRACT §2: the same mapping as the preview): the saved mapping whose content
    # ``mapping`` is (shown as the mapping's ``id``), and ``saved_mappings=False`` when no saved mapping
    # applied to the preview, so that none saved since applies to the applied import either.
    mapping_id: str | None = None
    saved_mappings: bool | None = None


class SplitRequest(BaseModel):
    """To the object-events queue (the splitter): split this import's pinned object now.

    Sent by ``POST /api/imports/{id}/apply``: the applied import reads the preview's object version,
    so no S3 event will come for it. The splitter handles it like an ObjectCreated event of
    ``bucket``/``key``/``version_id``, except that the import is ``import_id`` (already created,
    ``pending``, with its ``options`` and ``preview_of``), never one derived from the key."""

    kind: Literal["split"] = "split"
    import_id: str
    bucket: str
    key: str
    version_id: str | None = None
    etag: str | None = None


class RevertRequest(BaseModel):
    """To the chunk queue: revert one planned chunk of ``import_id`` (already ``reverting``).

    ``POST /api/imports/{id}/revert`` plans the revert (``db.revert.plan_revert``: ``chunks_total`` SKU
    ranges) and sends one of these per chunk; the consumer runs ``db.revert.revert_chunk(conn,
    import_id=…, chunk_no=…)`` (exactly once by its ledger), writes the revert's totals into the import's
    ``revert`` object, and on the last chunk (``totals.done``) ends the import ``reverted``."""

    kind: Literal["revert"] = "revert"
    import_id: str
    requested_at: str
    chunk_no: int = Field(ge=0)
    chunks_total: int = Field(ge=1)


class ReplaceRequest(BaseModel):
    """To the chunk queue: carry out the held replace of ``import_id`` (``replace.status`` is ``held``,
    ``replace.confirmed_at`` set): ``db.replace.deactivate_missing(conn, import_id, scope=…, partner=…,
    after=…)`` until its ``next_after`` is None (a long scope continues in a new message with ``after``),
    then ``replace.status`` ``done`` and ``products_deactivated`` on the import."""

    kind: Literal["replace"] = "replace"
    import_id: str
    requested_at: str
    scope: Literal["all", "partner"]
    partner: str | None = None
    after: str | None = None  # a continuation: the SKU key to go on after
    # False: a held replace the user confirmed (``requested_at`` = ``replace.confirmed_at``). True: the
    # replace that ends the import itself (still ``processing``), continued in a new message because its
    # scope is long; it was already decided (under the cap) and ends the import when it is done.
    completing: bool = False


# -- what the PostgreSQL side of an import's end, replace and revert reports (the ``JobLedger`` port) --------


@dataclass(frozen=True)
class ImportEnd:
    """The import's status in PostgreSQL's registry after its end was recorded (``completed`` or
    ``previewed``; ``failed`` when a chunk failed it first, with ``error``; None: unknown there)."""

    status: str | None
    error: str | None = None


@dataclass(frozen=True)
class ReplaceEstimate:
    """What a replace would do now: products in scope, and the active ones the file does not contain."""

    in_scope: int
    would_deactivate: int

    def over(self, max_percent: float) -> bool:
        """More than ``max_percent`` of the products in scope would be deactivated (CONTRACT §2)."""
        return self.in_scope > 0 and self.would_deactivate * 100 > max_percent * self.in_scope


@dataclass(frozen=True)
class DeactivationStep:
    deactivated: int  # by this step
    next_after: str | None  # the SKU key to go on after; None when the whole scope is done
    products_deactivated: int  # the import's total so far


@dataclass(frozen=True)
class RevertProgress:
    """A revert's running totals after one of its chunks (absolute, as PostgreSQL committed them)."""

    chunks_total: int
    chunks_done: int
    restored: int
    deleted: int
    conflicts: int
    done: bool  # every chunk committed: the import is ``reverted`` in PostgreSQL
    replayed: bool = False  # this chunk had been committed before: nothing was written now


REPLACE_DONE = "replace"


def event_occasion(imp: Import) -> str:
    """Which of an import's events of its type this state makes: ``REPLACE_DONE`` once a held replace was
    confirmed and carried out (CONTRACT §2: the import stays ``completed``; its receivers hear
    ``import.completed`` again, with the Import after the replace), else '' (the import's end)."""
    replace = imp.replace or {}
    if imp.status == ImportStatus.COMPLETED and replace.get("status") == "done" and replace.get("confirmed_at"):
        return REPLACE_DONE
    return ""


def event_occasion_of_item(item: dict[str, Any]) -> str:
    """``event_occasion`` of a progress-table item as DynamoDB types it (a stream image), without building the
    Import (the broadcaster keys a batch's records by it)."""
    replace = item.get("replace", {}).get("M") or {}
    done = replace.get("status", {}).get("S") == "done" and "confirmed_at" in replace
    return REPLACE_DONE if done and item.get("status", {}).get("S") == ImportStatus.COMPLETED.value else ""
