"""The FastAPI application: ``create_app()``; ``functions/api/handler.py`` wraps it with Mangum."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, cast

import psycopg
from fastapi import Depends, FastAPI, HTTPException, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from product_importer.api import deps, errors, imports, mappings, products, webhooks
from product_importer.api.errors import NotFoundError
from product_importer.api.guard import REFUSED_BODY, InputGuard
from product_importer.api.head import HeadAsGet
from product_importer.api.permissions import PUBLIC, check_before_validation, require
from product_importer.db.connection import check_database
from product_importer.naming import DROP_PREFIX
from product_importer.settings import Settings


def create_app(static_dir: Path | None = None) -> FastAPI:
    app = FastAPI(
        title="Product Importer",
        version="0.1.0",
        docs_url=None,  # served below, behind the same group check as every route (CONTRACT §8)
        openapi_url=None,
        redoc_url=None,
    )
    errors.install(app)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_middleware(InputGuard)
    app.add_middleware(HeadAsGet)  # outermost: a HEAD is a GET to everything inside

    @app.get("/api/health", tags=["meta"], dependencies=[PUBLIC])
    def health(conn: Annotated[psycopg.Connection, Depends(deps.db)]) -> dict[str, str]:
        check_database(conn)
        return {"status": "ok"}

    @app.get("/api/config", tags=["meta"], dependencies=[PUBLIC])
    def config(settings: Annotated[Settings, Depends(deps.settings)]) -> dict[str, Any]:
        body: dict[str, Any] = {"websocket_url": settings.websocket_url or None,
                                "max_upload_bytes": settings.max_upload_bytes}
        if settings.local_mode:
            body.update(s3_endpoint=settings.aws_endpoint_url, uploads_bucket=settings.uploads_bucket,
                        drop_prefix=DROP_PREFIX)
        body["auth"] = sign_in_config(settings)
        return body

    for module in (imports, mappings, products, webhooks):
        app.include_router(module.router)

    @app.get("/api/openapi.json", include_in_schema=False, dependencies=[require("viewer")])
    def openapi() -> dict[str, Any]:
        return app.openapi()

    @app.get("/api/docs", include_in_schema=False, dependencies=[require("viewer")])
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/api/openapi.json", title="Product Importer API")

    if static_dir is not None and (static_dir / "index.html").exists():
        _serve_spa(app, static_dir)
    return app


async def _validation_error(request: Request, exc: Exception) -> Response:
    """FastAPI's 422, once the route's group check passed (401 / 403 first: CONTRACT §8)."""
    try:
        check_before_validation(request)
    except HTTPException as refused:
        return JSONResponse({"detail": refused.detail}, status_code=refused.status_code, headers=refused.headers)
    guarded = getattr(request.state, REFUSED_BODY, None)
    if guarded is not None:  # the InputGuard's finding (NaN, a lone surrogate, a NUL), not "not JSON"
        return JSONResponse({"detail": _encodable(guarded)}, status_code=422)
    errors = cast(RequestValidationError, exc).errors()
    return JSONResponse({"detail": jsonable_encoder(_encodable(errors))}, status_code=422)


def _encodable(value: Any) -> Any:
    """``value`` with every text made encodable as UTF-8: a 422 echoes the input it refused, and a body of
    other bytes (not UTF-8) or a key with a lone surrogate made its JSON response fail with a 500
    (CONTRACT §3: never a 500 for bad input). Other objects are left to ``jsonable_encoder``."""
    if isinstance(value, str):
        return value.encode("utf-8", "replace").decode("utf-8")  # a lone surrogate becomes "?"
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8", "replace")
    if isinstance(value, dict):
        return {_encodable(k): _encodable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_encodable(v) for v in value]
    return value


def sign_in_config(settings: Settings) -> dict[str, str] | None:
    """How the UI signs in (``/api/config``'s ``auth``); None where the API needs no token."""
    if not settings.auth_enabled:
        return None
    return {
        "type": "cognito",
        "region": settings.aws_region,
        "user_pool_id": settings.auth_user_pool_id,
        "client_id": settings.auth_client_id,
        "domain": settings.auth_domain,
    }


def _serve_spa(app: FastAPI, static_dir: Path) -> None:
    index = static_dir / "index.html"
    app.mount("/assets", StaticFiles(directory=static_dir / "assets", check_dir=False), name="assets")

    @app.get("/{path:path}", include_in_schema=False)
    def spa(path: str) -> FileResponse:
        if path == "api" or path.startswith("api/"):
            raise NotFoundError(f"no such endpoint: /{path}")
        candidate = (static_dir / path).resolve()
        if path and candidate.is_file() and static_dir.resolve() in candidate.parents:
            return FileResponse(candidate)
        return FileResponse(index)
