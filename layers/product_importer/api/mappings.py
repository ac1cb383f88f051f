"""/api/mappings: saved mappings (CRUD) and ``suggest``, the mapping step's reading of a file's first bytes."""

from __future__ import annotations

import re
from typing import Annotated, Any

import psycopg
from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from product_importer.api import deps
from product_importer.api.errors import PayloadTooLargeError
from product_importer.api.imports import (
    MAX_HEADER_NAME,
    MAX_MAPPING_COLUMNS,
    validate_mapping,
    validate_profile,
)
from product_importer.mappings import repository as mappings
from product_importer.mappings.repository import MappingValues
from product_importer.models import PARTNER_PATTERN, Profile, ReplaceOptions
from product_importer.naming import DROP_PREFIX

router = APIRouter(prefix="/api/mappings", tags=["mappings"])

Db = Annotated[psycopg.Connection, Depends(deps.db)]
SUGGEST_MAX_BYTES = 64 * 1024
_SEGMENT = re.compile(PARTNER_PATTERN)


class MappingIn(BaseModel):
    """A saved mapping as POST creates it and PUT replaces it."""

    model_config = ConfigDict(extra="ignore")

    name: str = Field(min_length=1, max_length=255)
    mapping: dict[str, str] = Field(default_factory=dict)
    profile: Profile | None = None
    headers: list[str] | None = Field(default=None, min_length=1, max_length=MAX_MAPPING_COLUMNS)
    prefix: str | None = Field(default=None, max_length=1024, examples=["incoming/acme/"])
    replace: ReplaceOptions | None = None

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
        return validate_mapping(value) if isinstance(value, dict) else value

    @field_validator("profile", mode="before")
    @classmethod
    def _profile(cls, value: Any) -> Any:
        return validate_profile(value)

    @field_validator("headers")
    @classmethod
    def _headers(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        names = [name.strip() for name in value]
        if any(len(name) > MAX_HEADER_NAME or "\x00" in name for name in names):
            raise ValueError(f"header names are at most {MAX_HEADER_NAME} characters, without NUL")
        if not mappings.header_set(names):
            raise ValueError("headers names at least one column")
        return names

    @field_validator("prefix")
    @classmethod
    def _prefix(cls, value: str | None) -> str | None:
        if value is None:
            return None
        prefix = value.strip()
        if not prefix.endswith("/"):
            prefix += "/"
        segments = prefix.removeprefix(DROP_PREFIX).rstrip("/").split("/")
        if not prefix.startswith(DROP_PREFIX) or not all(_SEGMENT.match(s) for s in segments):
            raise ValueError("a prefix is incoming/<partner>/ (folder names of letters, digits, '.', '_', '-')")
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


@router.get("", response_model=MappingPage)
def list_mappings(conn: Db, limit: Annotated[int, Query(ge=1, le=500)] = 50,
                  cursor: Annotated[str | None, Query(max_length=2048)] = None) -> dict[str, Any]:
    items, next_cursor = mappings.list_mappings(conn, cursor=cursor, limit=limit)
    return {"items": [m.public() for m in items], "next_cursor": next_cursor}


@router.post("", status_code=201, response_model=MappingOut)
def create_mapping(body: MappingIn, conn: Db) -> dict[str, Any]:
    return mappings.create_mapping(conn, body.values()).public()


@router.post("/suggest")
async def suggest(request: Request) -> dict[str, Any]:
    """The file's first bytes (up to 64 KB, ``application/octet-stream``) read as the import will read them."""
    head = await _read_capped(request, SUGGEST_MAX_BYTES)
    raise PayloadTooLargeError(f"not yet: {len(head)}")


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


@router.get("/{mapping_id}", response_model=MappingOut)
def get_mapping(mapping_id: str, conn: Db) -> dict[str, Any]:
    return mappings.get_mapping(conn, mapping_id).public()


@router.put("/{mapping_id}", response_model=MappingOut)
def replace_mapping(mapping_id: str, body: MappingIn, conn: Db) -> dict[str, Any]:
    return mappings.update_mapping(conn, mapping_id, body.values()).public()


@router.delete("/{mapping_id}", status_code=204)
def delete_mapping(mapping_id: str, conn: Db) -> Response:
    mappings.delete_mapping(conn, mapping_id)
    return Response(status_code=204)
