"""/api/webhooks: CRUD, a synchronous test delivery, and the delivery log (CONTRACT §6)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import psycopg
from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from product_importer.api import deps
from product_importer.api.permissions import require
from product_importer.progress import CursorError
from product_importer.settings import Settings
from product_importer.webhooks.dispatch import send_test
from product_importer.webhooks.store import WebhookStore
from product_importer.webhooks.targets import check_url_syntax

router = APIRouter(prefix="/api/webhooks", tags=["webhooks"])

Db = Annotated[psycopg.Connection, Depends(deps.db)]
Config = Annotated[Settings, Depends(deps.settings)]
EventName = Literal["import.completed", "import.failed"]
Url = Annotated[str, Field(min_length=8, max_length=2048)]


class WebhookIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: Url
    events: list[EventName] = Field(default=["import.completed", "import.failed"], min_length=1)
    secret: str | None = Field(default=None, max_length=256)
    enabled: bool = True


class WebhookPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: Url | None = None
    events: list[EventName] | None = Field(default=None, min_length=1)
    secret: str | None = Field(default=None, max_length=256, description='"" removes the secret')
    enabled: bool | None = None


class WebhookOut(BaseModel):
    id: str
    url: str
    events: list[str]
    enabled: bool
    has_secret: bool
    created_at: str
    updated_at: str


class WebhookPage(BaseModel):
    items: list[WebhookOut]
    next_cursor: str | None


class TestResult(BaseModel):
    ok: bool
    status_code: int | None
    latency_ms: int
    error: str | None


class DeliveryOut(BaseModel):
    id: int
    event: str
    event_id: str | None
    attempt: int
    ok: bool
    status_code: int | None
    latency_ms: int | None
    error: str | None
    created_at: str


class DeliveryPage(BaseModel):
    items: list[DeliveryOut]
    next_cursor: str | None


def _allow_private(settings: Settings) -> bool:
    return settings.webhooks_allow_private or settings.local_mode


@router.post("", status_code=201, response_model=WebhookOut, dependencies=[require("admin")])
def create_webhook(body: WebhookIn, conn: Db, settings: Config) -> dict[str, Any]:
    check_url_syntax(body.url, allow_private=_allow_private(settings))
    hook = WebhookStore(conn).create(
        url=body.url, events=sorted(set(body.events)), secret=body.secret, enabled=body.enabled
    )
    return hook.public()


@router.get("", response_model=WebhookPage, dependencies=[require("admin")])
def list_webhooks(
    conn: Db, limit: Annotated[int, Query(ge=1, le=500)] = 50, cursor: str | None = None
) -> dict[str, Any]:
    hooks, next_cursor = WebhookStore(conn).list(limit=limit, after=cursor)
    return {"items": [h.public() for h in hooks], "next_cursor": next_cursor}


@router.get("/{webhook_id}", response_model=WebhookOut, dependencies=[require("admin")])
def get_webhook(webhook_id: str, conn: Db) -> dict[str, Any]:
    return WebhookStore(conn).get(webhook_id).public()


@router.patch("/{webhook_id}", response_model=WebhookOut, dependencies=[require("admin")])
def update_webhook(webhook_id: str, body: WebhookPatch, conn: Db, settings: Config) -> dict[str, Any]:
    changes = body.model_dump(exclude_unset=True)
    if changes.get("url") is not None:
        check_url_syntax(changes["url"], allow_private=_allow_private(settings))
    if "events" in changes and changes["events"] is not None:
        changes["events"] = sorted(set(changes["events"]))
    changes = {k: v for k, v in changes.items() if v is not None or k == "secret"}
    return WebhookStore(conn).update(webhook_id, changes).public()


@router.delete("/{webhook_id}", status_code=204, dependencies=[require("admin")])
def delete_webhook(webhook_id: str, conn: Db) -> Response:
    WebhookStore(conn).delete(webhook_id)
    return Response(status_code=204)


@router.post("/{webhook_id}/test", response_model=TestResult, dependencies=[require("admin")])
def test_webhook(webhook_id: str, conn: Db, settings: Config) -> dict[str, Any]:
    store = WebhookStore(conn)
    outcome = send_test(
        store.get(webhook_id),
        store,
        timeout_s=settings.webhooks_timeout_s,
        allow_private=_allow_private(settings),
    )
    return {
        "ok": outcome.ok,
        "status_code": outcome.status_code,
        "latency_ms": outcome.latency_ms,
        "error": outcome.error,
    }


@router.get("/{webhook_id}/deliveries", response_model=DeliveryPage, dependencies=[require("admin")])
def list_deliveries(
    webhook_id: str, conn: Db, limit: Annotated[int, Query(ge=1, le=500)] = 50, cursor: str | None = None
) -> dict[str, Any]:
    try:
        before = int(cursor) if cursor else None
    except ValueError as exc:
        raise CursorError("invalid cursor") from exc
    items, next_id = WebhookStore(conn).deliveries(webhook_id, limit=limit, before=before)
    return {"items": items, "next_cursor": str(next_id) if next_id is not None else None}
