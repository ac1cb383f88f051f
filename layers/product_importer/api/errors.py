"""Domain exceptions → HTTP status, in one place (never by message text).

A refusal's message is written for the user and becomes ``detail``. An outage of a store (DynamoDB, S3,
SQS) answers 503 with a plain sentence; its internal detail (hosts, buckets, keys) goes to the log only.
"""

from __future__ import annotations

import logging

import psycopg
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from psycopg_pool import PoolTimeout

from product_importer.imports.service import ImportConflictError, ImportNotFoundError
from product_importer.mappings.repository import MappingConflictError, MappingNotFoundError
from product_importer.products.repository import (
    ConfirmationRequiredError,
    NewerImportError,
    ProductNotFoundError,
)
from product_importer.products.validation import ProductValidationError
from product_importer.progress import CursorError, ProgressError
from product_importer.storage import StorageError
from product_importer.webhooks.signing import InvalidSecretError
from product_importer.webhooks.store import TooManyWebhooksError, WebhookNotFoundError
from product_importer.webhooks.targets import UnsafeTargetError

logger = logging.getLogger(__name__)


class NotFoundError(Exception):
    """The addressed resource does not exist."""


class BadRequestError(Exception):
    """The request is malformed in a way the user can fix (the message says how)."""


class ConflictError(Exception):
    """The request conflicts with the current state."""


class PayloadTooLargeError(Exception):
    """The file is bigger than the configured maximum."""


class UnreadableFileError(Exception):
    """The bytes sent cannot be read as a CSV at all (the message says why): 422."""


_STATUS: dict[type[Exception], int] = {
    NotFoundError: 404,
    BadRequestError: 400,
    ConflictError: 409,
    PayloadTooLargeError: 413,
    UnreadableFileError: 422,
    CursorError: 400,
    ProductNotFoundError: 404,
    WebhookNotFoundError: 404,
    ImportNotFoundError: 404,
    MappingNotFoundError: 404,
    TooManyWebhooksError: 409,
    NewerImportError: 409,
    ImportConflictError: 409,
    MappingConflictError: 409,
    ConfirmationRequiredError: 400,
}

# Outages: the sentence the user sees (the exception's own text is for the log).
_UNAVAILABLE: dict[type[Exception], str] = {
    ProgressError: "the import store is unavailable; try again in a moment",
    StorageError: "file storage or the job queue is unavailable; try again in a moment",
    # no connection within the pool's timeout, or the connection failed (the database restarting)
    PoolTimeout: "the database is unavailable; try again in a moment",
    psycopg.OperationalError: "the database is unavailable; try again in a moment",
}


def _product_invalid(exc: ProductValidationError) -> list[dict[str, object]]:
    return exc.detail()


def _url_unsafe(exc: UnsafeTargetError) -> list[dict[str, object]]:
    return [{"loc": ["body", "url"], "msg": str(exc), "type": "value_error"}]


def _secret_invalid(exc: InvalidSecretError) -> list[dict[str, object]]:
    return [{"loc": ["body", "secret"], "msg": str(exc), "type": "value_error"}]


# 422 with field-level detail, shaped like FastAPI's own request validation errors.
_FIELD_ERRORS = {
    ProductValidationError: _product_invalid,
    UnsafeTargetError: _url_unsafe,
    InvalidSecretError: _secret_invalid,
}


def install(app: FastAPI) -> None:
    for exc_type, status in _STATUS.items():
        app.add_exception_handler(exc_type, _responder(status))
    for exc_type, detail in _FIELD_ERRORS.items():
        app.add_exception_handler(exc_type, _field_responder(detail))
    for exc_type, sentence in _UNAVAILABLE.items():
        app.add_exception_handler(exc_type, _unavailable(sentence))
    app.add_exception_handler(Exception, _internal)


MAX_DETAIL_CHARS = 1000  # a sentence that quotes what the client sent (an id of 60 KB) shows its start


def _short(text: str) -> str:
    return text if len(text) <= MAX_DETAIL_CHARS else text[: MAX_DETAIL_CHARS - 1] + "…"


def _responder(status: int):  # type: ignore[no-untyped-def]
    async def respond(_request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": _short(str(exc) or exc.__class__.__name__)}, status_code=status)

    return respond


def _field_responder(detail):  # type: ignore[no-untyped-def]
    async def respond(_request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": detail(exc)}, status_code=422)

    return respond


def _unavailable(sentence: str):  # type: ignore[no-untyped-def]
    async def respond(request: Request, exc: Exception) -> JSONResponse:
        logger.error("unavailable: %s %s: %s", request.method, request.url.path, exc)
        return JSONResponse({"detail": sentence}, status_code=503, headers={"Retry-After": "5"})

    return respond


async def _internal(request: Request, exc: Exception) -> JSONResponse:
    logger.exception("unhandled error: %s %s", request.method, request.url.path, exc_info=exc)
    return JSONResponse({"detail": "internal error; it has been logged"}, status_code=500)
