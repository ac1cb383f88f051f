"""The split plan: how one import's file is read and cut, pinned at its first split.

DESIGN decisions 1 and 12. The file's column plan and header are worked out once, in the splitter, and
stored once per import with the chunking parameters (rows and bytes per chunk, the record limit, the
encoding, the object the chunks are cut from); chunk messages refer to it by import id. A retry of the
split, or a continuation after a deadline, reads the pinned plan, so it cuts the same chunks even if
``CHUNK_ROWS`` changed meanwhile; consumers parse with the same plan.
"""

from __future__ import annotations

from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict

from product_importer.ingest.chunking import SplitPosition


class SplitPlan(BaseModel):
    """Pinned on the import at its first split; never changed afterwards."""

    model_config = ConfigDict(frozen=True)

    import_id: str
    # The object the chunks are byte ranges of: the upload itself, or its UTF-8 transcoding (UTF-16 files).
    bucket: str
    key: str
    version_id: str | None = None
    etag: str | None = None
    size: int
    # How its bytes read: the semantic plan (header, column plan, profile) as JSON, and what the byte
    # level needs of it.
    file_plan: dict[str, Any]
    encoding: str  # the import's encoding ("utf-8", "utf-16", "windows-1252")
    data_encoding: str  # how chunk bytes decode ("utf-8" or "windows-1252")
    delimiter: str
    data_start: int
    family_column: int | None = None
    # How it is cut.
    rows_per_chunk: int
    bytes_per_chunk: int
    max_record_bytes: int


class StoredCheckpoint(BaseModel):
    """Where a split that was cut short stands, and whether its continuation message went out."""

    position: dict[str, Any]
    sent: bool

    @property
    def split_position(self) -> SplitPosition:
        return position_from_json(self.position)


def position_to_json(position: SplitPosition) -> dict[str, Any]:
    return {"chunk_no": position.chunk_no, "offset": position.offset, "first_row": position.first_row,
            "context": list(position.context) if position.context else None, "context_key": position.context_key}


def position_from_json(value: dict[str, Any]) -> SplitPosition:
    context = value.get("context")
    return SplitPosition(int(value["chunk_no"]), int(value["offset"]), int(value["first_row"]),
                         (int(context[0]), int(context[1])) if context else None, value.get("context_key"))


class PlanStore(Protocol):
    """Where split plans live (PostgreSQL: ``db.plans.PgPlanStore``; tests: an in-memory fake)."""

    def pin(self, plan: SplitPlan) -> SplitPlan:
        """Store ``plan`` unless the import has one; return the one stored (the first split's)."""
        ...

    def get(self, import_id: str) -> SplitPlan | None: ...

    def checkpoint(self, import_id: str) -> StoredCheckpoint | None: ...

    def save_checkpoint(self, import_id: str, position: SplitPosition, *, sent: bool) -> bool:
        """Record a checkpoint (only ever forward; at the same offset ``sent`` may turn true)."""
        ...
