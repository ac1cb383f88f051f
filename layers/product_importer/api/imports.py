"""/api/imports: create (with a presigned POST), list, get, discard, apply a preview, revert, confirm a
held replace, row errors (JSON and CSV). The decisions are ``imports.service``'s; this module shapes HTTP."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Response
from fastapi.responses import RedirectResponse, StreamingResponse
from psycopg_pool import ConnectionPool
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from product_importer.api import deps
from product_importer.api.errors import BadRequestError, PayloadTooLargeError, error_responses
from product_importer.api.pages import fit_page, fits_lambda_response
from product_importer.api.permissions import Caller, CurrentCaller, ensure, require
from product_importer.db.changes import changes_summary, list_changes
from product_importer.db.revert import revert_conflicts
from product_importer.imports import service
from product_importer.imports.errors_csv import (
    MEDIA_TYPE,
    content_disposition,
    csv_blocks,
    download_name,
    take_up_to,
)
from product_importer.imports.jobs import ImportJobs
from product_importer.imports.row_errors import iter_row_errors, page_row_errors
from product_importer.imports.store import ImportRequests
from product_importer.mappings import rules
from product_importer.models import (
    Encoding,
    Import,
    ImportMode,
    ImportOptions,
    ImportStatus,
    JsonInt,
    Profile,
    ReplaceOptions,
    partner_name,
)
from product_importer.naming import EXPORT_PREFIX
from product_importer.settings import Settings
from product_importer.transfers import Transfers

# Every route checks a group and uses a store; 404, 413 and 422 are added where they apply (errors.document).
router = APIRouter(prefix="/api/imports", tags=["imports"], responses=error_responses(400, 401, 403, 503))

Limit = Annotated[int, Query(ge=1, le=500)]
Cursor = Annotated[str | None, Query(max_length=2048)]
Requests = Annotated[ImportRequests, Depends(deps.imports)]
Config = Annotated[Settings, Depends(deps.settings)]
Jobs = Annotated[ImportJobs, Depends(deps.jobs)]
Db = deps.Db

_CONTENT_TYPE = re.compile(r"^[\x21-\x7e][\x20-\x7e]*$")


UPLOAD_EXTENSIONS = frozenset({"csv", "tsv", "txt"})
SPREADSHEET_EXTENSIONS = frozenset({"xlsx", "xls", "xlsm", "xlsb", "ods", "numbers"})


# What the validators below accept, told in the OpenAPI document (only there: the validators' words are
# the 422's), so that clients and fuzzers see the rule (ECMA-262 patterns, as JSON Schema has them).
FILENAME_PATTERN = r"^\s*[^\x00-\x1f\x7f-\x9f]*\.([cC][sS][vV]|[tT][sS][vV]|[tT][xX][tT])\s*$"
CONTENT_TYPE_PATTERN = _CONTENT_TYPE.pattern


class CreateImport(BaseModel):
    # An unknown field is a 422, as on every other body of the API: a misspelt option ("modee": "preview",
    # "max_error") was ignored, and the file was imported for real, or without the cap asked for.
    model_config = ConfigDict(extra="forbid")

    filename: str = Field(min_length=1, max_length=255, json_schema_extra={"pattern": FILENAME_PATTERN},
                          description="a .csv, .tsv or .txt file's name, without control characters")
    size: JsonInt | None = Field(default=None, ge=0)
    content_type: str | None = Field(default=None, max_length=255,
                                     json_schema_extra={"pattern": CONTENT_TYPE_PATTERN})
    mode: ImportMode = "import"
    mapping: dict[str, str] | None = None
    profile: Profile | None = None
    encoding: Encoding | None = None
    replace: ReplaceOptions | None = None
    max_errors: JsonInt | None = Field(default=None, ge=0, le=2**31 - 1)
    partner: str | None = Field(default=None, max_length=255,
                                description="admin only: the partner the import is for (its folder name under "
                                            "incoming/, CONTRACT §4)")

    @field_validator("filename")
    @classmethod
    def _text_file(cls, value: str) -> str:
        """A CSV, or the text files spreadsheets save as (CONTRACT §1: Excel's "Unicode Text" is a .txt,
        tab-separated); a workbook gets told how to save one."""
        name = value.strip()
        if any(ord(ch) < 32 or 127 <= ord(ch) < 160 for ch in name):
            raise ValueError("filename must not contain control characters (a NUL, a line break or a tab)")
        extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
        if extension in SPREADSHEET_EXTENSIONS:
            raise ValueError(f'a .{extension} workbook cannot be read: save the sheet as "CSV UTF-8" '
                             '(or "Unicode Text") and import that file')
        if extension not in UPLOAD_EXTENSIONS:
            raise ValueError("only .csv files (or .tsv and .txt text files) can be imported")
        return name

    @field_validator("partner")
    @classmethod
    def _partner(cls, value: str | None) -> str | None:
        return partner_name(value) if value is not None else None

    @field_validator("content_type")
    @classmethod
    def _header_safe(cls, value: str | None) -> str | None:
        if value is not None and not _CONTENT_TYPE.match(value):
            raise ValueError("content_type must be a MIME type in printable ASCII")
        return value

    @field_validator("mapping", mode="before")
    @classmethod
    def _mapping(cls, value: Any) -> Any:
        return rules.checked_mapping(value) if isinstance(value, dict) else value

    @field_validator("profile", mode="before")
    @classmethod
    def _profile(cls, value: Any) -> Any:
        return rules.checked_profile(value) if isinstance(value, str) else value

    @field_validator("encoding", mode="before")
    @classmethod
    def _encoding(cls, value: Any) -> Any:
        return rules.checked_encoding(value) if isinstance(value, str) else value

    @model_validator(mode="after")
    def _partner_scope(self) -> CreateImport:
        if self.replace is not None and self.replace.scope == "partner" and self.partner is None:
            raise ValueError("replace scope 'partner' needs a partner: give 'partner', or use scope 'all'")
        return self

    def options(self) -> ImportOptions:
        return ImportOptions(mapping=self.mapping, profile=self.profile, encoding=self.encoding,
                             replace=self.replace, max_errors=self.max_errors)


class Upload(BaseModel):
    method: str = "POST"
    url: str
    fields: dict[str, str]
    expires_in: int


class CreatedImport(BaseModel):
    model_config = ConfigDict(json_schema_extra={"description": "The new import and where to upload its file"})

    import_: Import = Field(alias="import")
    upload: Upload


class ImportEnvelope(BaseModel):
    import_: Import = Field(alias="import")


class ImportPage(BaseModel):
    items: list[Import]
    next_cursor: str | None


class RowErrorOut(BaseModel):
    row: int
    sku: str | None
    column: str | None
    message: str
    value: str | None


class RowErrorPage(BaseModel):
    items: list[RowErrorOut]
    next_cursor: str | None


@router.post("", status_code=201, response_model=CreatedImport, response_model_by_alias=True,
             dependencies=[require("importer")])
def create_import(body: CreateImport, caller: CurrentCaller, settings: Config, requests: Requests,
                  transfers: Annotated[Transfers, Depends(deps.transfers)],
                  conn: Db) -> dict[str, Any]:
    if body.partner is not None or body.replace is not None:
        ensure(caller, "admin")  # CONTRACT §8: only admins import for a partner, or replace
    if body.size is not None and body.size > settings.max_upload_bytes:
        raise PayloadTooLargeError(
            f"the file is {body.size:,} bytes; the maximum is {settings.max_upload_bytes:,} bytes")
    target = service.UploadTarget(bucket=settings.uploads_bucket, max_bytes=settings.max_upload_bytes,
                                  expires_s=settings.upload_url_expires_s,
                                  content_type=body.content_type or "text/csv")
    imp, post = service.create_import(conn, requests, transfers, target, filename=body.filename, mode=body.mode,
                                      partner=body.partner, options=body.options())
    return {"import": imp, "upload": Upload(url=post.url, fields=post.fields, expires_in=post.expires_in)}


@router.get("", response_model=ImportPage, dependencies=[require("viewer")])
def list_imports(
    requests: Requests,
    limit: Limit = 50,
    cursor: Cursor = None,
    status: ImportStatus | None = None,
    mode: ImportMode | None = None,
    partner: Annotated[str | None, Query(max_length=1024, description="a drop's partner (its folder name)")] = None,
) -> dict[str, Any]:
    # Any partner a drop can have (CONTRACT §4: a folder name, up to 255 characters, stored NFC) is a filter
    # that finds its imports; a value no partner can have finds none (the 64-character cap refused longer ones).
    # An empty (or blank) one is no filter, as ?brand=, ?category= and ?q= are on products: a form that sends
    # its cleared field (?partner=&status=failed) listed nothing at all.
    if partner is not None and not partner.strip():
        partner = None
    if partner is not None:
        try:
            partner = partner_name(partner)
        except ValueError:
            return {"items": [], "next_cursor": None}
    items, next_cursor = fit_page(lambda n: requests.list(limit=n, cursor=cursor, status=status.value if status
                                                          else None, mode=mode, partner=partner), limit)
    return {"items": items, "next_cursor": next_cursor}


@router.get("/{import_id}", response_model=Import, dependencies=[require("viewer")])
def get_import(import_id: str, requests: Requests) -> Import:
    return service.get_import(requests, import_id)


def _admin_for_admins_options(caller: Caller, imp: Import) -> None:
    """CONTRACT §8: ``replace`` and ``partner`` are an admin's; so is applying or discarding an import that
    carries them (an importer could otherwise apply an admin's partner preview, or drop an admin's replace)."""
    if imp.replace is not None or imp.partner is not None:
        ensure(caller, "admin")


@router.delete("/{import_id}", status_code=204, responses=error_responses(409), dependencies=[require("importer")])
def discard_import(import_id: str, caller: CurrentCaller, requests: Requests, conn: Db) -> Response:
    _admin_for_admins_options(caller, service.get_import(requests, import_id))
    service.discard_import(conn, requests, import_id)
    return Response(status_code=204)


@router.post("/{import_id}/apply", status_code=201, response_model=ImportEnvelope, response_model_by_alias=True,
             responses=error_responses(409), dependencies=[require("importer")])
def apply_preview(import_id: str, caller: CurrentCaller, requests: Requests, jobs: Jobs, conn: Db) -> dict[str, Any]:
    _admin_for_admins_options(caller, service.get_import(requests, import_id))
    return {"import": service.apply_preview(conn, requests, jobs, import_id)}


@router.post("/{import_id}/revert", status_code=202, response_model=ImportEnvelope, response_model_by_alias=True,
             responses=error_responses(409), dependencies=[require("admin")])
def revert_import(import_id: str, requests: Requests, jobs: Jobs, conn: Db) -> dict[str, Any]:
    return {"import": service.request_revert(conn, requests, jobs, import_id)}


@router.post("/{import_id}/replace", status_code=202, response_model=ImportEnvelope, response_model_by_alias=True,
             responses=error_responses(409), dependencies=[require("admin")])
def confirm_replace(import_id: str, requests: Requests, jobs: Jobs, confirm: deps.Confirm = None) -> dict[str, Any]:
    if not deps.confirmed(confirm):
        raise BadRequestError("carrying out a held replace needs ?confirm=true")
    return {"import": service.confirm_replace(requests, jobs, import_id)}


@router.get("/{import_id}/errors", response_model=RowErrorPage, dependencies=[require("viewer")])
def list_errors(
    import_id: str,
    requests: Requests,
    conn: Db,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> dict[str, Any]:
    service.existing(requests, import_id)
    items, next_cursor = fit_page(lambda n: page_row_errors(conn, import_id, cursor=cursor, limit=n), limit)
    return {"items": items, "next_cursor": next_cursor}


@router.get("/{import_id}/errors.csv", response_class=StreamingResponse,
            responses={200: {"description": "the row errors as CSV (row, sku, column, message, value)",
                             "content": {"text/csv": {"schema": {"type": "string"}}}},
                       303: {"description": "in AWS, a larger file: download it from Location",
                             "headers": {"Location": {"schema": {"type": "string"}}}}},
            dependencies=[require("viewer")])
def errors_csv(
    import_id: str,
    requests: Requests,
    settings: Config,
    pool: Annotated[ConnectionPool, Depends(deps.pool)],
    transfers: Annotated[Transfers, Depends(deps.transfers)],
) -> Response:
    imp = service.get_import(requests, import_id)
    disposition = content_disposition(download_name(imp.filename))
    headers = {"Content-Disposition": disposition}
    if settings.local_mode:
        return StreamingResponse(_stream_errors(pool, import_id), media_type=MEDIA_TYPE, headers=headers)
    # In AWS a response is buffered and stops at 6 MB: a small file is the response, a larger one is
    # written to S3 as it is read (memory stays flat) and downloaded with a short-lived URL.
    key = f"{EXPORT_PREFIX}{import_id}/{uuid.uuid4().hex}/errors.csv"
    with pool.connection() as conn:
        blocks = csv_blocks(iter_row_errors(conn, import_id))
        head, everything = take_up_to(blocks, settings.errors_csv_inline_max_bytes)
        if everything is None:
            body = b"".join(head)
            if fits_lambda_response(body):
                return Response(body, media_type=MEDIA_TYPE, headers=headers)
            everything = iter([body])  # within the size but not once escaped (non-Latin text): S3 too
        transfers.write_stream(settings.uploads_bucket, key, everything, content_type=MEDIA_TYPE)
    url = transfers.presigned_get(settings.uploads_bucket, key, expires_s=settings.download_url_expires_s,
                                  content_type=MEDIA_TYPE, content_disposition=disposition)
    return RedirectResponse(url, status_code=303)


def _stream_errors(pool: ConnectionPool, import_id: str) -> Iterator[bytes]:
    # A connection of its own: the response streams after the route's dependencies are closed.
    with pool.connection() as conn:
        yield from csv_blocks(iter_row_errors(conn, import_id))


Action = Literal["create", "update", "unchanged", "deactivate"]


class FieldChange(BaseModel):
    from_: Any = Field(alias="from")
    to: Any


class ChangeOut(BaseModel):
    sku: str
    action: str
    changes: dict[str, FieldChange] = Field(default_factory=dict)


class ChangePage(BaseModel):
    items: list[ChangeOut]
    next_cursor: str | None


class ChangesSummary(BaseModel):
    model_config = ConfigDict(extra="allow")

    create: int
    update: int
    unchanged: int
    deactivate: int
    fields: dict[str, int]


class ConflictOut(BaseModel):
    sku: str
    changed_by: dict[str, Any]
    at: str | None


class ConflictPage(BaseModel):
    items: list[ConflictOut]
    next_cursor: str | None


@router.get("/{import_id}/changes", response_model=ChangePage, response_model_by_alias=True,
            dependencies=[require("viewer")])
def list_import_changes(
    import_id: str,
    requests: Requests,
    conn: Db,
    action: Action | None = None,
    sku: Annotated[str | None, Query(max_length=64, description="SKU prefix, case-insensitive")] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """The planned (preview) or applied (import) change of every product, by SKU."""
    service.existing(requests, import_id)
    items, next_cursor = fit_page(lambda n: list_changes(conn, import_id, action=action, sku_prefix=sku or None,
                                                         cursor=cursor, limit=n), limit)
    return {"items": items, "next_cursor": next_cursor}


@router.get("/{import_id}/changes/summary", response_model=ChangesSummary, dependencies=[require("viewer")])
def import_changes_summary(import_id: str, requests: Requests, conn: Db) -> dict[str, Any]:
    service.existing(requests, import_id)
    return changes_summary(conn, import_id)


@router.get("/{import_id}/revert/conflicts", response_model=ConflictPage, dependencies=[require("viewer")])
def list_revert_conflicts(import_id: str, requests: Requests, conn: Db, limit: Limit = 50,
                          cursor: Cursor = None) -> dict[str, Any]:
    """Products the revert left alone, with what changed them since."""
    service.existing(requests, import_id)
    items, next_cursor = fit_page(lambda n: revert_conflicts(conn, import_id, cursor=cursor, limit=n), limit)
    return {"items": items, "next_cursor": next_cursor}
