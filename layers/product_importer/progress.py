"""``DynamoProgressStore``, the ``ProgressStore`` port: the Import objects in DynamoDB (one item per import, streamed to the broadcaster).

Every write is conditional so that status only moves forward, counts only grow, and ``completed`` /
``failed`` are set exactly once, whatever retries and duplicate deliveries do.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import asdict
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from product_importer.ingest.plan import MAX_IMPORT_WARNINGS
from product_importer.models import Import, ImportStatus, ImportTotals, RevertProgress, utcnow

LIST_INDEX = "by_created"
_KIND = "import"
_ser = TypeSerializer()
_de = TypeDeserializer()


class ProgressError(Exception):
    """The progress store could not be read or written."""


def to_item(values: dict[str, Any]) -> dict[str, Any]:
    return {k: _ser.serialize(v) for k, v in values.items() if v is not None}


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _plain(_de.deserialize(v)) for k, v in item.items()}


def _plain(value: Any) -> Any:
    """DynamoDB numbers as JSON numbers: integers where integral (counts), nested maps and lists too."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | set):
        return [_plain(v) for v in value]
    return value


# DynamoDB numbers (Developer Guide, "Supported data types", Number): up to 38 significant digits, magnitudes
# from 1E-130 to 9.9999999999999999999999999999999999999E+125 (and 0).
DYNAMODB_SMALLEST = Decimal("1E-130")


def dynamo_number(value: float) -> Decimal:
    """``value`` as a DynamoDB number: its shortest decimal form (``repr``, at most 17 significant digits),
    and 0 for a magnitude below 1E-130, as float arithmetic underflows (boto3 raised ``decimal.Underflow``:
    ``replace.max_deactivate_percent`` 7e-208 on ``POST /api/imports`` was a 500, CONTRACT §3). Floats
    above 1E+125 are kept out by validation (``max_deactivate_percent`` is 0–100); NaN and infinities too."""
    number = Decimal(repr(value))
    return Decimal(0) if abs(number) < DYNAMODB_SMALLEST else number


def dynamo_values(value: Any) -> Any:
    """``value`` with every float as a Decimal (DynamoDB numbers), nested maps and lists too."""
    if isinstance(value, float):
        return dynamo_number(value)
    if isinstance(value, dict):
        return {k: dynamo_values(v) for k, v in value.items()}
    if isinstance(value, list):
        return [dynamo_values(v) for v in value]
    return value


def import_from_item(item: dict[str, Any]) -> Import:
    """An Import from a DynamoDB item (also a stream NEW_IMAGE)."""
    return Import.model_validate(from_item(item))


def _conditional_failed(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


class DynamoProgressStore:
    def __init__(self, table: str, client: Any) -> None:
        self._table = table
        self._db = client

    # -- writes -------------------------------------------------------------------------------------

    def create(self, imp: Import, *, import_no: int, bucket: str, key: str, version_id: str | None = None) -> bool:
        """Create the import; False if an import with this id already exists (duplicate event)."""
        values = imp.model_dump(mode="json")
        values.update(import_no=import_no, bucket=bucket, object_key=key, object_version=version_id,
                      kind=_KIND, created_sort=f"{imp.created_at}#{imp.id}")
        return self._put_new(values)

    def _put_new(self, values: dict[str, Any]) -> bool:
        try:
            self._db.put_item(TableName=self._table, Item=to_item(values),
                              ConditionExpression="attribute_not_exists(id)")
        except ClientError as exc:
            if _conditional_failed(exc):
                return False
            raise ProgressError(str(exc)) from exc
        return True

    def start(self, import_id: str, *, version_id: str | None, etag: str | None) -> bool:
        """pending → processing, pinning the object version. Re-entrant for a retried splitter on the
        same version while ``chunks_total`` is unknown; False for anything else (duplicate event, a new
        version written over a started upload)."""
        return self._update(
            import_id,
            "SET #status = :processing, started_at = if_not_exists(started_at, :now),"
            " object_version = :version, object_etag = :etag",
            "attribute_exists(id) AND (#status = :pending OR (#status = :processing"
            " AND attribute_not_exists(chunks_total) AND object_etag = :etag))",
            {":processing": ImportStatus.PROCESSING.value, ":pending": ImportStatus.PENDING.value,
             ":now": utcnow(), ":version": version_id or "", ":etag": etag or ""},
        )

    def set_totals(self, import_id: str, *, chunks_total: int, rows_total: int) -> bool:
        return self._update(
            import_id,
            "SET chunks_total = :chunks, rows_total = :rows",
            "#status = :processing",
            {":chunks": chunks_total, ":rows": rows_total, ":processing": ImportStatus.PROCESSING.value},
        )

    def record_totals(self, import_id: str, totals: ImportTotals) -> bool:
        """Write an absolute snapshot of the import's committed totals; only ever moves forward."""
        return self._record(import_id, totals) is not None

    def record_deactivated(self, import_id: str, products_deactivated: int) -> bool:
        """A running replace's count so far (forward only, while processing): a replace of a large scope
        deactivates for minutes after the last row, and showed nothing meanwhile (found at 1M products)."""
        return self._apply(
            import_id,
            "SET products_deactivated = :n, updated_at = :now",
            "#status = :processing AND (attribute_not_exists(products_deactivated) OR products_deactivated < :n)",
            {":n": products_deactivated, ":now": utcnow(), ":processing": ImportStatus.PROCESSING.value},
        ) is not None

    def record_late_deactivated(self, import_id: str, products_deactivated: int) -> bool:
        """A replace's count after an older import's late chunk deactivated more for it (``db.replace.
        late_deactivations``), whatever the import's status now; forward only."""
        return self._apply(
            import_id,
            "SET products_deactivated = :n, updated_at = :now",
            "attribute_exists(id) AND (attribute_not_exists(products_deactivated) OR products_deactivated < :n)",
            {":n": products_deactivated, ":now": utcnow()},
        ) is not None

    def record_snapshot(self, import_id: str, totals: ImportTotals) -> dict[str, Any] | None:
        """Record the committed totals (forward only); the item as it is now, None if refused."""
        return self._record(import_id, totals, returning="ALL_NEW")

    def _record(self, import_id: str, totals: ImportTotals, returning: str = "NONE") -> dict[str, Any] | None:
        values = {f":{k}": v for k, v in asdict(totals).items()}
        sets = ", ".join(f"{k} = :{k}" for k in asdict(totals))
        return self._apply(
            import_id,
            f"SET {sets}, updated_at = :now",
            "#status IN (:processing, :pending) AND (attribute_not_exists(chunks_done) OR chunks_done < :chunks_done)",
            {**values, ":now": utcnow(), ":processing": ImportStatus.PROCESSING.value,
             ":pending": ImportStatus.PENDING.value},
            returning,
        )

    def complete_if_done(self, import_id: str, committed: ImportTotals | None = None, *,
                         status: str = ImportStatus.COMPLETED.value) -> bool:
        """processing → ``status`` (completed; previewed for a preview), once, by whoever first sees every
        chunk done.

        With ``committed`` (the import's totals as PostgreSQL committed them), completion is decided on
        those and writes them as the final counts, so a lost or reordered progress snapshot can neither
        delay completion nor leave counts short."""
        values: dict[str, Any] = {":completed": status,
                                  ":processing": ImportStatus.PROCESSING.value, ":now": utcnow()}
        if committed is None:
            return self._update(import_id, "SET #status = :completed, finished_at = :now",
                                "#status = :processing AND chunks_done = chunks_total", values)
        fields = asdict(committed)
        values.update({f":{k}": v for k, v in fields.items()})
        sets = ", ".join(f"{k} = :{k}" for k in fields)
        return self._update(import_id, f"SET #status = :completed, finished_at = :now, {sets}",
                            "#status = :processing AND chunks_total = :chunks_done", values)

    def record_plan(self, import_id: str, *, encoding: str | None, profile: str | None,
                    mapping: dict[str, Any] | None = None, warnings: list[str] | None = None,
                    replace: dict[str, Any] | None = None) -> bool:
        """What the file's header decided, for the Import object (while it is processing); ``replace``:
        the options a drop's saved mapping carries."""
        fields = {"encoding": encoding, "profile": profile, "mapping": mapping, "warnings": warnings,
                  "replace": replace}
        present = {k: v for k, v in fields.items() if v is not None}
        if not present:
            return True
        sets = ", ".join(f"#{k} = :{k}" if k == "replace" else f"{k} = :{k}" for k in present)  # a reserved word
        return self._update(import_id, f"SET {sets}", "#status = :processing",
                            {":processing": ImportStatus.PROCESSING.value, **{f":{k}": v for k, v in present.items()}})

    def add_warning(self, import_id: str, warning: str) -> bool:
        """A warning a chunk found into the Import's ``warnings``: once (a replayed chunk or another chunk
        finding it again adds nothing), while there is room (``MAX_IMPORT_WARNINGS``)."""
        return self._update(
            import_id,
            "SET warnings = list_append(if_not_exists(warnings, :none), :warning)",
            "attribute_exists(id) AND (attribute_not_exists(warnings)"
            " OR (NOT contains(warnings, :text) AND size(warnings) < :cap))",
            {":warning": [warning], ":none": [], ":text": warning, ":cap": MAX_IMPORT_WARNINGS},
        )

    def expire(self, import_id: str, reason: str) -> bool:
        """pending → failed (the file never arrived), once; an import that started meanwhile is left alone."""
        return self._update(
            import_id,
            "SET #status = :failed, #error = :reason, finished_at = :now",
            "#status = :pending",
            {":failed": ImportStatus.FAILED.value, ":pending": ImportStatus.PENDING.value,
             ":reason": reason, ":now": utcnow()},
        )

    def pending_created_between(self, after: str, before: str) -> list[str]:
        """Ids of imports still ``pending`` that were created in ``[after, before)`` (ISO 8601 times)."""
        found: list[str] = []
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": LIST_INDEX,
            "KeyConditionExpression": "kind = :kind AND created_sort BETWEEN :after AND :before",
            "FilterExpression": "#status = :pending",
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": to_item({":kind": _KIND, ":after": after, ":before": before,
                                                  ":pending": ImportStatus.PENDING.value}),
            "ProjectionExpression": "id",
        }
        try:
            while True:
                reply = self._db.query(**kwargs)
                found.extend(from_item(item)["id"] for item in reply.get("Items", []))
                if "LastEvaluatedKey" not in reply:
                    return found
                kwargs["ExclusiveStartKey"] = reply["LastEvaluatedKey"]
        except ClientError as exc:
            raise ProgressError(str(exc)) from exc

    def fail(self, import_id: str, reason: str) -> bool:
        """pending/processing → failed with a reason, once. Committed rows stay committed."""
        return self._update(
            import_id,
            "SET #status = :failed, #error = :reason, finished_at = :now",
            "#status IN (:pending, :processing)",
            {":failed": ImportStatus.FAILED.value, ":pending": ImportStatus.PENDING.value,
             ":processing": ImportStatus.PROCESSING.value, ":reason": reason[:2000], ":now": utcnow()},
        )

    # -- the end of a run, a revert, a confirmed replace (issues 13 and 14) ---------------------------

    def finish(self, import_id: str, status: ImportStatus, committed: ImportTotals, *,
               replace: dict[str, Any] | None = None, warnings: Sequence[str] = ()) -> bool:
        """processing → ``completed`` / ``previewed`` with the committed totals as the final counts, once.

        Only when ``committed`` covers every chunk (``chunks_total``), so a late or repeated call with
        older totals can never end an import early; the ``replace`` object (with its ``status``) and
        ``warnings`` go in the same write."""
        if status not in (ImportStatus.COMPLETED, ImportStatus.PREVIEWED):
            raise ValueError(f"a run ends completed or previewed, not {status}")
        fields = asdict(committed)
        values: dict[str, Any] = {f":{k}": v for k, v in fields.items()}
        values.update({":final": status.value, ":processing": ImportStatus.PROCESSING.value, ":now": utcnow()})
        sets = [f"{k} = :{k}" for k in fields]
        sets += ["#status = :final", "finished_at = :now", "updated_at = :now"]
        if replace is not None:
            sets.append("#replace = :replace")
            values[":replace"] = dynamo_values(replace)
        if warnings:
            sets.append("warnings = list_append(if_not_exists(warnings, :no_warnings), :warnings)")
            values.update({":warnings": list(warnings), ":no_warnings": []})
        return self._update(import_id, "SET " + ", ".join(sets),
                            "#status = :processing AND chunks_total = :chunks_done", values)

    def record_revert(self, import_id: str, requested_at: str, progress: RevertProgress) -> bool:
        """The revert's totals into ``revert`` (forward only); its last chunk ends the import ``reverted``."""
        values: dict[str, Any] = {
            ":restored": progress.restored, ":deleted": progress.deleted, ":conflicts": progress.conflicts,
            ":done": progress.chunks_done, ":total": progress.chunks_total, ":at": requested_at,
            ":reverting": ImportStatus.REVERTING.value, ":now": utcnow(),
        }
        sets = ("revert.restored = :restored, revert.deleted = :deleted, revert.conflicts = :conflicts,"
                " revert.chunks_done = :done, revert.chunks_total = :total, updated_at = :now")
        condition = "#status = :reverting AND revert.requested_at = :at"
        if progress.done:
            values.update({":reverted": ImportStatus.REVERTED.value, ":finished": "done"})
            return self._update(import_id, f"SET {sets}, #status = :reverted, reverted_at = :now,"
                                " revert.#status = :finished, revert.finished_at = :now", condition, values)
        return self._update(import_id, f"SET {sets}",
                            f"{condition} AND (attribute_not_exists(revert.chunks_done) OR revert.chunks_done < :done)",
                            values)

    def fail_revert(self, import_id: str, requested_at: str, reason: str) -> bool:
        """``reverting`` → the status before the revert, ``revert.status = "failed"``, once."""
        item = self.get_item(import_id)
        revert = (item or {}).get("revert") or {}
        previous = revert.get("previous_status")
        if item is None or revert.get("requested_at") != requested_at or previous is None:
            return False
        return self._update(
            import_id,
            "SET #status = :previous, revert.#status = :failed, revert.#error = :reason, revert.finished_at = :now,"
            " updated_at = :now",
            "#status = :reverting AND revert.requested_at = :at",
            {":previous": previous, ":failed": "failed", ":reason": reason[:2000], ":now": utcnow(),
             ":reverting": ImportStatus.REVERTING.value, ":at": requested_at},
        )

    def finish_replace(self, import_id: str, confirmed_at: str, products_deactivated: int,
                       warnings: list[str]) -> bool:
        """A confirmed held replace carried out: held → done with the import's ``products_deactivated``
        and ``warnings`` (without the one that said the replace was held)."""
        return self._update(
            import_id,
            "SET #replace.#status = :done, products_deactivated = :deactivated, warnings = :warnings,"
            " updated_at = :now",
            "#replace.#status = :held AND #replace.confirmed_at = :at",
            {":done": "done", ":held": "held", ":at": confirmed_at, ":deactivated": products_deactivated,
             ":warnings": warnings, ":now": utcnow()},
        )

    def release_replace(self, import_id: str, confirmed_at: str, warning: str) -> bool:
        """A confirmed replace that failed every attempt: held again (confirmable again), with a warning."""
        return self._update(
            import_id,
            "REMOVE #replace.confirmed_at SET warnings = list_append(if_not_exists(warnings, :none), :warning),"
            " updated_at = :now",
            "#replace.#status = :held AND #replace.confirmed_at = :at",
            {":held": "held", ":at": confirmed_at, ":warning": [warning], ":none": [], ":now": utcnow()},
        )

    def _update(self, import_id: str, update: str, condition: str, values: dict[str, Any]) -> bool:
        return self._apply(import_id, update, condition, values) is not None

    def _apply(self, import_id: str, update: str, condition: str, values: dict[str, Any],
               returning: str = "NONE") -> dict[str, Any] | None:
        """The conditional update; None if the condition failed, else the ``ReturnValues`` attributes."""
        names = {n: n[1:] for n in ("#status", "#error", "#replace") if n in update or n in condition}
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "Key": {"id": {"S": import_id}},
            "UpdateExpression": update,
            "ConditionExpression": condition,
            "ExpressionAttributeValues": to_item(values),
            "ReturnValues": returning,
        }
        if names:
            kwargs["ExpressionAttributeNames"] = names
        try:
            reply = self._db.update_item(**kwargs)
        except ClientError as exc:
            if _conditional_failed(exc):
                return None
            raise ProgressError(str(exc)) from exc
        return from_item(reply.get("Attributes", {}))

    # -- reads --------------------------------------------------------------------------------------

    def get_item(self, import_id: str) -> dict[str, Any] | None:
        """The raw item (Import fields plus import_no, bucket, object_key, …)."""
        try:
            reply = self._db.get_item(TableName=self._table, Key={"id": {"S": import_id}}, ConsistentRead=True)
        except ClientError as exc:
            raise ProgressError(str(exc)) from exc
        item = reply.get("Item")
        return from_item(item) if item else None

    def get(self, import_id: str) -> Import | None:
        item = self.get_item(import_id)
        return Import.model_validate(item) if item else None

    def list(self, *, limit: int = 50, cursor: str | None = None) -> tuple[list[Import], str | None]:
        """Newest first, paged with an opaque cursor."""
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": LIST_INDEX,
            "KeyConditionExpression": "kind = :kind",
            "ExpressionAttributeValues": {":kind": {"S": _KIND}},
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if cursor:
            kwargs["ExclusiveStartKey"] = decode_cursor(cursor)
        try:
            reply = self._db.query(**kwargs)
        except ClientError as exc:
            raise ProgressError(str(exc)) from exc
        items = [import_from_item(i) for i in reply.get("Items", [])]
        last = reply.get("LastEvaluatedKey")
        return items, encode_cursor(last) if last else None


class CursorError(ValueError):
    """An opaque cursor that this service did not produce."""


def encode_cursor(key: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":")).encode()).decode()


def cursor_text(value: Any) -> str:
    """``value`` if it is text a store can take back (valid Unicode, no NUL), else ``CursorError`` (400):
    a decoded cursor's JSON can hold a lone surrogate (``"\\ud800"``) that PostgreSQL and DynamoDB refuse."""
    if not isinstance(value, str) or "\x00" in value:
        raise CursorError("invalid cursor")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise CursorError("invalid cursor") from exc
    return value


def decode_cursor(cursor: str) -> dict[str, Any]:
    try:
        value = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, UnicodeError) as exc:
        raise CursorError("invalid cursor") from exc
    if not isinstance(value, dict):
        raise CursorError("invalid cursor")
    for key, part in value.items():  # a DynamoDB key: {"name": {"S": text}}
        cursor_text(key)
        if not isinstance(part, dict) or len(part) != 1 or "S" not in part:
            raise CursorError("invalid cursor")
        cursor_text(part["S"])
    return value

