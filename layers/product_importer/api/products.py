"""/api/products: list and search (cursor paging by SKU), get, PUT, PATCH, DELETE, delete-all."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from product_importer.api import deps
from product_importer.api.errors import HistoryIsReadOnlyError, error_responses
from product_importer.api.guard import raw_path
from product_importer.api.pages import fit_page
from product_importer.api.permissions import require
from product_importer.db.changes import decode_cursor, encode_cursor, product_history
from product_importer.models import JsonBool, JsonInt
from product_importer.products import repository as products
from product_importer.products.repository import ProductFilter
from product_importer.progress import CursorError

router = APIRouter(prefix="/api/products", tags=["products"], responses=error_responses(400, 401, 403, 503))

Db = deps.Db
Scalar = str | int | float | bool | None
# "name is required" for a blank one (the import's rule), told in the OpenAPI document.
NOT_BLANK: dict[str, Any] = {"pattern": r"\S"}


class Product(BaseModel):
    sku: str
    name: str
    description: str | None
    price: str | None = Field(description="decimal string")
    currency: str
    quantity: int
    active: bool
    brand: str | None
    category: str | None
    barcode: str | None
    attributes: dict[str, Any]
    created_at: str
    updated_at: str
    last_import_id: str | None


class ProductPage(BaseModel):
    items: list[Product]
    next_cursor: str | None


class _ProductFields(BaseModel):
    """The optional fields of a product, shared by PUT and PATCH. The rules are the import's."""

    model_config = ConfigDict(extra="forbid")

    description: str | None = None
    price: Decimal | str | None = None
    currency: str | None = None
    quantity: JsonInt | None = None
    active: JsonBool | None = None
    brand: str | None = None
    category: str | None = None
    barcode: str | None = None
    attributes: dict[str, Scalar] | None = None
    # The product object's read-only fields, accepted and ignored: a client may send back what GET gave
    # it (they answered 422 "extra inputs are not permitted"); any other unknown field still does.
    created_at: Any = Field(default=None, exclude=True, description="read-only: ignored")
    updated_at: Any = Field(default=None, exclude=True, description="read-only: ignored")
    last_import_id: Any = Field(default=None, exclude=True, description="read-only: ignored")


class ProductBody(_ProductFields):
    """PUT: the whole product (fields left out take their defaults)."""

    sku: str | None = None
    name: str = Field(json_schema_extra=NOT_BLANK)


class ProductPatch(_ProductFields):
    """PATCH: only the fields given change (``sku``, when sent, must be the path's: a SKU is not renamed)."""

    sku: str | None = None
    name: str | None = Field(default=None, json_schema_extra=NOT_BLANK)


def _decode_cursor(cursor: str) -> str:
    """The SKU key a page starts after; ``CursorError`` (400) for anything ``encode_cursor`` did not make."""
    after: str = decode_cursor(cursor, str)
    if len(after) > 1024:
        raise CursorError("invalid cursor")
    return after


def _plain(value: Any) -> Any:
    return format(value, "f") if isinstance(value, Decimal) else value


@router.get("", response_model=ProductPage, dependencies=[require("viewer")])
def list_products(
    conn: Db,
    q: Annotated[str | None, Query(max_length=200)] = None,
    active: bool | None = None,
    brand: Annotated[str | None, Query(max_length=255)] = None,
    category: Annotated[str | None, Query(max_length=255)] = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    after = _decode_cursor(cursor) if cursor else None
    where = ProductFilter(q=q, active=active, brand=brand, category=category)
    items, next_after = fit_page(lambda n: products.list_products(conn, where, limit=n, after=after), limit)
    return {"items": items, "next_cursor": encode_cursor(next_after) if next_after is not None else None}


@router.delete("", status_code=200, dependencies=[require("admin")])
def delete_all_products(conn: Db, confirm: deps.Confirm = None) -> dict[str, int]:
    return {"deleted": products.delete_all_products(conn, confirm=deps.confirmed(confirm))}


class HistoryEntry(BaseModel):
    import_id: str | None = Field(description="null for a manual edit")
    action: str
    changes: dict[str, Any]
    at: str
    reverted: bool


class HistoryPage(BaseModel):
    items: list[HistoryEntry]
    next_cursor: str | None


def _names_history(request: Request, sku: str) -> bool:
    """Whether the path names a product's history (``…/history`` as sent) rather than a product. A SKU may
    contain "/" (CONTRACT §1); one that ends in "/history" is addressed with that last slash sent encoded
    (``a%2Fhistory``, what ``encodeURIComponent``, ``quote(sku, safe="")`` and the UI send). Where the server
    does not keep the path as sent, the decoded path decides, as it does for GET."""
    return _names_history_raw(request.scope, sku)


def names_history(scope: Any) -> bool:
    """Whether a request's path is a product's history (``/api/products/{sku}/history`` as sent), which only
    GET and HEAD answer: what the 405 for another method there lists in ``Allow``."""
    path: str = scope.get("path", "")
    prefix = "/api/products/"
    if not path.startswith(prefix) or len(path) <= len(prefix) + len("/history"):
        return False
    return _names_history_raw(scope, path[len(prefix):])


def _names_history_raw(scope: Any, sku: str) -> bool:
    if not sku.endswith("/history"):
        return False
    raw = raw_path(scope)
    return raw is None or raw.endswith(b"/history")


def _product_sku(request: Request, sku: str) -> str:
    """The SKU a PUT, PATCH or DELETE writes. ``PUT /api/products/a/history`` created a product "a/history"
    while GET of that path answered the history of "a": a path that names a history is refused (405) for
    every method but GET, with how to address such a SKU."""
    if _names_history(request, sku):
        raise HistoryIsReadOnlyError(
            f"/api/products/{{sku}}/history is the history of product {sku.removesuffix('/history')!r} and "
            "can only be read (GET); to write a product whose SKU ends in '/history', send its '/' "
            "percent-encoded as %2F (encodeURIComponent)")
    return sku


# Before GET /{sku:path}, which would take "…/history" as part of a SKU.
@router.get("/{sku:path}/history", response_model=HistoryPage, dependencies=[require("viewer")])
def get_product_history(
    sku: str,
    conn: Db,
    request: Request,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
) -> Any:
    """The changes that touched this product (imports and edits), newest first. A path whose last
    ``/history`` was sent encoded (``…%2Fhistory``) names a SKU ending in "/history": that product."""
    if not _names_history(request, f"{sku}/history"):
        product = Product.model_validate(products.get_product(conn, f"{sku}/history"))
        return JSONResponse(product.model_dump(mode="json"))
    items, next_cursor = fit_page(lambda n: product_history(conn, sku, cursor=cursor, limit=n), limit)
    if not items and cursor is None:
        products.get_product(conn, sku)  # 404 for a SKU the catalog never had
    return {"items": items, "next_cursor": next_cursor}


@router.get("/{sku:path}", response_model=Product, dependencies=[require("viewer")])
def get_product(sku: str, conn: Db) -> dict[str, Any]:
    return products.get_product(conn, sku)


@router.put("/{sku:path}", response_model=Product, responses={201: {"model": Product}, **error_responses(405, 409)},
            dependencies=[require("admin")])
def put_product(sku: str, body: ProductBody, conn: Db, request: Request, response: Response) -> dict[str, Any]:
    sku = _product_sku(request, sku)
    values = {k: _plain(v) for k, v in body.model_dump().items()}
    product, created = products.put_product(conn, sku, values)
    response.status_code = 201 if created else 200
    return product


@router.patch("/{sku:path}", response_model=Product, responses=error_responses(405, 409),
              dependencies=[require("admin")])
def patch_product(sku: str, body: ProductPatch, conn: Db, request: Request) -> dict[str, Any]:
    sku = _product_sku(request, sku)
    changes = {k: _plain(v) for k, v in body.model_dump(exclude_unset=True).items()}
    if body.sku is not None and products.sku_key(body.sku) != products.sku_key(sku):
        raise products.ProductValidationError(
            [products.FieldError("sku", "the body's sku differs from the one in the path", body.sku)])
    return products.patch_product(conn, sku, changes)


@router.delete("/{sku:path}", status_code=204, responses=error_responses(405, 409), dependencies=[require("admin")])
def delete_product(sku: str, conn: Db, request: Request) -> Response:
    sku = _product_sku(request, sku)
    products.delete_product(conn, sku)
    return Response(status_code=204)
