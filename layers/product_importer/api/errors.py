"""Domain exceptions → HTTP status, in one place (never by message text)."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from product_importer.progress import CursorError, ProgressError
from product_importer.storage import StorageError


class NotFoundError(Exception):
    """The addressed resource does not exist."""


class ConflictError(Exception):
    """The request conflicts with the current state."""


class PayloadTooLargeError(Exception):
    """The file is bigger than the configured maximum."""


_STATUS: dict[type[Exception], int] = {
    NotFoundError: 404,
    ConflictError: 409,
    PayloadTooLargeError: 413,
    CursorError: 400,
    ProgressError: 503,
    StorageError: 503,
}


def install(app: FastAPI) -> None:
    for exc_type, status in _STATUS.items():
        app.add_exception_handler(exc_type, _responder(status))


def _responder(status: int):  # type: ignore[no-untyped-def]
    async def respond(_request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(exc) or exc.__class__.__name__}, status_code=status)

    return respond
