"""How an import ends: the decisions several handlers share, each written once (issue 9).

- The end of a run (``completed``, ``previewed``, after its replace) is ``pipeline.finish``'s: the
  splitter (which learns ``chunks_total`` last) asks on every delivery, the final consumer after its
  chunk; the conditional write lets exactly one of them end it.
- ``fail_import``: an import ends ``failed`` with a reason written for its user, first in PostgreSQL (so
  that its late chunks write nothing), then in the progress store; the detail (exception text, keys,
  hosts) goes to the log with the import id, never into ``Import.error``.
- The reasons for the ends the pipeline itself decides (a dead letter, an expired upload, a file too
  big or gone) live here too.
"""

from __future__ import annotations

import logging

from product_importer.ports import ChunkLedger, ProgressStore

logger = logging.getLogger(__name__)

FILE_GONE = "the uploaded file no longer exists; upload it again"
FILE_GONE_WHILE_IMPORTING = ("the uploaded file was deleted while it was being imported, so the rest of it could "
                             "not be read; what was imported so far stays (it can be reverted): upload it again")


def upload_expired(hours: float) -> str:
    return (f"upload expired: the file did not arrive within {hours:g} hours; start a new import and "
            "upload the file again")


def file_unreadable(attempts: int) -> str:
    return (f"the file could not be read after {attempts} attempts; try importing it again later, and split it "
            "into smaller files if it keeps failing")


def chunk_dead_lettered(first_row: int, rows: int, attempts: int) -> str:
    """The reason a user reads when a part of the file failed every attempt (its chunk reached the DLQ)."""
    last = first_row + max(rows, 1) - 1
    where = f"row {first_row}" if last == first_row else f"rows {first_row}–{last}"
    return (f"a part of the file ({where}) could not be processed after {attempts} attempts, so the import "
            "stopped; the rows already imported stay (revert the import to undo them). Import the file again, "
            "or split it into smaller files if it keeps failing")


def too_big(size: int, maximum: int) -> str:
    return f"the file is {size:,} bytes; the maximum is {maximum:,} bytes"


def fail_import(progress: ProgressStore, ledger: ChunkLedger, import_id: str, reason: str, *,
                detail: object = None) -> bool:
    """End the import ``failed`` with ``reason`` (for its user); log ``detail`` (for operators)."""
    if detail is not None:
        logger.warning("import %s fails: %s (detail: %s)", import_id, reason, detail)
    else:
        logger.info("import %s fails: %s", import_id, reason)
    ledger.fail_import(import_id, reason)
    return progress.fail(import_id, reason)
