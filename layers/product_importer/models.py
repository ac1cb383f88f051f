"""The Import object of CONTRACT §2 and the messages that travel between functions."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class ImportStatus(StrEnum):
    PENDING = "pending"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"

    @property
    def final(self) -> bool:
        return self in (ImportStatus.COMPLETED, ImportStatus.FAILED)


def utcnow() -> str:
    """ISO 8601 UTC with milliseconds and a Z, the format of every time in the API."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Import(BaseModel):
    """CONTRACT §2. Counts are ``None`` until known."""

    model_config = ConfigDict(extra="ignore")

    id: str
    filename: str
    source: Literal["upload", "s3-drop"]
    status: ImportStatus
    rows_total: int | None = None
    rows_processed: int = 0
    rows_imported: int = 0
    rows_failed: int = 0
    products_created: int = 0
    products_updated: int = 0
    products_unchanged: int = 0
    chunks_total: int | None = None
    chunks_done: int = 0
    error: str | None = None
    created_at: str
    started_at: str | None = None
    finished_at: str | None = None


class ChunkMessage(BaseModel):
    """What the splitter sends per byte range (DESIGN decision 1): tiny whatever the file size."""

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
    header: str  # the header record, decoded (resolve_header re-reads it)
