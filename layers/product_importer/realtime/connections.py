"""``ConnectionStore``: WebSocket connections and their subscriptions in one DynamoDB table.

Two kinds of item share the table (partition key ``connection_id``):

- the connection: ``{connection_id: C, subscriptions: {import ids}, group, connected_at, expires_at}``
  (``group``: the caller's group, CONTRACT §8, as ``$connect`` found it);
- one item per subscription: ``{connection_id: "C|<import id>", import_id, expires_at}``.

Only subscription items carry ``import_id``, so the sparse GSI ``by_import`` (keys only) lists exactly an
import's subscribers: the broadcaster finds them with one Query, never a Scan. ``*`` is an import id like
any other. Every item expires (TTL) a while after API Gateway's 2-hour connection limit, so a connection
whose ``$disconnect`` never came and that nobody posts to is still cleaned up.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from botocore.exceptions import ClientError

BY_IMPORT_INDEX = "by_import"
ALL_IMPORTS = "*"
CONNECTION_LIMIT_S = 2 * 3600  # API Gateway closes every WebSocket connection after 2 hours
TTL_S = CONNECTION_LIMIT_S + 3600
MAX_SUBSCRIPTIONS = 100  # per connection
_SEP = "|"  # API Gateway connection ids are base64-like: never contain it


class ConnectionStoreError(Exception):
    """The connections table could not be read or written."""


class TooManySubscriptionsError(Exception):
    """A connection asked for more subscriptions than one browser tab needs."""


def subscription_key(connection_id: str, import_id: str) -> str:
    return f"{connection_id}{_SEP}{import_id}"


def connection_of(key: str) -> str:
    return key.split(_SEP, 1)[0]


class ConnectionStore:
    def __init__(self, table: str, client: Any, *, clock: Any = time.time) -> None:
        self._table = table
        self._db = client
        self._clock = clock

    def _expires(self) -> int:
        return int(self._clock()) + TTL_S

    def connect(self, connection_id: str, *, source_ip: str | None = None, group: str | None = None) -> None:
        item: dict[str, Any] = {
            "connection_id": {"S": connection_id},
            "connected_at": {"N": str(int(self._clock()))},
            "expires_at": {"N": str(self._expires())},
        }
        if source_ip:
            item["source_ip"] = {"S": source_ip}
        if group:
            item["group"] = {"S": group}
        self._call("put_item", TableName=self._table, Item=item)

    def group(self, connection_id: str) -> str | None:
        """The caller's group recorded at ``$connect`` (None: unknown connection, or none recorded)."""
        reply = self._call(
            "get_item",
            TableName=self._table,
            Key={"connection_id": {"S": connection_id}},
            ConsistentRead=True,
            ProjectionExpression="#g",
            ExpressionAttributeNames={"#g": "group"},
        )
        value = (reply.get("Item") or {}).get("group", {}).get("S")
        return str(value) if value else None

    def subscribe(self, connection_id: str, import_id: str) -> None:
        """Idempotent. Creates the connection item too if ``$connect`` left none (e.g. after a TTL)."""
        current = self.subscriptions(connection_id)
        if import_id not in current and len(current) >= MAX_SUBSCRIPTIONS:
            raise TooManySubscriptionsError(f"at most {MAX_SUBSCRIPTIONS} subscriptions per connection")
        expires = {"N": str(self._expires())}
        self._call(
            "put_item",
            TableName=self._table,
            Item={
                "connection_id": {"S": subscription_key(connection_id, import_id)},
                "import_id": {"S": import_id},
                "expires_at": expires,
            },
        )
        self._call(
            "update_item",
            TableName=self._table,
            Key={"connection_id": {"S": connection_id}},
            UpdateExpression="ADD subscriptions :s SET expires_at = :e",
            ExpressionAttributeValues={":s": {"SS": [import_id]}, ":e": expires},
        )

    def unsubscribe(self, connection_id: str, import_id: str) -> None:
        self._call(
            "delete_item",
            TableName=self._table,
            Key={"connection_id": {"S": subscription_key(connection_id, import_id)}},
        )
        self._call(
            "update_item",
            TableName=self._table,
            Key={"connection_id": {"S": connection_id}},
            UpdateExpression="DELETE subscriptions :s",
            ConditionExpression="attribute_exists(connection_id)",
            ExpressionAttributeValues={":s": {"SS": [import_id]}},
            conditional_ok=True,
        )

    def subscriptions(self, connection_id: str) -> set[str]:
        reply = self._call(
            "get_item",
            TableName=self._table,
            Key={"connection_id": {"S": connection_id}},
            ConsistentRead=True,
        )
        item = reply.get("Item") or {}
        return set(item.get("subscriptions", {}).get("SS", []))

    def exists(self, connection_id: str) -> bool:
        reply = self._call(
            "get_item",
            TableName=self._table,
            Key={"connection_id": {"S": connection_id}},
            ConsistentRead=True,
            ProjectionExpression="connection_id",
        )
        return "Item" in reply

    def forget(self, connection_id: str) -> None:
        """Delete the connection and every subscription of it (``$disconnect``, or a Gone answer)."""
        keys = [subscription_key(connection_id, i) for i in self.subscriptions(connection_id)]
        keys.append(connection_id)
        self._delete_all(keys)

    def subscribers(self, import_ids: Iterable[str]) -> set[str]:
        """Connection ids subscribed to any of ``import_ids`` (a Query per id on the GSI)."""
        found: set[str] = set()
        for import_id in set(import_ids):
            kwargs: dict[str, Any] = {
                "TableName": self._table,
                "IndexName": BY_IMPORT_INDEX,
                "KeyConditionExpression": "import_id = :i",
                "ExpressionAttributeValues": {":i": {"S": import_id}},
            }
            while True:
                reply = self._call("query", **kwargs)
                found.update(connection_of(item["connection_id"]["S"]) for item in reply.get("Items", []))
                last = reply.get("LastEvaluatedKey")
                if not last:
                    break
                kwargs["ExclusiveStartKey"] = last
        return found

    def _delete_all(self, keys: list[str]) -> None:
        for start in range(0, len(keys), 25):
            requests = [
                {"DeleteRequest": {"Key": {"connection_id": {"S": k}}}} for k in keys[start : start + 25]
            ]
            pending: dict[str, Any] = {self._table: requests}
            for _attempt in range(5):
                reply = self._call("batch_write_item", RequestItems=pending)
                pending = reply.get("UnprocessedItems") or {}
                if not pending:
                    break
                time.sleep(0.05)
            else:
                raise ConnectionStoreError("DynamoDB left deletes unprocessed after 5 attempts")

    def _call(self, operation: str, conditional_ok: bool = False, **kwargs: Any) -> Any:
        try:
            return getattr(self._db, operation)(**kwargs)
        except ClientError as exc:
            if (
                conditional_ok
                and exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"
            ):
                return {}
            raise ConnectionStoreError(f"{operation}: {exc}") from exc

