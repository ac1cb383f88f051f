"""The import history across restarts: PostgreSQL keeps its data under the state directory, the emulator
keeps nothing, so the progress table is saved on stop and restored on start."""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path
from typing import Any

logger = logging.getLogger("local")


class ProgressHistory:
    def __init__(self, state_dir: Path, dynamodb: Any, table: str) -> None:
        self.snapshot = state_dir / "progress-table.json"
        self._db = dynamodb
        self._table = table
        self.restored: list[dict[str, Any]] = []  # the items ``restore`` put back

    def save(self) -> None:
        try:
            items: list[dict[str, Any]] = []
            for page in self._db.get_paginator("scan").paginate(TableName=self._table):
                items.extend(page.get("Items", []))
            partial = self.snapshot.with_suffix(".json.partial")
            partial.write_text(json.dumps(items))
            partial.replace(self.snapshot)  # atomic: a stack killed mid-save keeps the previous snapshot
        except Exception as exc:
            logger.warning("could not save the import history: %s", exc)

    def restore(self) -> list[str]:
        """Put the saved imports back; return the ids of those that were processing when it was saved."""
        if not self.snapshot.exists():
            return []
        try:
            items = json.loads(self.snapshot.read_text() or "[]")
        except ValueError as exc:
            logger.warning("the import history %s cannot be read (%s): starting without it", self.snapshot, exc)
            return []
        self.restored = items
        for i in range(0, len(items), 25):
            self._db.batch_write_item(RequestItems={self._table: [
                {"PutRequest": {"Item": item}} for item in items[i:i + 25]]})
        if items:
            logger.info("restored %d imports from %s", len(items), self.snapshot)
        return [item["id"]["S"] for item in items
                if item.get("status", {}).get("S") == "processing" and "id" in item]


# The emulator keeps no file and no queued message across a restart: an import that was processing cannot
# go on. It ends failed, so it can be reverted and imported again, instead of processing for ever.
STRANDED = ("the local stack was stopped while this import was processing, and its file and queued work are "
            "not kept across a restart; what was imported stays (it can be reverted): import the file again")


def fail_stranded(import_ids: list[str]) -> None:
    """End the imports a restart stranded: completed (or previewed) where every chunk had committed before
    the stop, else ``failed`` with ``STRANDED`` (DynamoDB and PostgreSQL)."""
    from product_importer import runtime
    from product_importer.pipeline.finish import JobPorts, finish_if_done
    from product_importer.pipeline.lifecycle import fail_import

    ports = JobPorts(runtime.progress_store(), runtime.chunk_ledger(), runtime.job_ledger(),
                     runtime.queue(runtime.settings().chunks_queue_url))
    for import_id in import_ids:
        try:
            if not finish_if_done(import_id, ports):
                fail_import(ports.progress, ports.ledger, import_id, STRANDED)
        except Exception as exc:
            logger.warning("could not end the stranded import %s: %s", import_id, exc)
    if import_ids:
        logger.info("ended %d import(s) the restart stranded: failed", len(import_ids))


def resume_webhooks(restored: list[dict[str, Any]]) -> None:
    """Queue again the webhook work the emulator's queues lost at the stop (``resume_after_restart``): the
    events of imports that had ended, their fan-out, the deliveries still owed with their attempts."""
    from product_importer import runtime
    from product_importer.progress import import_from_item
    from product_importer.webhooks.dispatch import FinishPorts, resume_after_restart

    settings = runtime.settings()
    try:
        imports = [import_from_item(item) for item in restored]
        ports = FinishPorts(connection=runtime.db_connection, finished=runtime.queue(settings.finished_queue_url),
                            deliveries=runtime.queue(settings.webhooks_queue_url))
        resumed = resume_after_restart(runtime.db_connection(), [i for i in imports if i.status.settled], ports)
    except Exception as exc:
        logger.warning("could not resume the webhook deliveries the restart lost: %s", exc)
        return
    if any(resumed.values()):
        logger.info("resumed webhook work the restart lost: %(imports)d event(s) to record, %(events)d to fan"
                    " out, %(deliveries)d delivery(ies)", resumed)


class PeriodicSave(threading.Thread):
    """Save the history every ``interval_s`` too: a stack killed without a clean stop loses at most that."""

    def __init__(self, history: ProgressHistory, interval_s: float = 10.0) -> None:
        super().__init__(name="history-save", daemon=True)
        self._history = history
        self._interval = interval_s
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.wait(self._interval):
            self._history.save()

    def stop(self) -> None:
        self._halt.set()
