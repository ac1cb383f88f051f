"""/api/webhooks: CRUD, a synchronous test delivery, and the delivery log (CONTRACT §6). Admins only.

A webhook may name a ``partner``: it then hears only of that partner's imports, so a partner's receiver
never learns other partners' file names, counts and errors (CONTRACT §8 keeps partners apart).

A webhook's secret (``whsec_…``, Standard Webhooks) is generated when not given and returned once, in the
201 body; it is stored sealed and never shown again. At most ``WEBHOOKS_MAX`` webhooks (409 beyond).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Response
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from product_importer.api import deps
from product_importer.api.errors import error_responses
from product_importer.api.pages import fit_page
from product_importer.api.permissions import require
from product_importer.models import JsonBool, partner_name
from product_importer.progress import CursorError
from product_importer.settings import Settings
from product_importer.webhooks.dispatch import DeliveryPorts, send_test
from product_importer.webhooks.secrets import SecretBox, secret_box
from product_importer.webhooks.signing import check_secret, new_secret
from product_importer.webhooks.store import EVENT_TYPES, WebhookStore
from product_importer.webhooks.targets import check_url_syntax

router = APIRouter(prefix="/api/webhooks", tags=["webhooks"], responses=error_responses(400, 401, 403, 503))

Db = deps.Db
Config = Annotated[Settings, Depends(deps.settings)]
EventName = Literal["import.completed", "import.failed", "import.previewed", "import.reverted"]
assert set(EventName.__args__) == set(EVENT_TYPES)  # type: ignore[attr-defined]
# What URL parsers strip around a URL (WHATWG: C0 controls and space) and a pasted secret brings along: it
# was stored as sent, so " https://…" showed with its space in every list.
_AROUND = "".join(map(chr, range(0x21)))


def _trimmed(value: str) -> str:
    return value.strip(_AROUND)


Secret = Annotated[str, Field(min_length=6, max_length=256, description="whsec_<base64 of 24-64 bytes>"),
                   AfterValidator(_trimmed)]
PARTNER_DESCRIPTION = ("only the imports of this partner (a drop's first folder under incoming/, or the partner "
                       "given on POST /api/imports); null: every import")


def _partner(value: str | None) -> str | None:
    return partner_name(value) if value is not None else None


def webhook_secrets(settings: Config) -> SecretBox:
    return secret_box(settings)


Box = Annotated[SecretBox, Depends(webhook_secrets)]
# The scheme rule of ``check_url_syntax``, told in the OpenAPI document (the 422 keeps its own words).
Url = Annotated[str, Field(min_length=8, max_length=2048, json_schema_extra={"pattern": r"^[\x00-\x20]*[hH][tT][tT][pP][sS]?://"},
                           description="an http(s) URL on a public address"), AfterValidator(_trimmed)]


class WebhookIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: Url
    events: list[EventName] = Field(default=["import.completed", "import.failed"], min_length=1)
    secret: Secret | None = Field(default=None, description="whsec_<base64>; generated when left out")
    enabled: JsonBool = True
    partner: str | None = Field(default=None, max_length=255, description=PARTNER_DESCRIPTION)

    @field_validator("partner")
    @classmethod
    def _partner_folder(cls, value: str | None) -> str | None:
        return _partner(value)


class WebhookPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: Url | None = None
    events: list[EventName] | None = Field(default=None, min_length=1)
    secret: Secret | None = Field(default=None, description="a new whsec_<base64> secret")
    enabled: JsonBool | None = None
    partner: str | None = Field(default=None, max_length=255, description=PARTNER_DESCRIPTION + " (null clears it)")
    # The webhook object's read-only fields, accepted and ignored (as products and mappings accept theirs): a
    # client may PATCH back what GET gave it, where each of them was a 422; any other unknown field still is.
    id: Any = Field(default=None, exclude=True, description="read-only: ignored")
    has_secret: Any = Field(default=None, exclude=True, description="read-only: ignored")
    created_at: Any = Field(default=None, exclude=True, description="read-only: ignored")
    updated_at: Any = Field(default=None, exclude=True, description="read-only: ignored")

    @field_validator("partner")
    @classmethod
    def _partner_folder(cls, value: str | None) -> str | None:
        return _partner(value)


class WebhookOut(BaseModel):
    id: str
    url: str
    events: list[str]
    partner: str | None = None
    enabled: bool
    has_secret: bool
    created_at: str
    updated_at: str


class WebhookCreated(WebhookOut):
    secret: str = Field(description="whsec_<base64>: shown this once; receivers verify deliveries with it")


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
    return settings.private_webhooks_allowed


@router.post("", status_code=201, response_model=WebhookCreated, responses=error_responses(409),
             dependencies=[require("admin")])
def create_webhook(body: WebhookIn, conn: Db, settings: Config, box: Box) -> dict[str, Any]:
    check_url_syntax(body.url, allow_private=_allow_private(settings))
    secret = check_secret(body.secret) if body.secret is not None else new_secret()
    webhook_id = WebhookStore.new_id()
    hook = WebhookStore(conn).create(
        url=body.url, events=sorted(set(body.events)), secret=box.seal(secret, webhook_id=webhook_id),
        enabled=body.enabled, webhook_id=webhook_id, max_webhooks=settings.webhooks_max, partner=body.partner,
    )
    return {**hook.public(), "secret": secret}


@router.get("", response_model=WebhookPage, dependencies=[require("admin")])
def list_webhooks(
    conn: Db, limit: Annotated[int, Query(ge=1, le=500)] = 50, cursor: str | None = None
) -> dict[str, Any]:
    hooks, next_cursor = fit_page(lambda n: WebhookStore(conn).list(limit=n, after=cursor), limit)
    return {"items": [h.public() for h in hooks], "next_cursor": next_cursor}


@router.get("/{webhook_id}", response_model=WebhookOut, dependencies=[require("admin")])
def get_webhook(webhook_id: str, conn: Db) -> dict[str, Any]:
    return WebhookStore(conn).get(webhook_id).public()


@router.patch("/{webhook_id}", response_model=WebhookOut, dependencies=[require("admin")])
def update_webhook(webhook_id: str, body: WebhookPatch, conn: Db, settings: Config, box: Box) -> dict[str, Any]:
    changes = body.model_dump(exclude_unset=True)
    if changes.get("url") is not None:
        check_url_syntax(changes["url"], allow_private=_allow_private(settings))
    if "events" in changes and changes["events"] is not None:
        changes["events"] = sorted(set(changes["events"]))
    if changes.get("secret") is not None:
        changes["secret"] = box.seal(check_secret(changes["secret"]), webhook_id=webhook_id)
    clears_partner = "partner" in changes and changes["partner"] is None
    changes = {k: v for k, v in changes.items() if v is not None}
    if clears_partner:
        changes["partner"] = None
    return WebhookStore(conn).update(webhook_id, changes).public()


@router.delete("/{webhook_id}", status_code=204, dependencies=[require("admin")])
def delete_webhook(webhook_id: str, conn: Db) -> Response:
    WebhookStore(conn).delete(webhook_id)
    return Response(status_code=204)


@router.post("/{webhook_id}/test", response_model=TestResult, dependencies=[require("admin")])
def test_webhook(webhook_id: str, conn: Db, settings: Config, box: Box) -> dict[str, Any]:
    store = WebhookStore(conn)
    # Bounded in all (WEBHOOKS_TEST_TIMEOUT_S, default 5 s): a receiver that never answers cannot hold
    # an API function for its whole timeout.
    ports = DeliveryPorts(connection=lambda: conn, box=box, timeout_s=settings.webhooks_test_timeout_s,
                          allow_private=_allow_private(settings))
    outcome = send_test(store.get(webhook_id), store, ports)
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
    if before is not None and not 0 <= before < 2**63:  # delivery ids are positive bigints
        raise CursorError("invalid cursor")
    items, next_id = fit_page(lambda n: WebhookStore(conn).deliveries(webhook_id, limit=n, before=before), limit)
    return {"items": items, "next_cursor": str(next_id) if next_id is not None else None}
