"""The import history across restarts: PostgreSQL keeps its data under the state directory, the emulator
keeps nothing, so the progress table is saved on stop and restored on start."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

logger = logging.getLogger("local")


class ProgressHistory:
    def __init__(self, state_dir: Path, dynamodb: Any, table: str) -> None:
        self.snapshot = state_dir / "progress-table.json"
        self._db = dynamodb
        self._table = table

    def save(self) -> None:
        try:
            items: list[dict[str, Any]] = []
            for page in self._db.get_paginator("scan").paginate(TableName=self._table):
                items.extend(page.get("Items", []))
            self.snapshot.write_text(json.dumps(items))
        except Exception as exc:
            logger.warning("could not save the import history: %s", exc)

    def restore(self) -> None:
        if not self.snapshot.exists():
            return
        items = json.loads(self.snapshot.read_text() or "[]")
        for i in range(0, len(items), 25):
            self._db.batch_write_item(RequestItems={self._table: [
                {"PutRequest": {"Item": item}} for item in items[i:i + 25]]})
        if items:
            logger.info("restored %d imports from %s", len(items), self.snapshot)
