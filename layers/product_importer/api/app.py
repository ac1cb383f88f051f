"""The FastAPI application: ``create_app()``; ``functions/api/handler.py`` wraps it with Mangum."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, cast

import psycopg
from fastapi import Depends, FastAPI, HTTPException, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

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
    app.add_exception_handler(405, _method_not_allowed)
    app.add_middleware(InputGuard)
    app.add_middleware(HeadAsGet)  # outermost: a HEAD is a GET to everything inside

    @app.get("/api/health", tags=["meta"], dependencies=[PUBLIC], responses=errors.error_responses(400, 503))
    def health(conn: Annotated[psycopg.Connection, Depends(deps.db)]) -> dict[str, str]:
        check_database(conn)
        return {"status": "ok"}

    @app.get("/api/config", tags=["meta"], dependencies=[PUBLIC], responses=errors.error_responses(400))
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
    errors.document(app)

    @app.get("/api/openapi.json", include_in_schema=False, dependencies=[require("viewer")])
    def openapi() -> dict[str, Any]:
        return app.openapi()

    @app.get("/api/docs", include_in_schema=False, dependencies=[require("viewer")])
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/api/openapi.json", title="Product Importer API")

    if static_dir is not None:
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


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


async def _method_not_allowed(request: Request, exc: Exception) -> Response:
    """405 with an ``Allow`` that lists every method the path answers (RFC 9110 §15.5.6). Starlette names only
    the methods of the first route whose path matched, and FastAPI makes a route per method: ``OPTIONS
    /api/imports`` said ``Allow: POST``, leaving out GET."""
    http = cast(StarletteHTTPException, exc)
    allowed = ", ".join(allowed_methods(request))
    return await http_exception_handler(request, StarletteHTTPException(
        405, http.detail, headers={**(http.headers or {}), "Allow": allowed}))


def allowed_methods(request: Request) -> list[str]:
    """The methods a route of the app answers at the request's path (HEAD wherever GET is: ``HeadAsGet``).
    The UI's catch-all (``GET /{path}``) answers 404 under /api, so it counts only outside it."""
    scope = request.scope
    if products.names_history(scope):  # the product routes' {sku:path} would take the history for a SKU
        return ["GET", "HEAD"]
    under_api = scope["path"] == "/api" or scope["path"].startswith("/api/")
    routes = [route for route in request.app.router.routes
              if not (under_api and getattr(route, "path", None) == "/{path:path}")]
    found = []
    for method in _METHODS:
        probe = {**scope, "method": "GET" if method == "HEAD" else method}
        if any(route.matches(probe)[0] is Match.FULL for route in routes):
            found.append(method)
    return found


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


# What a browser gets from a local stack whose UI was never built (``python -m infra.local`` run directly,
# or ``make ui`` failed): what to do, instead of {"detail":"Not Found"}. Checked per request: a reload
# after the build shows the UI without a restart.
UI_NOT_BUILT = """<!doctype html><meta charset="utf-8"><title>Product Importer: the UI is not built</title>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; line-height: 1.5">
<h1>The UI is not built yet</h1>
<p>This stack serves the web UI from <code>frontend/dist</code>, which does not exist. Build it with
<code>make ui</code> (or start the stack with <code>make up</code>, which builds it first), then reload
this page.</p>
<p>The API works meanwhile: <a href="/api/docs">/api/docs</a>, and the command line,
<code>.venv/bin/product-importer import some.csv</code>.</p>
</body>"""


def _serve_spa(app: FastAPI, static_dir: Path) -> None:
    index = static_dir / "index.html"
    app.mount("/assets", StaticFiles(directory=static_dir / "assets", check_dir=False), name="assets")

    @app.get("/{path:path}", include_in_schema=False)
    def spa(path: str) -> Response:
        if path == "api" or path.startswith("api/"):
            raise NotFoundError(f"no such endpoint: /{path}")
        if not index.is_file():
            return HTMLResponse(UI_NOT_BUILT, status_code=503)
        candidate = (static_dir / path).resolve()
        if path and candidate.is_file() and static_dir.resolve() in candidate.parents:
            return FileResponse(candidate)
        return FileResponse(index)
