"""Webhooks, import events and the delivery log in PostgreSQL.

A webhook's secret is stored sealed (``webhooks.secrets``): the store keeps what it is given, the caller
seals before writing and opens only to sign. An import has one event per event type (an import can be
previewed, or completed and later reverted), whatever repeats upstream.
"""

from __future__ import annotations

import builtins
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row

from product_importer.models import Import, ImportStatus, event_occasion
from product_importer.progress import CursorError

EVENT_TYPES = ("import.completed", "import.failed", "import.previewed", "import.reverted")
TEST_EVENT = "webhook.test"
# The event an import's final status makes (a status not listed makes none).
EVENT_FOR_STATUS = {
    ImportStatus.COMPLETED: "import.completed",
    ImportStatus.FAILED: "import.failed",
    ImportStatus.PREVIEWED: "import.previewed",
    ImportStatus.REVERTED: "import.reverted",
}


def event_type_for(imp: Import) -> str | None:
    return EVENT_FOR_STATUS.get(imp.status)




class WebhookNotFoundError(Exception):
    """No webhook has this id."""


class TooManyWebhooksError(Exception):
    """The account already has as many webhooks as settings allow."""


_CREATE_LOCK = 0x5748_4B53  # "WHKS": serialises webhook creation for the cap


@dataclass(frozen=True)
class Webhook:
    id: str
    url: str
    events: list[str]
    secret: str | None  # sealed (``webhooks.secrets``); plaintext only in rows saved before sealing
    enabled: bool
    created_at: datetime
    updated_at: datetime
    partner: str | None = None  # only this partner's imports (None: every import)

    def public(self) -> dict[str, Any]:
        """What the API shows: never the secret, only whether there is one."""
        return {
            "id": self.id,
            "url": self.url,
            "events": self.events,
            "partner": self.partner,
            "enabled": self.enabled,
            "has_secret": bool(self.secret),
            "created_at": _iso(self.created_at),
            "updated_at": _iso(self.updated_at),
        }


@dataclass(frozen=True)
class ImportEvent:
    id: str
    import_id: str
    type: str
    body: str
    fanned_out: bool


def _iso(value: datetime) -> str:
    return value.isoformat(timespec="milliseconds").replace("+00:00", "Z")


_WEBHOOK_COLUMNS = "id, url, events, secret, enabled, created_at, updated_at, partner"


class WebhookStore:
    def __init__(self, conn: psycopg.Connection) -> None:
        self._conn = conn

    # -- webhooks -------------------------------------------------------------------------------------

    @staticmethod
    def new_id() -> str:
        return uuid.uuid4().hex

    def create(
        self,
        *,
        url: str,
        events: list[str],
        secret: str | None,
        enabled: bool = True,
        webhook_id: str | None = None,
        max_webhooks: int | None = None,
        partner: str | None = None,
    ) -> Webhook:
        """``secret`` is stored as given (seal it first, with ``webhook_id``). With ``max_webhooks``, a
        webhook beyond that many is refused with ``TooManyWebhooksError`` (serialised: no race past it)."""
        with self._conn.transaction():
            if max_webhooks is not None:
                self._conn.execute("SELECT pg_advisory_xact_lock(%s)", (_CREATE_LOCK,))
                (count,) = self._conn.execute("SELECT count(*) FROM webhooks").fetchone() or (0,)
                if count >= max_webhooks:
                    raise TooManyWebhooksError(
                        f"at most {max_webhooks} webhooks; delete one you no longer need first"
                    )
            row = self._conn.execute(
                f"INSERT INTO webhooks (id, url, events, secret, enabled, partner) VALUES (%s, %s, %s, %s, %s, %s)"
                f" RETURNING {_WEBHOOK_COLUMNS}",
                (webhook_id or self.new_id(), url, events, secret or None, enabled, partner),
            ).fetchone()
        assert row is not None
        return Webhook(*row)

    def get(self, webhook_id: str) -> Webhook:
        row = self._conn.execute(
            f"SELECT {_WEBHOOK_COLUMNS} FROM webhooks WHERE id = %s", (webhook_id,)
        ).fetchone()
        self._conn.commit()
        if row is None:
            raise WebhookNotFoundError(f"webhook {webhook_id} not found")
        return Webhook(*row)

    def list(self, *, limit: int, after: str | None) -> tuple[builtins.list[Webhook], str | None]:
        """Oldest first, keyset-paged by (created_at, id). ``after``: the id of the previous page's last
        webhook (``next_cursor``); ``CursorError`` (400) when no webhook has it."""
        if after is not None and self._conn.execute("SELECT 1 FROM webhooks WHERE id = %s", (after,)).fetchone() is None:
            self._conn.commit()
            raise CursorError("invalid cursor")
        rows = self._conn.execute(
            f"SELECT {_WEBHOOK_COLUMNS} FROM webhooks"
            " WHERE %(after)s::text IS NULL OR (created_at, id) > ("
            "   SELECT created_at, id FROM webhooks WHERE id = %(after)s)"
            " ORDER BY created_at, id LIMIT %(limit)s",
            {"after": after, "limit": limit + 1},
        ).fetchall()
        self._conn.commit()
        hooks = [Webhook(*r) for r in rows[:limit]]
        return hooks, hooks[-1].id if len(rows) > limit else None

    def update(self, webhook_id: str, changes: dict[str, Any]) -> Webhook:
        allowed = {k: v for k, v in changes.items() if k in ("url", "events", "secret", "enabled", "partner")}
        if "secret" in allowed:
            allowed["secret"] = allowed["secret"] or None  # "" clears it
        if not allowed:
            return self.get(webhook_id)
        sets = ", ".join(f"{k} = %({k})s" for k in allowed)
        with self._conn.transaction():
            row = self._conn.execute(
                f"UPDATE webhooks SET {sets}, updated_at = now() WHERE id = %(id)s RETURNING {_WEBHOOK_COLUMNS}",
                {**allowed, "id": webhook_id},
            ).fetchone()
        if row is None:
            raise WebhookNotFoundError(f"webhook {webhook_id} not found")
        return Webhook(*row)

    def unsealed_secrets(self, limit: int = 100) -> builtins.list[tuple[str, str]]:
        """(id, secret) of webhooks whose secret was saved before sealing existed."""
        rows = self._conn.execute(
            "SELECT id, secret FROM webhooks WHERE secret IS NOT NULL"
            " AND secret NOT LIKE 'kms:%%' AND secret NOT LIKE 'aesgcm:%%' LIMIT %s",
            (limit,),
        ).fetchall()
        self._conn.commit()
        return [(r[0], r[1]) for r in rows]

    def replace_secret(self, webhook_id: str, old: str, new: str) -> None:
        """Swap a plaintext secret for its sealed form (only if nobody changed it meanwhile)."""
        with self._conn.transaction():
            self._conn.execute(
                "UPDATE webhooks SET secret = %s WHERE id = %s AND secret = %s", (new, webhook_id, old)
            )

    def delete(self, webhook_id: str) -> None:
        with self._conn.transaction():
            row = self._conn.execute(
                "DELETE FROM webhooks WHERE id = %s RETURNING 1", (webhook_id,)
            ).fetchone()
        if row is None:
            raise WebhookNotFoundError(f"webhook {webhook_id} not found")

    # -- events ---------------------------------------------------------------------------------------

    def record_event(self, imp: Import, event_type: str | None = None) -> ImportEvent:
        """The import's one event of this type and occasion (``event_occasion``: its end, or its confirmed
        replace carried out), created now or the one a previous delivery of the job created. The type
        defaults to the one the import's status makes."""
        event_type = event_type or event_type_for(imp)
        if event_type not in EVENT_TYPES:
            raise ValueError(f"import {imp.id} in status {imp.status} makes no event")
        occasion = event_occasion(imp) if event_type == event_type_for(imp) else ""
        event_id = uuid.uuid4().hex
        body = json.dumps(
            {"id": event_id, "type": event_type, "import": imp.model_dump(mode="json")}, separators=(",", ":")
        )
        with self._conn.transaction():
            self._conn.execute(
                "INSERT INTO import_events (id, import_id, type, body, occasion) VALUES (%s, %s, %s, %s, %s)"
                " ON CONFLICT (import_id, type, occasion) DO NOTHING",
                (event_id, imp.id, event_type, body, occasion),
            )
            row = self._conn.execute(
                "SELECT id, import_id, type, body, fanned_out_at IS NOT NULL FROM import_events"
                " WHERE import_id = %s AND type = %s AND occasion = %s",
                (imp.id, event_type, occasion),
            ).fetchone()
        assert row is not None
        return ImportEvent(*row)

    def get_event(self, event_id: str) -> ImportEvent | None:
        row = self._conn.execute(
            "SELECT id, import_id, type, body, fanned_out_at IS NOT NULL FROM import_events WHERE id = %s",
            (event_id,),
        ).fetchone()
        self._conn.commit()
        return ImportEvent(*row) if row else None

    def subscribers(self, event_type: str, *, created_by: datetime | None = None,
                    event_id: str | None = None) -> builtins.list[Webhook]:
        """The enabled webhooks subscribed to ``event_type`` (only those created at or before
        ``created_by`` when given: a recovered event goes to the webhooks that existed when it happened).
        With ``event_id``: of the webhooks for one partner, only the one of that event's import's partner."""
        rows = self._conn.execute(
            f"SELECT {_WEBHOOK_COLUMNS} FROM webhooks WHERE enabled AND %(type)s = ANY(events)"
            " AND (%(by)s::timestamptz IS NULL OR created_at <= %(by)s::timestamptz)"
            " AND (%(event)s::text IS NULL OR partner IS NULL OR partner = ("
            "      SELECT (e.body::jsonb)->'import'->>'partner' FROM import_events e WHERE e.id = %(event)s))"
            " ORDER BY created_at, id",
            {"type": event_type, "by": created_by, "event": event_id},
        ).fetchall()
        self._conn.commit()
        return [Webhook(*r) for r in rows]

    def has_event(self, import_id: str, event_type: str, occasion: str = "") -> bool:
        row = self._conn.execute("SELECT 1 FROM import_events WHERE import_id = %s AND type = %s AND occasion = %s",
                                 (import_id, event_type, occasion)).fetchone()
        self._conn.commit()
        return row is not None

    def unfanned_events(self, since: datetime) -> builtins.list[tuple[str, str, datetime]]:
        """(event id, type, recorded at) of the events recorded since ``since`` and not fanned out yet."""
        rows = self._conn.execute(
            "SELECT id, type, created_at FROM import_events WHERE fanned_out_at IS NULL AND created_at >= %s"
            " ORDER BY created_at", (since,)).fetchall()
        self._conn.commit()
        return [(r[0], r[1], r[2]) for r in rows]

    def undelivered(self, since: datetime, max_attempts: int) -> builtins.list[tuple[str, str, int]]:
        """(event id, webhook id, attempts made) for each event fanned out since ``since`` and each enabled
        webhook that was subscribed to it when it was recorded, not delivered yet, with fewer than ``max_attempts``
        attempts logged: the deliveries still owed."""
        rows = self._conn.execute(
            "SELECT e.id, w.id, (SELECT count(*) FROM webhook_deliveries d"
            "                    WHERE d.webhook_id = w.id AND d.event_id = e.id) AS attempts"
            " FROM import_events e JOIN webhooks w ON w.enabled AND e.type = ANY(w.events)"
            "  AND w.created_at <= e.created_at"
            "  AND (w.partner IS NULL OR w.partner = (e.body::jsonb)->'import'->>'partner')"
            " WHERE e.fanned_out_at >= %s"
            "  AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.webhook_id = w.id AND d.event_id = e.id"
            "                  AND d.ok)"
            " ORDER BY e.fanned_out_at, w.created_at, w.id", (since,)).fetchall()
        self._conn.commit()
        return [(r[0], r[1], int(r[2])) for r in rows if int(r[2]) < max_attempts]

    def mark_fanned_out(self, event_id: str) -> None:
        with self._conn.transaction():
            self._conn.execute("UPDATE import_events SET fanned_out_at = now() WHERE id = %s", (event_id,))

    # -- deliveries -----------------------------------------------------------------------------------

    def delivered(self, webhook_id: str, event_id: str) -> bool:
        row = self._conn.execute(
            "SELECT 1 FROM webhook_deliveries WHERE webhook_id = %s AND event_id = %s AND ok",
            (webhook_id, event_id),
        ).fetchone()
        self._conn.commit()
        return row is not None

    def log_delivery(
        self,
        *,
        webhook_id: str,
        event_id: str | None,
        event: str,
        attempt: int,
        ok: bool,
        status_code: int | None,
        latency_ms: int,
        error: str | None,
    ) -> None:
        with self._conn.transaction():
            self._conn.execute(
                "INSERT INTO webhook_deliveries (webhook_id, event_id, event, attempt, ok, status_code, latency_ms,"
                " error) SELECT %s, %s, %s, %s, %s, %s, %s, %s WHERE EXISTS (SELECT 1 FROM webhooks WHERE id = %s)"
                " ON CONFLICT DO NOTHING",
                (webhook_id, event_id, event, attempt, ok, status_code, latency_ms, error, webhook_id),
            )

    def deliveries(
        self, webhook_id: str, *, limit: int, before: int | None
    ) -> tuple[builtins.list[dict[str, Any]], int | None]:
        """Newest first, keyset-paged by id."""
        self.get(webhook_id)
        with self._conn.cursor(row_factory=dict_row) as cur:
            rows = cur.execute(
                "SELECT id, event, event_id, attempt, ok, status_code, latency_ms, error, created_at"
                " FROM webhook_deliveries WHERE webhook_id = %(id)s AND (%(before)s::bigint IS NULL OR id < %(before)s)"
                " ORDER BY id DESC LIMIT %(limit)s",
                {"id": webhook_id, "before": before, "limit": limit + 1},
            ).fetchall()
        self._conn.commit()
        page = [{**r, "created_at": _iso(r["created_at"])} for r in rows[:limit]]
        return page, page[-1]["id"] if len(rows) > limit else None
