"""/api/imports: create (with a presigned POST), list, get, discard, apply a preview, revert, confirm a
held replace, row errors (JSON and CSV). The decisions are ``imports.service``'s; this module shapes HTTP."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Annotated, Any, Literal

import psycopg
from fastapi import APIRouter, Depends, Query, Response
from fastapi.responses import RedirectResponse, StreamingResponse
from psycopg_pool import ConnectionPool
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from product_importer.api import deps
from product_importer.api.errors import BadRequestError, PayloadTooLargeError
from product_importer.db.chunks import next_import_number
from product_importer.imports import service
from product_importer.imports.errors_csv import (
    MEDIA_TYPE,
    content_disposition,
    csv_blocks,
    download_name,
    take_up_to,
)
from product_importer.imports.row_errors import iter_row_errors, page_row_errors
from product_importer.imports.store import ImportRequests
from product_importer.ingest.header import FIELDS
from product_importer.models import (
    PARTNER_PATTERN,
    Encoding,
    Import,
    ImportMode,
    ImportOptions,
    ImportStatus,
    Profile,
    ReplaceOptions,
)
from product_importer.naming import EXPORT_PREFIX
from product_importer.pipeline.jobs import ImportJobs
from product_importer.settings import Settings
from product_importer.transfers import Transfers

router = APIRouter(prefix="/api/imports", tags=["imports"])

Limit = Annotated[int, Query(ge=1, le=500)]
Cursor = Annotated[str | None, Query(max_length=2048)]
Requests = Annotated[ImportRequests, Depends(deps.imports)]
Config = Annotated[Settings, Depends(deps.settings)]
Jobs = Annotated[ImportJobs, Depends(deps.jobs)]

MAX_MAPPING_COLUMNS = 1024
MAX_HEADER_NAME = 255
MAPPING_TARGETS = (*FIELDS, "attribute", "ignore")
_ENCODINGS: dict[str, Encoding] = {
    "utf-8": "utf-8", "utf8": "utf-8", "utf-8-sig": "utf-8",
    "utf-16": "utf-16", "utf16": "utf-16", "utf-16le": "utf-16", "utf-16be": "utf-16",
    "windows-1252": "windows-1252", "windows1252": "windows-1252", "cp1252": "windows-1252",
}
_CONTENT_TYPE = re.compile(r"^[\x21-\x7e][\x20-\x7e]*$")


def validate_mapping(value: dict[str, Any] | None) -> dict[str, str] | None:
    """A mapping ``{"<header as written>": field | "attribute" | "ignore"}``, targets normalised."""
    if value is None:
        return None
    if len(value) > MAX_MAPPING_COLUMNS:
        raise ValueError(f"a mapping names at most {MAX_MAPPING_COLUMNS} columns")
    clean: dict[str, str] = {}
    for header, target in value.items():
        name = header.strip()
        if not name or len(name) > MAX_HEADER_NAME or "\x00" in name:
            raise ValueError(f"mapping keys are header names of 1–{MAX_HEADER_NAME} characters")
        folded = target.strip().lower() if isinstance(target, str) else ""
        if folded not in MAPPING_TARGETS:
            raise ValueError(f"mapping of {name[:60]!r}: {str(target)[:40]!r} is not a field "
                             f"({', '.join(FIELDS)}), 'attribute' or 'ignore'")
        clean[name] = folded
    return clean


def validate_profile(value: str | None) -> str | None:
    return value.strip().lower() if isinstance(value, str) else value


class CreateImport(BaseModel):
    filename: str = Field(min_length=1, max_length=255)
    size: int | None = Field(default=None, ge=0)
    content_type: str | None = Field(default=None, max_length=255)
    mode: ImportMode = "import"
    mapping: dict[str, str] | None = None
    profile: Profile | None = None
    encoding: Encoding | None = None
    replace: ReplaceOptions | None = None
    max_errors: int | None = Field(default=None, ge=0, le=2**31 - 1)
    partner: str | None = Field(default=None, pattern=PARTNER_PATTERN,
                                description="admin only: the partner the import is for (a safe folder name)")

    @field_validator("filename")
    @classmethod
    def _csv_only(cls, value: str) -> str:
        name = value.strip()
        if not name.lower().endswith(".csv"):
            raise ValueError("only .csv files can be imported")
        return name

    @field_validator("content_type")
    @classmethod
    def _header_safe(cls, value: str | None) -> str | None:
        if value is not None and not _CONTENT_TYPE.match(value):
            raise ValueError("content_type must be a MIME type in printable ASCII")
        return value

    @field_validator("mapping", mode="before")
    @classmethod
    def _mapping(cls, value: Any) -> Any:
        return validate_mapping(value) if isinstance(value, dict) else value

    @field_validator("profile", mode="before")
    @classmethod
    def _profile(cls, value: Any) -> Any:
        return validate_profile(value)

    @field_validator("encoding", mode="before")
    @classmethod
    def _encoding(cls, value: Any) -> Any:
        if isinstance(value, str):
            key = value.strip().lower().replace("_", "-").replace(" ", "-")
            return _ENCODINGS.get(key, value)
        return value

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


@router.post("", status_code=201, response_model=CreatedImport, response_model_by_alias=True)
def create_import(body: CreateImport, settings: Config, requests: Requests,
                  transfers: Annotated[Transfers, Depends(deps.transfers)],
                  conn: Annotated[psycopg.Connection, Depends(deps.db)]) -> dict[str, Any]:
    if body.size is not None and body.size > settings.max_upload_bytes:
        raise PayloadTooLargeError(
            f"the file is {body.size:,} bytes; the maximum is {settings.max_upload_bytes:,} bytes")
    target = service.UploadTarget(bucket=settings.uploads_bucket, max_bytes=settings.max_upload_bytes,
                                  expires_s=settings.upload_url_expires_s,
                                  content_type=body.content_type or "text/csv")
    imp, post = service.create_import(requests, transfers, target, filename=body.filename, mode=body.mode,
                                      partner=body.partner, options=body.options(),
                                      import_no=next_import_number(conn))
    return {"import": imp, "upload": Upload(url=post.url, fields=post.fields, expires_in=post.expires_in)}


@router.get("", response_model=ImportPage)
def list_imports(
    requests: Requests,
    limit: Limit = 50,
    cursor: Cursor = None,
    status: ImportStatus | None = None,
    mode: ImportMode | None = None,
    partner: Annotated[str | None, Query(max_length=64)] = None,
) -> dict[str, Any]:
    items, next_cursor = requests.list(limit=limit, cursor=cursor, status=status.value if status else None,
                                       mode=mode, partner=partner)
    return {"items": items, "next_cursor": next_cursor}


@router.get("/{import_id}", response_model=Import)
def get_import(import_id: str, requests: Requests) -> Import:
    return service.get_import(requests, import_id)


@router.delete("/{import_id}", status_code=204)
def discard_import(import_id: str, requests: Requests) -> Response:
    service.discard_import(requests, import_id)
    return Response(status_code=204)


@router.post("/{import_id}/apply", status_code=201, response_model=ImportEnvelope, response_model_by_alias=True)
def apply_preview(import_id: str, requests: Requests, jobs: Jobs,
                  conn: Annotated[psycopg.Connection, Depends(deps.db)]) -> dict[str, Any]:
    applied = service.apply_preview(requests, jobs, import_id, next_import_number=lambda: next_import_number(conn))
    return {"import": applied}


@router.post("/{import_id}/revert", status_code=202, response_model=ImportEnvelope, response_model_by_alias=True)
def revert_import(import_id: str, requests: Requests, jobs: Jobs) -> dict[str, Any]:
    return {"import": service.request_revert(requests, jobs, import_id)}


@router.post("/{import_id}/replace", status_code=202, response_model=ImportEnvelope, response_model_by_alias=True)
def confirm_replace(import_id: str, requests: Requests, jobs: Jobs, confirm: bool = False) -> dict[str, Any]:
    if not confirm:
        raise BadRequestError("carrying out a held replace needs ?confirm=true")
    return {"import": service.confirm_replace(requests, jobs, import_id)}


@router.get("/{import_id}/errors", response_model=RowErrorPage)
def list_errors(
    import_id: str,
    requests: Requests,
    conn: Annotated[psycopg.Connection, Depends(deps.db)],
    limit: Limit = 50,
    cursor: Cursor = None,
) -> dict[str, Any]:
    service.existing(requests, import_id)
    items, next_cursor = page_row_errors(conn, import_id, cursor=cursor, limit=limit)
    return {"items": items, "next_cursor": next_cursor}


@router.get("/{import_id}/errors.csv", response_class=StreamingResponse,
            responses={303: {"description": "in AWS, a larger file: download it from Location"}})
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
            return Response(b"".join(head), media_type=MEDIA_TYPE, headers=headers)
        transfers.write_stream(settings.uploads_bucket, key, everything, content_type=MEDIA_TYPE)
    url = transfers.presigned_get(settings.uploads_bucket, key, expires_s=settings.download_url_expires_s,
                                  content_type=MEDIA_TYPE, content_disposition=disposition)
    return RedirectResponse(url, status_code=303)


def _stream_errors(pool: ConnectionPool, import_id: str) -> Iterator[bytes]:
    # A connection of its own: the response streams after the route's dependencies are closed.
    with pool.connection() as conn:
        yield from csv_blocks(iter_row_errors(conn, import_id))


Action = Literal["create", "update", "unchanged", "deactivate"]
