"""/api/imports: create (with a presigned POST), list, get, row errors (JSON and CSV)."""

from __future__ import annotations

import base64
import csv
import io
import uuid
from collections.abc import Iterator
from typing import Annotated, Any

import psycopg
from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse
from psycopg_pool import ConnectionPool
from pydantic import BaseModel, Field, field_validator

from product_importer.api import deps
from product_importer.api.errors import NotFoundError, PayloadTooLargeError
from product_importer.api.permissions import require
from product_importer.aws import cached_client
from product_importer.db.chunks import next_import_number
from product_importer.models import Import, ImportStatus, utcnow
from product_importer.pipeline.splitter import upload_key
from product_importer.ports import ProgressStore
from product_importer.progress import CursorError
from product_importer.settings import Settings

router = APIRouter(prefix="/api/imports", tags=["imports"])

Limit = Annotated[int, Query(ge=1, le=500)]


class CreateImport(BaseModel):
    filename: str = Field(min_length=1, max_length=255)
    size: int | None = Field(default=None, ge=0)
    content_type: str | None = Field(default=None, max_length=255)

    @field_validator("filename")
    @classmethod
    def _csv_only(cls, value: str) -> str:
        name = value.strip()
        if not name.lower().endswith(".csv"):
            raise ValueError("only .csv files can be imported")
        return name


class Upload(BaseModel):
    method: str = "POST"
    url: str
    fields: dict[str, str]
    expires_in: int


class CreatedImport(BaseModel):
    model_config = {"json_schema_extra": {"description": "The new import and where to upload its file"}}

    import_: Import = Field(alias="import")
    upload: Upload


class Page(BaseModel):
    items: list[Any]
    next_cursor: str | None


class RowErrorOut(BaseModel):
    row: int
    sku: str | None
    column: str | None
    message: str
    value: str | None


@router.post("", status_code=201, response_model=CreatedImport, response_model_by_alias=True,
             dependencies=[require("importer")])
def create_import(
    body: CreateImport,
    settings: Annotated[Settings, Depends(deps.settings)],
    progress: Annotated[ProgressStore, Depends(deps.progress)],
    conn: Annotated[psycopg.Connection, Depends(deps.db)],
) -> dict[str, Any]:
    if body.size is not None and body.size > settings.max_upload_bytes:
        raise PayloadTooLargeError(
            f"the file is {body.size:,} bytes; the maximum is {settings.max_upload_bytes:,} bytes")
    imp = Import(id=uuid.uuid4().hex, filename=body.filename, source="upload", status=ImportStatus.PENDING,
                 created_at=utcnow())
    key = upload_key(imp.id)
    progress.create(imp, import_no=next_import_number(conn), bucket=settings.uploads_bucket, key=key)
    content_type = body.content_type or "text/csv"
    post = cached_client("s3").generate_presigned_post(
        Bucket=settings.uploads_bucket,
        Key=key,
        Fields={"Content-Type": content_type},
        Conditions=[["content-length-range", 0, settings.max_upload_bytes], {"Content-Type": content_type}],
        ExpiresIn=settings.upload_url_expires_s,
    )
    return {"import": imp, "upload": Upload(url=post["url"], fields=post["fields"],
                                             expires_in=settings.upload_url_expires_s)}


@router.get("", response_model=Page, dependencies=[require("viewer")])
def list_imports(
    progress: Annotated[ProgressStore, Depends(deps.progress)],
    limit: Limit = 50,
    cursor: str | None = None,
) -> dict[str, Any]:
    items, next_cursor = progress.list(limit=limit, cursor=cursor)
    return {"items": items, "next_cursor": next_cursor}


@router.get("/{import_id}", response_model=Import, dependencies=[require("viewer")])
def get_import(import_id: str, progress: Annotated[ProgressStore, Depends(deps.progress)]) -> Import:
    return _existing(progress, import_id)


@router.get("/{import_id}/errors", response_model=Page, dependencies=[require("viewer")])
def list_errors(
    import_id: str,
    progress: Annotated[ProgressStore, Depends(deps.progress)],
    conn: Annotated[psycopg.Connection, Depends(deps.db)],
    limit: Limit = 50,
    cursor: str | None = None,
) -> dict[str, Any]:
    _existing(progress, import_id)
    after = _decode_error_cursor(cursor) if cursor else (0, 0)
    rows = conn.execute(
        "SELECT row_no, id, sku, column_name, message, value FROM row_errors"
        " WHERE import_id = %s AND (row_no, id) > (%s, %s) ORDER BY row_no, id LIMIT %s",
        (import_id, after[0], after[1], limit + 1),
    ).fetchall()
    page, more = rows[:limit], len(rows) > limit
    items = [RowErrorOut(row=r[0], sku=r[2], column=r[3], message=r[4], value=r[5]) for r in page]
    next_cursor = _encode_error_cursor(page[-1][0], page[-1][1]) if more else None
    return {"items": items, "next_cursor": next_cursor}


@router.get("/{import_id}/errors.csv", response_class=StreamingResponse, dependencies=[require("viewer")])
def errors_csv(
    import_id: str,
    progress: Annotated[ProgressStore, Depends(deps.progress)],
    pool: Annotated[ConnectionPool, Depends(deps.pool)],
) -> StreamingResponse:
    imp = _existing(progress, import_id)
    filename = f"{imp.filename.removesuffix('.csv')}-errors.csv".replace('"', "")
    return StreamingResponse(
        _error_rows_csv(pool, import_id),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(cell: object) -> str:
    """A cell a spreadsheet will not execute: formula-like text gets a leading apostrophe."""
    text = "" if cell is None else str(cell)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _error_rows_csv(pool: ConnectionPool, import_id: str) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["row", "sku", "column", "message", "value"])
    yield "\ufeff" + buffer.getvalue()
    # A connection of its own: the response streams after the route's dependencies are closed.
    with pool.connection() as conn, conn.cursor(name="errors_csv") as cur:
        cur.itersize = 2000
        cur.execute("SELECT row_no, sku, column_name, message, value FROM row_errors WHERE import_id = %s"
                    " ORDER BY row_no, id", (import_id,))
        for record in cur:
            buffer.seek(0)
            buffer.truncate()
            writer.writerow([record[0], *(neutralise(c) for c in record[1:])])
            yield buffer.getvalue()


def _existing(progress: ProgressStore, import_id: str) -> Import:
    imp = progress.get(import_id)
    if imp is None:
        raise NotFoundError(f"import {import_id} not found")
    return imp


def _encode_error_cursor(row_no: int, error_id: int) -> str:
    return base64.urlsafe_b64encode(f"{row_no}:{error_id}".encode()).decode()


def _decode_error_cursor(cursor: str) -> tuple[int, int]:
    try:
        row_no, error_id = base64.urlsafe_b64decode(cursor.encode()).decode().split(":")
        return int(row_no), int(error_id)
    except (ValueError, UnicodeDecodeError) as exc:
        raise CursorError("invalid cursor") from exc

