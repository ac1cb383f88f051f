"""``ImportRequests``: the API's reads and conditional writes on the Import items (DynamoDB).

The pipeline's writes (start, totals, completion, failure) are ``ProgressStore``'s; these are the ones a
user's request makes. Each is conditional on the status it read, so two requests racing (two applies of
one preview, a discard during an apply, two reverts) leave exactly one winner; the loser sees ``False``
or ``None`` and answers 409.

Item attributes written here besides the Import fields: ``import_no``, ``bucket``, ``object_key``,
``object_version``, ``object_etag`` (the file, pinned for an applied preview), ``options`` (the
``ImportOptions`` the import was created with), ``replace.confirmed_at`` (a held replace confirmed),
``kind`` and ``created_sort`` (the ``by_created`` index).
"""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from product_importer.models import Import, ImportOptions, ImportStatus, utcnow
from product_importer.progress import (
    LIST_INDEX,
    CursorError,
    ProgressError,
    cursor_text,
    dynamo_values,
    from_item,
    import_from_item,
    to_item,
)

_KIND = "import"
_MAX_QUERIES = 10  # per list request: a rare filter answers a short page with a cursor, never a slow one
_MAX_CURSOR_PART = 512


def _conditional_failed(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


class ImportRequests:
    def __init__(self, table: str, client: Any) -> None:
        self._table = table
        self._db = client

    # -- reads --------------------------------------------------------------------------------------

    def get_item(self, import_id: str) -> dict[str, Any] | None:
        """The raw item (Import fields plus ``options``, ``bucket``, ``object_key``, …); None if unknown."""
        if not import_id or len(import_id.encode("utf-8", "surrogatepass")) > 1024:
            return None  # DynamoDB refuses keys over 2 KB: no import has such an id
        reply = self._call("get_item", TableName=self._table, Key={"id": {"S": import_id}}, ConsistentRead=True)
        item = reply.get("Item")
        return from_item(item) if item else None

    def list(self, *, limit: int = 50, cursor: str | None = None, status: str | None = None,
             mode: str | None = None, partner: str | None = None) -> tuple[list[Import], str | None]:
        """Newest first, optionally filtered; paged with an opaque cursor (a page may be short). The cursor is
        None once nothing follows, also when the last page is full: the query reads one item past the page
        (a filtered one reads on until it finds one, within ``_MAX_QUERIES``)."""
        filters, values = [], {":kind": {"S": _KIND}}
        names: dict[str, str] = {}
        for attribute, wanted in (("status", status), ("mode", mode), ("partner", partner)):
            if wanted is not None:
                condition = f"#{attribute} = :{attribute}"
                if attribute == "mode" and wanted == "import":  # items older than previews have no mode
                    condition = f"(attribute_not_exists(#mode) OR {condition})"
                filters.append(condition)
                names[f"#{attribute}"] = attribute
                values[f":{attribute}"] = {"S": wanted}
        start = _decode_cursor(cursor) if cursor else None
        found: list[Import] = []
        last_raw: dict[str, Any] | None = None  # the item the page ends with (its cursor goes on after it)
        last_key: dict[str, Any] | None = None
        for _ in range(_MAX_QUERIES):
            kwargs: dict[str, Any] = {
                "TableName": self._table,
                "IndexName": LIST_INDEX,
                "KeyConditionExpression": "kind = :kind",
                "ExpressionAttributeValues": values,
                "ScanIndexForward": False,
                "Limit": limit + 1 - len(found) if not filters else max(limit + 1, 100),
            }
            if filters:
                kwargs["FilterExpression"] = " AND ".join(filters)
                kwargs["ExpressionAttributeNames"] = names
            if start:
                kwargs["ExclusiveStartKey"] = start
            reply = self._call("query", **kwargs)
            for raw in reply.get("Items", []):
                if len(found) == limit:  # one more: the page is full and something follows it
                    assert last_raw is not None
                    return found, _encode_cursor(last_raw)
                found.append(import_from_item(raw))
                last_raw = raw
            last_key = reply.get("LastEvaluatedKey")
            if not last_key:
                return found, None
            start = last_key
        if len(found) == limit:  # full, and the queries ran out before telling whether more follows
            assert last_raw is not None
            return found, _encode_cursor(last_raw)
        return found, _encode_cursor(last_key) if last_key else None

    # -- writes -------------------------------------------------------------------------------------

    def create(self, imp: Import, *, import_no: int, bucket: str, key: str, options: ImportOptions,
               version_id: str | None = None, etag: str | None = None) -> bool:
        """Create the import with the options it was asked for; False if the id exists already."""
        values = imp.model_dump(mode="json")
        values.update(import_no=import_no, bucket=bucket, object_key=key, object_version=version_id,
                      object_etag=etag, options=options.model_dump(mode="json", exclude_none=True),
                      kind=_KIND, created_sort=f"{imp.created_at}#{imp.id}")
        return self._write("put_item", TableName=self._table, Item=to_item(dynamo_values(values)),
                           ConditionExpression="attribute_not_exists(id)") is not None

    def delete_unstarted(self, import_id: str) -> bool:
        """Remove an import that never started (an apply whose job could not be sent)."""
        return self._write("delete_item", TableName=self._table, Key={"id": {"S": import_id}},
                           ConditionExpression="#status = :pending",
                           ExpressionAttributeNames={"#status": "status"},
                           ExpressionAttributeValues={":pending": {"S": ImportStatus.PENDING.value}}) is not None

    def discard(self, import_id: str) -> bool:
        """Delete a ``previewed`` (never applied) or ``pending`` import; False if it is neither (any more)."""
        return self._write(
            "delete_item", TableName=self._table, Key={"id": {"S": import_id}},
            ConditionExpression="#status IN (:previewed, :pending) AND attribute_not_exists(applied_as)",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={":previewed": {"S": ImportStatus.PREVIEWED.value},
                                       ":pending": {"S": ImportStatus.PENDING.value}},
        ) is not None

    def claim_apply(self, preview_id: str, applied_id: str) -> bool:
        """Mark the preview ``applied_as`` the new import, once."""
        return self._update(preview_id, "SET applied_as = :applied",
                             "#status = :previewed AND attribute_not_exists(applied_as)",
                             {":applied": applied_id, ":previewed": ImportStatus.PREVIEWED.value}) is not None

    def release_apply(self, preview_id: str, applied_id: str) -> bool:
        """Undo ``claim_apply`` (the applied import could not be started)."""
        return self._update(preview_id, "REMOVE applied_as", "applied_as = :applied",
                            {":applied": applied_id}) is not None

    def start_revert(self, import_id: str, *, from_status: str, requested_at: str) -> Import | None:
        """``from_status`` (completed or failed) → ``reverting``, with a fresh ``revert`` object; not while a
        confirmed replace is being carried out (``confirm_replace`` and this exclude each other)."""
        revert = {"restored": 0, "deleted": 0, "conflicts": 0, "requested_at": requested_at,
                  "status": "running", "previous_status": from_status}
        item = self._update(import_id, "SET #status = :reverting, revert = :revert",
                            "#status = :from AND (attribute_not_exists(#replace.confirmed_at)"
                            " OR #replace.#status <> :held)",
                            {":reverting": ImportStatus.REVERTING.value, ":revert": revert, ":from": from_status,
                             ":held": "held"}, returning="ALL_NEW")
        return Import.model_validate(item) if item is not None else None

    def cancel_revert(self, import_id: str, *, requested_at: str) -> bool:
        """Undo ``start_revert`` when its job could not be sent (nothing was reverted yet)."""
        item = self.get_item(import_id)
        revert = (item or {}).get("revert") or {}
        if revert.get("requested_at") != requested_at or item is None:
            return False
        return self._update(import_id, "SET #status = :previous REMOVE revert",
                            "#status = :reverting AND revert.requested_at = :at",
                            {":previous": revert.get("previous_status"), ":reverting": ImportStatus.REVERTING.value,
                             ":at": requested_at}) is not None

    def finish_empty_revert(self, import_id: str, *, requested_at: str) -> bool:
        """``reverting`` → ``reverted`` for an import that touched no product (nothing to do)."""
        return self._update(import_id, "SET #status = :reverted, reverted_at = :now, revert.#status = :done",
                            "#status = :reverting AND revert.requested_at = :at",
                            {":reverted": ImportStatus.REVERTED.value, ":reverting": ImportStatus.REVERTING.value,
                             ":now": utcnow(), ":done": "done", ":at": requested_at}) is not None

    def confirm_replace(self, import_id: str, *, confirmed_at: str) -> Import | None:
        """Mark a held replace confirmed, once, while the import is ``completed`` (not a preview, not being
        reverted or reverted: ``start_revert`` and this exclude each other)."""
        item = self._update(import_id, "SET #replace.confirmed_at = :at",
                            "#replace.#status = :held AND attribute_not_exists(#replace.confirmed_at)"
                            " AND #status = :completed",
                            {":at": confirmed_at, ":held": "held", ":completed": ImportStatus.COMPLETED.value},
                            returning="ALL_NEW")
        return Import.model_validate(item) if item is not None else None

    def unconfirm_replace(self, import_id: str, *, confirmed_at: str) -> bool:
        return self._update(import_id, "REMOVE #replace.confirmed_at", "#replace.confirmed_at = :at",
                            {":at": confirmed_at}) is not None

    # -- DynamoDB -----------------------------------------------------------------------------------

    def _update(self, import_id: str, update: str, condition: str, values: dict[str, Any],
                returning: str = "NONE") -> dict[str, Any] | None:
        names = {f"#{n}": n for n in ("status", "replace") if f"#{n}" in update or f"#{n}" in condition}
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "Key": {"id": {"S": import_id}},
            "UpdateExpression": update,
            "ConditionExpression": condition,
            "ExpressionAttributeValues": to_item(dynamo_values(values)),
            "ReturnValues": returning,
        }
        if names:
            kwargs["ExpressionAttributeNames"] = names
        reply = self._write("update_item", **kwargs)
        return None if reply is None else from_item(reply.get("Attributes", {}))

    def _write(self, operation: str, **kwargs: Any) -> dict[str, Any] | None:
        """The conditional write; None if its condition failed."""
        try:
            reply: dict[str, Any] = getattr(self._db, operation)(**kwargs)
        except ClientError as exc:
            if _conditional_failed(exc):
                return None
            raise ProgressError(f"{operation}: {exc}") from exc
        except BotoCoreError as exc:
            raise ProgressError(f"{operation}: {exc}") from exc
        return reply

    def _call(self, operation: str, **kwargs: Any) -> dict[str, Any]:
        try:
            reply: dict[str, Any] = getattr(self._db, operation)(**kwargs)
        except (ClientError, BotoCoreError) as exc:
            raise ProgressError(f"{operation}: {exc}") from exc
        return reply


def _encode_cursor(item: dict[str, Any]) -> str:
    """The opaque cursor after ``item`` (a raw DynamoDB item of the index)."""
    key = {"i": item["id"]["S"], "c": item["created_sort"]["S"]}
    return base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":")).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> dict[str, Any]:
    try:
        raw = base64.urlsafe_b64decode(cursor.encode("ascii") + b"=" * (-len(cursor) % 4))
        value = json.loads(raw)
    except (ValueError, UnicodeError) as exc:
        raise CursorError("invalid cursor") from exc
    if (not isinstance(value, dict) or set(value) != {"i", "c"}
            or not all(isinstance(v, str) and 0 < len(v) <= _MAX_CURSOR_PART for v in value.values())):
        raise CursorError("invalid cursor")
    # what _encode_cursor makes: created_sort is "<created_at>#<id>"
    created, _, import_id = cursor_text(value["c"]).partition("#")
    try:
        datetime.fromisoformat(created)
    except ValueError as exc:
        raise CursorError("invalid cursor") from exc
    if import_id != cursor_text(value["i"]):
        raise CursorError("invalid cursor")
    return {"id": {"S": value["i"]}, "kind": {"S": _KIND}, "created_sort": {"S": value["c"]}}
