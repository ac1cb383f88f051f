"""How an import ends: the decisions several handlers share, each written once (issue 9).

- ``complete_if_done``: an import completes when the totals PostgreSQL committed cover every chunk; the
  splitter (which learns ``chunks_total`` last) and the final consumer both ask, on every delivery, and
  the conditional write in the progress store lets exactly one of them complete it.
- ``fail_import``: an import ends ``failed`` with a reason written for its user; the detail (exception
  text, keys, hosts) goes to the log with the import id, never into ``Import.error``.
- The reasons for the ends the pipeline itself decides (a dead letter, an expired upload) live here too.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol

from product_importer.models import ImportTotals

logger = logging.getLogger(__name__)

UPLOAD_EXPIRED = "upload expired: the file never arrived within 24 hours; start a new import and upload it again"
FILE_GONE = "the uploaded file no longer exists; upload it again"
FILE_UNREADABLE = "the file could not be read after {attempts} attempts; try importing it again later"


def chunk_dead_lettered(first_row: int, rows: int, attempts: int) -> str:
    """The reason a user reads when a part of the file failed every attempt (the chunk reached the DLQ)."""
    last = first_row + max(rows, 1) - 1
    where = f"row {first_row}" if last == first_row else f"rows {first_row}–{last}"
    return (f"a part of the file ({where}) could not be processed after {attempts} attempts, so the import "
            "stopped; rows already imported stay (revert the import to undo them). Import the file again "
            "later, or split it into smaller files if it keeps failing")


def too_big(size: int, maximum: int) -> str:
    return f"the file is {size:,} bytes; the maximum is {maximum:,} bytes"


class ImportEnds(Protocol):
    """The part of the progress store that ends imports."""

    def complete_if_done(self, import_id: str, committed: ImportTotals | None = None) -> bool: ...

    def fail(self, import_id: str, reason: str) -> bool: ...


def complete_if_done(progress: ImportEnds, committed_totals: Callable[[str], ImportTotals], import_id: str) -> bool:
    """Complete the import if PostgreSQL's committed totals cover every chunk (True if this call did)."""
    return progress.complete_if_done(import_id, committed_totals(import_id))


def fail_import(progress: ImportEnds, import_id: str, reason: str, *, detail: object = None) -> bool:
    """End the import ``failed`` with ``reason`` (for its user); log ``detail`` (for operators)."""
    if detail is not None:
        logger.warning("import %s fails: %s (detail: %s)", import_id, reason, detail)
    else:
        logger.info("import %s fails: %s", import_id, reason)
    return progress.fail(import_id, reason)
