"""S3 ObjectCreated notifications as they arrive on the object-events queue."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus


@dataclass(frozen=True)
class ObjectCreated:
    bucket: str
    key: str  # decoded (S3 sends keys URL-encoded, spaces as '+')
    size: int
    etag: str | None
    version_id: str | None
    sequencer: str | None

    @property
    def identity(self) -> str:
        """What makes this write unique: a duplicate event has the same, a new version a different one."""
        return f"{self.bucket}/{self.key}#{self.version_id or self.sequencer or self.etag}"


def parse_notification(body: str) -> list[ObjectCreated]:
    """The ObjectCreated records in an S3 notification body; ``[]`` for ``s3:TestEvent`` and others."""
    try:
        message: Any = json.loads(body)
    except json.JSONDecodeError:
        return []
    if not isinstance(message, dict) or message.get("Event") == "s3:TestEvent":
        return []
    found = []
    for record in message.get("Records") or []:
        if not str(record.get("eventName", "")).startswith("ObjectCreated:"):
            continue
        s3 = record.get("s3") or {}
        obj = s3.get("object") or {}
        found.append(
            ObjectCreated(
                bucket=s3.get("bucket", {}).get("name", ""),
                key=unquote_plus(obj.get("key", "")),
                size=int(obj.get("size") or 0),
                etag=obj.get("eTag") or None,
                version_id=obj.get("versionId") or None,
                sequencer=obj.get("sequencer") or None,
            )
        )
    return found
