"""``broadcast_update``: one import's newest state to every connection that watches it (or ``*``).

The progress stream delivers every write; a batch is first coalesced to the newest image per import and
status (``coalesce``), so a burst of chunk commits costs one message per subscriber, and no end is ever
dropped (a completion, then a revert's progress and its end, each once, in the order written). A
connection that answers Gone (410) is forgotten; any other failure leaves the connection alone and fails
the record, so the stream retries it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

from botocore.exceptions import ClientError

from product_importer.models import Import, ImportStatus, event_occasion_of_item
from product_importer.realtime.connections import ALL_IMPORTS

MAX_MESSAGE_BYTES = 128 * 1024  # API Gateway WebSocket frame limit
_SAFE_BYTES = MAX_MESSAGE_BYTES - 1024
SEND_THREADS = 16


class Subscriptions(Protocol):
    """What the broadcast needs of the connection store."""

    def subscribers(self, import_ids: Iterable[str]) -> set[str]: ...

    def forget(self, connection_id: str) -> None: ...


class ConnectionGoneError(Exception):
    """The connection no longer exists (API Gateway answered 410 GoneException)."""


class SendError(Exception):
    """Posting to a connection failed for another reason (throttling, service error)."""


class ConnectionPoster:
    """The ``@connections`` management API (``apigatewaymanagementapi`` client) behind one method."""

    def __init__(self, client: Any) -> None:
        self._api = client

    def post(self, connection_id: str, data: bytes) -> None:
        try:
            self._api.post_to_connection(ConnectionId=connection_id, Data=data)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "GoneException":
                raise ConnectionGoneError(connection_id) from exc
            raise SendError(f"{connection_id}: {exc}") from exc


def _sequence(record: dict[str, Any]) -> int:
    return int(record["dynamodb"].get("SequenceNumber", "0"))


_RUNNING = (ImportStatus.PENDING.value, ImportStatus.PROCESSING.value)


def coalesce(records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The newest stream record per import and status, in stream order (CONTRACT §5: "always once with
    the final status"). A run's images (pending, processing) count as one status and are dropped when the
    batch also holds that import's end, so a burst of chunk commits costs one message; every later status
    (completed, then a revert's reverting and reverted, …) is kept once, its newest image (a completion
    after a confirmed held replace counts apart from the first: ``models.event_occasion``;
    coalesced, the held completion never reached the finisher and its event was never recorded). Records without
    a new image (REMOVE) are dropped."""
    newest: dict[tuple[str, str], dict[str, Any]] = {}
    ended: set[str] = set()
    for record in records:
        image = record.get("dynamodb", {}).get("NewImage")
        if not image or "id" not in image:
            continue
        import_id = image["id"]["S"]
        status = image.get("status", {}).get("S", "")
        running = status in _RUNNING
        if not running:
            ended.add(import_id)
        key = (import_id, "" if running else status + ":" + event_occasion_of_item(image))
        kept = newest.get(key)
        if kept is None or _sequence(record) > _sequence(kept):
            newest[key] = record
    return sorted((r for (i, s), r in newest.items() if s or i not in ended), key=_sequence)


def encode_update(imp: Import) -> bytes:
    """``{"type": "import.updated", "import": …}``, kept under API Gateway's 128 KB message limit (a larger
    ``PostToConnection`` is refused, and the update, its final status too, never reaches the browser).

    What can make it large is text from the file or the user: a long error or object key is cut; then the
    ``warnings`` (one per odd header column: a 64 KiB header of 1,024 columns makes ~150 KB) keep the first
    that fit and a last one saying how many more the import has; then a ``mapping`` of such a header keeps
    only its saved mapping's ``id``. The whole import is always ``GET /api/imports/{id}``."""
    data = _encode(imp)
    if len(data) <= _SAFE_BYTES:
        return data
    error = imp.error or ""
    keep = max(0, len(error.encode()) - (len(data) - _SAFE_BYTES) - 64)
    imp = imp.model_copy(
        update={
            "error": error.encode()[:keep].decode(errors="ignore") + "…" if imp.error else None,
            "filename": imp.filename[:1024],
        }
    )
    data = _encode(imp)
    if len(data) > _SAFE_BYTES and imp.warnings:
        imp = imp.model_copy(update={"warnings": _fitting_warnings(imp.warnings, len(data) - _SAFE_BYTES)})
        data = _encode(imp)
    if len(data) > _SAFE_BYTES and imp.mapping:
        saved = {"id": imp.mapping["id"]} if "id" in imp.mapping else None
        imp = imp.model_copy(update={"mapping": saved})
        data = _encode(imp)
    return data


def _encode(imp: Import) -> bytes:
    return json.dumps({"type": "import.updated", "import": imp.model_dump(mode="json")},
                      separators=(",", ":")).encode()


def _fitting_warnings(warnings: list[str], excess: int) -> list[str]:
    """The first ``warnings`` that leave out at least ``excess`` bytes, and one saying how many are left out."""
    kept = list(warnings)
    dropped = 0
    while kept and excess > -200:  # room for the closing warning
        excess -= len(json.dumps(kept.pop()).encode()) + 1
        dropped += 1
    return [*kept, f"… and {dropped} more warning{'s' if dropped != 1 else ''}: open the import to see them all"]


@dataclass
class BroadcastResult:
    sent: int = 0
    gone: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


def broadcast_update(
    imp: Import, store: Subscriptions, poster: ConnectionPoster, *, max_threads: int = SEND_THREADS
) -> BroadcastResult:
    """Post the update to the import's subscribers and to ``*``'s; forget exactly the Gone ones."""
    targets = sorted(store.subscribers([imp.id, ALL_IMPORTS]))
    data = encode_update(imp)
    result = BroadcastResult()

    def send(connection_id: str) -> tuple[str, str | None]:
        try:
            poster.post(connection_id, data)
        except ConnectionGoneError:
            return connection_id, "gone"
        except SendError as exc:
            return connection_id, str(exc)
        return connection_id, None

    if len(targets) <= 1 or max_threads <= 1:
        outcomes = [send(c) for c in targets]
    else:
        with ThreadPoolExecutor(max_workers=min(max_threads, len(targets))) as pool:
            outcomes = list(pool.map(send, targets))
    for connection_id, problem in outcomes:
        if problem is None:
            result.sent += 1
        elif problem == "gone":
            result.gone.append(connection_id)
        else:
            result.failed[connection_id] = problem
    for connection_id in result.gone:
        store.forget(connection_id)
    return result
