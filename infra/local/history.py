"""The import history across restarts: PostgreSQL keeps its data under the state directory, the emulator
keeps nothing, so the progress table is saved on stop and restored on start.

Between two saves (every 10 s, and at a clean stop) every change of the table is appended, as the stream
delivers it, to a journal next to the snapshot, and replayed over it at the start: a stack killed without a
clean stop (kill -9, a crash) lost every import created, and every step taken, since the last save. An
import created and partly written then was gone from the API while its products stayed; a revert started
then was forgotten while PostgreSQL had it running, so the import could be neither used nor reverted again."""

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
        self.journal = state_dir / "progress-journal.jsonl"  # the changes since the last save, in stream order
        self._saving = state_dir / "progress-journal.saving.jsonl"  # the journal a save is folding in
        self._db = dynamodb
        self._table = table
        self._lock = threading.Lock()  # record (the stream poller) and save (the saver, the stop) share the files
        self.restored: list[dict[str, Any]] = []  # the items ``restore`` put back

    def record(self, event: dict[str, Any], _context: Any = None) -> None:
        """A stream subscriber: append each change of the table (its new image, or its removal) to the
        journal. Written through at once: a process killed after ``write`` keeps it (the page cache)."""
        lines = []
        for record in event.get("Records", []):
            change = record.get("dynamodb", {})
            if record.get("eventName") == "REMOVE":
                lines.append(json.dumps({"remove": change.get("Keys", {})}))
            elif "NewImage" in change:
                lines.append(json.dumps({"item": change["NewImage"]}))
        if not lines:
            return
        with self._lock, self.journal.open("a") as out:
            out.write("\n".join(lines) + "\n")

    def save(self) -> None:
        with self._lock:
            try:  # the changes from here on go to a new journal; this one is in the table the scan reads
                if self._saving.exists():  # a save that did not finish: keep what it was folding in
                    with self._saving.open("a") as out:
                        out.write(self.journal.read_text() if self.journal.exists() else "")
                    self.journal.unlink(missing_ok=True)
                elif self.journal.exists():
                    self.journal.replace(self._saving)
            except OSError as exc:
                logger.warning("could not rotate the import journal: %s", exc)
                return
        try:
            items: list[dict[str, Any]] = []
            for page in self._db.get_paginator("scan").paginate(TableName=self._table):
                items.extend(page.get("Items", []))
            partial = self.snapshot.with_suffix(".json.partial")
            partial.write_text(json.dumps(items))
            partial.replace(self.snapshot)  # atomic: a stack killed mid-save keeps the previous snapshot
            self._saving.unlink(missing_ok=True)  # the snapshot holds all of it now
        except Exception as exc:
            logger.warning("could not save the import history: %s", exc)

    def _load(self) -> list[dict[str, Any]]:
        """The snapshot with the journals replayed over it (a later image of an item wins)."""
        items: dict[str, dict[str, Any]] = {}
        if self.snapshot.exists():
            try:
                for item in json.loads(self.snapshot.read_text() or "[]"):
                    items[json.dumps(item.get("id"))] = item
            except ValueError as exc:
                logger.warning("the import history %s cannot be read (%s): starting without it", self.snapshot, exc)
        for journal in (self._saving, self.journal):
            if not journal.exists():
                continue
            for line in journal.read_text().splitlines():
                try:
                    change = json.loads(line)
                except ValueError:  # the last line of a process killed mid-write
                    continue
                if "item" in change:
                    items[json.dumps(change["item"].get("id"))] = change["item"]
                elif "remove" in change:
                    items.pop(json.dumps(change["remove"].get("id")), None)
        return [item for key, item in items.items() if key != "null"]

    def restore(self) -> list[str]:
        """Put the saved imports back; return the ids of those that were processing when it was saved."""
        items = self._load()
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


STRANDED_PREVIEW = ("the local stack was stopped while this preview was being read, and its file is not kept across "
                    "a restart; nothing was written to the catalog: preview the file again")


def stranded_reason(item: dict[str, Any] | None) -> str:
    """Why a run the restart stranded failed, for its user: a preview wrote nothing and cannot be reverted
    (it was told 'what was imported stays (it can be reverted)', and a revert answered 409)."""
    return STRANDED_PREVIEW if (item or {}).get("mode") == "preview" else STRANDED


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
                fail_import(ports.progress, ports.ledger, import_id, stranded_reason(ports.progress.get_item(import_id)))
        except Exception as exc:
            logger.warning("could not end the stranded import %s: %s", import_id, exc)
    if import_ids:
        logger.info("ended %d import(s) the restart stranded: failed", len(import_ids))


STRANDED_APPLY = ("the local stack was stopped before this applied preview began, and the file is not kept across "
                  "a restart: preview or import the file again")
STRANDED_REVERT = ("the local stack was stopped while this import was being reverted; what was reverted stays "
                   "reverted: revert the import again to finish it")
STRANDED_REPLACE = ("the local stack was stopped while the confirmed replace was being carried out, and its queued "
                    "work is not kept across a restart; what was deactivated stays: confirm it again to finish it")
# (ends like pipeline.jobs_runner.CONFIRM_AGAIN: the replace that finishes it drops the warning)


def resume_stranded_jobs(restored: list[dict[str, Any]]) -> dict[str, int]:
    """Carry on, or hand back, the jobs on finished imports that the restart stranded (their messages were on
    the emulator's queues): before, a revert stayed ``reverting`` for ever, and a confirmed replace stayed
    confirmed and never carried out (409 "being carried out" to a second confirm), for ever.

    - a revert running at the stop goes on: its plan and ledger are in PostgreSQL, so every chunk's job is
      sent again, and the chunks reverted already are no-ops (``revert_chunk`` replays them);
    - a revert PostgreSQL has running that the history does not show (the stop came before the history saw
      it) is failed there, so the import can be reverted again (which resumes the plan);
    - a confirmed replace being carried out is held again with a warning, confirmable again (as after
      its job dead-lettered);
    - an applied preview whose split had not begun (``pending``, nothing to upload) ends failed at once:
      its file is gone with the emulator; it waited 24 h to fail as "upload expired", its preview
      refusing a new apply meanwhile.

    Returns how many of each it did: ``{"reverts", "reverts_failed", "replaces", "applies"}``."""
    from product_importer import runtime
    from product_importer.db.revert import fail_revert
    from product_importer.models import ImportStatus, RevertRequest
    from product_importer.pipeline.lifecycle import fail_import
    from product_importer.progress import from_item

    done = {"reverts": 0, "reverts_failed": 0, "replaces": 0, "applies": 0}
    try:
        progress = runtime.progress_store()
        chunks = runtime.queue(runtime.settings().chunks_queue_url)
        conn = runtime.db_connection()
        with conn.transaction():  # PostgreSQL's reverts: planned chunks (the item has them only once one ran)
            planned = {r[0]: (r[1], r[2]) for r in conn.execute(
                "SELECT import_id, revert_state, revert_chunks_total FROM import_registry"
                " WHERE revert_state IN ('running', 'done')").fetchall()}
    except Exception as exc:
        logger.warning("could not look for the jobs the restart stranded: %s", exc)
        return done
    resumed: set[str] = set()
    for raw in restored:
        try:
            item = from_item(raw)
            import_id = str(item["id"])
            revert = item.get("revert") or {}
            replace = item.get("replace") or {}
            total = int((planned.get(import_id) or (None, 0))[1] or 0)
            if item.get("status") == ImportStatus.REVERTING.value and revert.get("requested_at") and total:
                chunks.send_all(RevertRequest(import_id=import_id, requested_at=revert["requested_at"],
                                              chunk_no=n, chunks_total=total).model_dump(mode="json")
                                for n in range(total))
                resumed.add(import_id)
                done["reverts"] += 1
            elif item.get("status") == ImportStatus.REVERTING.value and revert.get("requested_at"):
                # PostgreSQL has no revert of it running (it failed there): the item follows
                if progress.fail_revert(import_id, revert["requested_at"], STRANDED_REVERT):
                    done["reverts_failed"] += 1
            elif item.get("status") == ImportStatus.PENDING.value and item.get("preview_of"):
                # an apply (nothing to upload) whose split request the stop lost: pending for 24 h, then
                # "upload expired", and its preview could not be applied again meanwhile (409)
                if fail_import(progress, runtime.chunk_ledger(), import_id, STRANDED_APPLY):
                    done["applies"] += 1
            elif replace.get("status") == "held" and replace.get("confirmed_at") and progress.release_replace(
                    import_id, replace["confirmed_at"], STRANDED_REPLACE):
                done["replaces"] += 1
        except Exception as exc:
            logger.warning("could not resume the job of import %s: %s", raw.get("id"), exc)
    for import_id, (state, _total) in planned.items():
        if state == "running" and import_id not in resumed:
            try:
                fail_revert(conn, import_id)
                done["reverts_failed"] += 1
            except Exception as exc:
                logger.warning("could not end the revert of import %s the restart stranded: %s", import_id, exc)
    if any(done.values()):
        logger.info("jobs the restart stranded: %(reverts)d revert(s) resumed, %(reverts_failed)d revert(s) "
                    "failed (ask again to finish), %(replaces)d confirmed replace(s) held again, %(applies)d "
                    "applied preview(s) failed", done)
    return done


def resume_webhooks(restored: list[dict[str, Any]]) -> None:
    """Queue again the webhook work the emulator's queues lost at the stop (``resume_after_restart``): the
    events of imports that had ended, their fan-out, the deliveries still owed with their attempts."""
    from product_importer import runtime
    from product_importer.models import ImportStatus
    from product_importer.progress import import_from_item
    from product_importer.webhooks.dispatch import FinishPorts, resume_after_restart

    settings = runtime.settings()
    try:
        imports = [import_from_item(item) for item in restored]
        ports = FinishPorts(connection=runtime.db_connection, finished=runtime.queue(settings.finished_queue_url),
                            deliveries=runtime.queue(settings.webhooks_queue_url))
        ended = [i for i in imports if i.status.settled or i.status == ImportStatus.REVERTING]
        resumed = resume_after_restart(runtime.db_connection(), ended, ports)
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
