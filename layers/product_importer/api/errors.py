"""Domain exceptions → HTTP status, in one place (never by message text)."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

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
    ProductNotFoundError: 404,
    WebhookNotFoundError: 404,
    TooManyWebhooksError: 409,
    NewerImportError: 409,
    ConfirmationRequiredError: 400,
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


def _responder(status: int):  # type: ignore[no-untyped-def]
    async def respond(_request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(exc) or exc.__class__.__name__}, status_code=status)

    return respond


def _field_responder(detail):  # type: ignore[no-untyped-def]
    async def respond(_request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": detail(exc)}, status_code=422)

    return respond
