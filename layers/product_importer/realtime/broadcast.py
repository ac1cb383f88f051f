"""``broadcast_update``: one import's newest state to every connection that watches it (or ``*``).

The progress stream delivers every write; a batch is first coalesced to the newest image per import
(``coalesce``), so a burst of chunk commits costs one message per subscriber, and the final status is
never dropped (an image past the run always beats a running one; a revert's images are ordered as written). A connection that answers Gone (410) is forgotten; any other
failure leaves the connection alone and fails the record, so the stream retries it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

from botocore.exceptions import ClientError

from product_importer.models import Import, ImportStatus
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


def _rank(record: dict[str, Any]) -> tuple[bool, int]:
    """An image past the run (completed, failed, previewed, or a revert's reverting / reverted, or the
    status a failed revert went back to) beats a running one; among those, the newest wins."""
    status = record["dynamodb"]["NewImage"].get("status", {}).get("S", "")
    return status not in _RUNNING, _sequence(record)


def coalesce(records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The newest stream record per import (highest sequence number; a final status always wins),
    in stream order. Records without a new image (REMOVE) are dropped."""
    newest: dict[str, dict[str, Any]] = {}
    for record in records:
        image = record.get("dynamodb", {}).get("NewImage")
        if not image or "id" not in image:
            continue
        import_id = image["id"]["S"]
        kept = newest.get(import_id)
        if kept is None or _rank(record) > _rank(kept):
            newest[import_id] = record
    return sorted(newest.values(), key=_sequence)


def encode_update(imp: Import) -> bytes:
    """``{"type": "import.updated", "import": …}``, kept under the frame limit (a long error is cut)."""
    message = {"type": "import.updated", "import": imp.model_dump(mode="json")}
    data = json.dumps(message, separators=(",", ":")).encode()
    if len(data) > _SAFE_BYTES:  # only a huge error text or object key can get here
        error = imp.error or ""
        keep = max(0, len(error.encode()) - (len(data) - _SAFE_BYTES) - 64)
        trimmed = imp.model_copy(
            update={
                "error": error.encode()[:keep].decode(errors="ignore") + "…" if imp.error else None,
                "filename": imp.filename[:1024],
            }
        )
        data = json.dumps(
            {"type": "import.updated", "import": trimmed.model_dump(mode="json")}, separators=(",", ":")
        ).encode()
    return data


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
