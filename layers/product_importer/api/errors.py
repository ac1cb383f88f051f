"""Domain exceptions → HTTP status, in one place (never by message text).

A refusal's message is written for the user and becomes ``detail``. An outage of a store (DynamoDB, S3,
SQS) answers 503 with a plain sentence; its internal detail (hosts, buckets, keys) goes to the log only.
"""

from __future__ import annotations

import logging
from typing import Any

import psycopg
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from psycopg_pool import PoolTimeout
from pydantic import BaseModel, ConfigDict

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


class FieldProblem(BaseModel):
    """One refused field of a 422, as FastAPI's request validation words it (``input`` and ``ctx`` may follow)."""

    model_config = ConfigDict(extra="allow")

    loc: list[str | int]
    msg: str
    type: str


class ErrorBody(BaseModel):
    """Every error answer (CONTRACT §3): ``detail`` is a sentence for the user, or, for a 422 about the body or
    the parameters, the list of refused fields."""

    detail: str | list[FieldProblem]


_WHY: dict[int, str] = {
    400: "the path, the query or a cursor cannot be read (a NUL, bytes that are not UTF-8, a cursor this API "
         "did not make, a body that is not JSON), or a confirmation is missing",
    401: "sign-in is on and the request carries no valid access token",
    403: "the caller's group may not do this: detail names the group needed",
    404: "no such resource",
    405: "the path does not answer this method (Allow lists those it does); a product's history is read-only",
    409: "the request conflicts with the resource's current state",
    413: "the body (or the file it announces) is too large",
    422: "the body or a parameter is invalid: detail lists each refused field, or says why in a sentence",
    503: "a store (or the sign-in check) is unavailable for a moment: try again after Retry-After seconds",
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route's decorator: the error statuses it may answer, each ``ErrorBody``."""
    return {status: {"model": ErrorBody, "description": _WHY[status]} for status in statuses}


class NotFoundError(Exception):
    """The addressed resource does not exist."""


class BadRequestError(Exception):
    """The request is malformed in a way the user can fix (the message says how)."""


class HistoryIsReadOnlyError(Exception):
    """A write to ``/api/products/{sku}/history``, which only GET reads: 405 with ``Allow: GET, HEAD``."""


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
    app.add_exception_handler(psycopg.errors.QueryCanceled, _query_canceled)
    app.add_exception_handler(HistoryIsReadOnlyError, _read_only)
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


async def _query_canceled(request: Request, exc: Exception) -> JSONResponse:
    """A statement past the API's ``statement_timeout`` (``API_STATEMENT_TIMEOUT_S``), or one a database
    operator cancelled: a 503 the client can act on, rather than API Gateway's own 504 with no detail."""
    logger.error("query canceled: %s %s: %s", request.method, request.url.path, exc)
    return JSONResponse({"detail": "the database took too long to answer and the request was stopped; try again "
                                   "in a moment (a narrower search or a smaller page answers sooner)"},
                        status_code=503, headers={"Retry-After": "10"})


async def _read_only(_request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": _short(str(exc))}, status_code=405, headers={"Allow": "GET, HEAD"})


async def _internal(request: Request, exc: Exception) -> JSONResponse:
    logger.exception("unhandled error: %s %s", request.method, request.url.path, exc_info=exc)
    return JSONResponse({"detail": "internal error; it has been logged"}, status_code=500)


def document(app: FastAPI) -> None:
    """Make the app's OpenAPI document tell the truth about errors (it listed only FastAPI's 422, as a list
    that a 422 with a sentence broke, and no 400, 404 or 413): to what the routes and routers declare
    (``responses=error_responses(...)``: 400 from the ``InputGuard``, 401/403/503 where a group is checked
    and a store used, 409 where a state conflicts), each operation adds 404 when its path names a
    resource, 413 when it takes a body (the ``InputGuard``'s cap), and 422 when it has parameters or a
    body, every one as ``ErrorBody``. Call once the routes are added; the document is made on first use."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            _declare_errors(generate())
        assert app.openapi_schema is not None
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


_REF = {"$ref": "#/components/schemas/ErrorBody"}


def _declare_errors(schema: dict[str, Any]) -> None:
    body = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for name, definition in body.pop("$defs", {}).items():
        components.setdefault(name, definition)
    components.setdefault("ErrorBody", body)
    for path, item in schema.get("paths", {}).items():
        for method, operation in item.items():
            statuses = set()
            if "{" in path:
                statuses.add(404)
            if method in ("post", "put", "patch"):
                statuses.add(413)
            if operation.get("parameters") or operation.get("requestBody"):
                statuses.add(422)
            responses = operation.setdefault("responses", {})
            for status in sorted(statuses):
                if str(status) not in responses or status == 422:  # FastAPI's 422 says a list; it may be a sentence
                    responses[str(status)] = {"description": _WHY[status],
                                              "content": {"application/json": {"schema": _REF}}}
    # FastAPI's own 422 models, now referred to by nothing
    if not _refers(schema["paths"], "#/components/schemas/HTTPValidationError"):
        components.pop("HTTPValidationError", None)
        others = {name: value for name, value in components.items() if name != "ValidationError"}
        if not _refers(others, "#/components/schemas/ValidationError"):
            components.pop("ValidationError", None)


def _refers(value: Any, ref: str) -> bool:
    if isinstance(value, dict):
        return value.get("$ref") == ref or any(_refers(v, ref) for v in value.values())
    if isinstance(value, list):
        return any(_refers(v, ref) for v in value)
    return False
