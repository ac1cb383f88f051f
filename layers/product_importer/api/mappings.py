"""/api/mappings: saved mappings (CRUD) and ``suggest``, the mapping step's reading of a file's first bytes."""

from __future__ import annotations

import unicodedata
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from product_importer.api import deps
from product_importer.api.errors import (
    BadRequestError,
    PayloadTooLargeError,
    UnreadableFileError,
    error_responses,
)
from product_importer.api.pages import fit_page
from product_importer.api.permissions import CurrentCaller, ensure, require
from product_importer.ingest.errors import HeaderError
from product_importer.ingest.limits import MAX_HEADER_COLUMNS
from product_importer.ingest.suggest import suggest as suggest_reading
from product_importer.mappings import repository as mappings
from product_importer.mappings import rules
from product_importer.mappings.repository import MappingValues
from product_importer.models import Profile, ReplaceOptions, partner_name
from product_importer.naming import DROP_PREFIX

router = APIRouter(prefix="/api/mappings", tags=["mappings"], responses=error_responses(400, 401, 403, 503))

Db = deps.Db
SUGGEST_MAX_BYTES = 64 * 1024


class MappingIn(BaseModel):
    """A saved mapping as POST creates it and PUT replaces it."""

    # An unknown field is a 422 (it was ignored: "partner": "acme" for "prefix", or a misspelt "headers", saved a
    # mapping that never applies by itself); what GET gives back besides the fields is accepted and ignored.
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=255)
    mapping: dict[str, str] = Field(default_factory=dict)
    profile: Profile | None = None
    headers: list[Annotated[str, Field(json_schema_extra={"pattern": r"\S"})]] | None = Field(
        default=None, min_length=1, max_length=MAX_HEADER_COLUMNS, description="the file's header names, not blank")
    prefix: str | None = Field(default=None, max_length=1024, examples=["incoming/acme/"])
    replace: ReplaceOptions | None = None
    id: Any = Field(default=None, exclude=True, description="read-only: ignored")
    created_at: Any = Field(default=None, exclude=True, description="read-only: ignored")
    updated_at: Any = Field(default=None, exclude=True, description="read-only: ignored")

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        name = value.strip()
        if not name or "\x00" in name:
            raise ValueError("a mapping needs a name")
        return name

    @field_validator("mapping", mode="before")
    @classmethod
    def _mapping(cls, value: Any) -> Any:
        return rules.checked_mapping(value) if isinstance(value, dict) else value

    @field_validator("profile", mode="before")
    @classmethod
    def _profile(cls, value: Any) -> Any:
        return rules.checked_profile(value) if isinstance(value, str) else value

    @field_validator("headers")
    @classmethod
    def _headers(cls, value: list[str] | None) -> list[str] | None:
        return rules.checked_headers(value) if value is not None else None

    @field_validator("prefix")
    @classmethod
    def _prefix(cls, value: str | None) -> str | None:
        if value is None:
            return None
        prefix = unicodedata.normalize("NFC", value.strip())
        if not prefix.endswith("/"):
            prefix += "/"
        segments = prefix.removeprefix(DROP_PREFIX)[:-1].split("/")  # "incoming/acme//": an empty folder
        try:
            if not prefix.startswith(DROP_PREFIX):
                raise ValueError
            for segment in segments:
                partner_name(segment)
        except ValueError:
            raise ValueError("a prefix is incoming/<partner>/ and may go deeper (incoming/acme/daily/): folder "
                             "names without control characters, not blank, '.' or '..'") from None
        return prefix

    @model_validator(mode="after")
    def _replace_needs_prefix(self) -> MappingIn:
        if self.replace is not None and self.prefix is None:
            raise ValueError("replace applies to partner drops: a mapping with replace needs a prefix")
        return self

    def values(self) -> MappingValues:
        return MappingValues(name=self.name, mapping=self.mapping, profile=self.profile, headers=self.headers,
                             prefix=self.prefix,
                             replace=self.replace.model_dump(mode="json") if self.replace else None)


class MappingOut(BaseModel):
    id: str
    name: str
    mapping: dict[str, str]
    profile: str | None
    headers: list[str] | None
    prefix: str | None
    replace: dict[str, Any] | None
    created_at: str
    updated_at: str


class MappingPage(BaseModel):
    items: list[MappingOut]
    next_cursor: str | None


@router.get("", response_model=MappingPage, dependencies=[require("viewer")])
def list_mappings(conn: Db, limit: Annotated[int, Query(ge=1, le=500)] = 50,
                  cursor: Annotated[str | None, Query(max_length=2048)] = None) -> dict[str, Any]:
    items, next_cursor = fit_page(lambda n: mappings.list_mappings(conn, cursor=cursor, limit=n), limit)
    return {"items": [m.public() for m in items], "next_cursor": next_cursor}


@router.post("", status_code=201, response_model=MappingOut, responses=error_responses(409),
             dependencies=[require("importer")])
def create_mapping(body: MappingIn, caller: CurrentCaller, conn: Db) -> dict[str, Any]:
    if body.prefix is not None:
        ensure(caller, "admin")  # CONTRACT §8: partner (prefix) mappings are admins'
    return mappings.create_mapping(conn, body.values()).public()


class SuggestedColumn(BaseModel):
    header: str
    field: str = Field(description="a field, 'attribute' or 'ignore'")
    samples: list[str]


class Suggestion(BaseModel):
    encoding: str
    delimiter: str
    profile: str
    columns: list[SuggestedColumn]
    missing: list[str]
    likeliest: dict[str, list[str]] = Field(
        default_factory=dict, description="for each missing field, the headers most likely to hold it, best first")
    warnings: list[str] = Field(default_factory=list)
    mapping_id: str | None = Field(default=None, description="the saved mapping that applies by itself")


@router.post("/suggest", response_model=Suggestion, dependencies=[require("importer")],
             openapi_extra={"requestBody": {"required": True, "content": {"application/octet-stream": {
                 "schema": {"type": "string", "format": "binary", "maxLength": SUGGEST_MAX_BYTES}}}}})
async def suggest(
    request: Request,
    conn: Db,
    encoding: Annotated[str | None, Query(max_length=40)] = None,
    profile: Annotated[str | None, Query(max_length=40)] = None,
) -> dict[str, Any]:
    """The file's first bytes (up to 64 KB, ``application/octet-stream``) read as the import will read
    them: encoding, delimiter, profile, each column's suggested field with samples, what is missing.
    ``encoding``/``profile``: the overrides the user chose (as on ``POST /api/imports``)."""
    head = await _read_capped(request, SUGGEST_MAX_BYTES)
    try:
        encoding = rules.checked_encoding(encoding) if encoding else None
        profile = rules.checked_profile(profile) if profile else None
    except ValueError as exc:
        raise BadRequestError(str(exc)) from exc
    saved = await run_in_threadpool(mappings.all_mappings, conn)
    try:
        return suggest_reading(head, saved_mappings=[m.candidate() for m in saved], encoding=encoding,
                               profile=profile)
    except HeaderError as exc:
        raise UnreadableFileError(str(exc)) from exc


async def _read_capped(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLargeError(f"send at most the file's first {limit // 1024} KB")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise PayloadTooLargeError(f"send at most the file's first {limit // 1024} KB")
    return bytes(body)


@router.get("/{mapping_id}", response_model=MappingOut, dependencies=[require("viewer")])
def get_mapping(mapping_id: str, conn: Db) -> dict[str, Any]:
    return mappings.get_mapping(conn, mapping_id).public()


@router.put("/{mapping_id}", response_model=MappingOut, responses=error_responses(409),
            dependencies=[require("importer")])
def replace_mapping(mapping_id: str, body: MappingIn, caller: CurrentCaller, conn: Db) -> dict[str, Any]:
    if body.prefix is not None or mappings.get_mapping(conn, mapping_id).prefix is not None:
        ensure(caller, "admin")
    return mappings.update_mapping(conn, mapping_id, body.values()).public()


@router.delete("/{mapping_id}", status_code=204, dependencies=[require("importer")])
def delete_mapping(mapping_id: str, caller: CurrentCaller, conn: Db) -> Response:
    if mappings.get_mapping(conn, mapping_id).prefix is not None:
        ensure(caller, "admin")
    mappings.delete_mapping(conn, mapping_id)
    return Response(status_code=204)
