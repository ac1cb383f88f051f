"""Lambda event shapes as AWS delivers them; used by the local event pump and by the tests."""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from typing import Any

REGION = "us-east-1"
ACCOUNT = "123456789012"


def queue_arn(queue_url: str) -> str:
    return f"arn:aws:sqs:{REGION}:{ACCOUNT}:{queue_url.rstrip('/').rsplit('/', 1)[-1]}"


def sqs_record(body: str | dict[str, Any], *, queue_url: str = "http://local/chunks", receive_count: int = 1,
               message_id: str | None = None, receipt_handle: str | None = None) -> dict[str, Any]:
    """One record of an SQS → Lambda event."""
    text = body if isinstance(body, str) else json.dumps(body)
    return {
        "messageId": message_id or str(uuid.uuid4()),
        "receiptHandle": receipt_handle or str(uuid.uuid4()),
        "body": text,
        "attributes": {
            "ApproximateReceiveCount": str(receive_count),
            "SentTimestamp": str(int(time.time() * 1000)),
            "SenderId": ACCOUNT,
            "ApproximateFirstReceiveTimestamp": str(int(time.time() * 1000)),
        },
        "messageAttributes": {},
        "md5OfBody": hashlib.md5(text.encode()).hexdigest(),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn(queue_url),
        "awsRegion": REGION,
    }


def sqs_event(records: list[dict[str, Any]]) -> dict[str, Any]:
    return {"Records": records}


def s3_notification(bucket: str, key: str, *, size: int = 0, etag: str = "etag", version_id: str | None = None,
                    sequencer: str = "0055AED6DCD90281E5") -> dict[str, Any]:
    """An S3 ObjectCreated notification body as S3 sends it to SQS (key URL-encoded)."""
    from urllib.parse import quote_plus

    obj: dict[str, Any] = {"key": quote_plus(key, safe="/"), "size": size, "eTag": etag, "sequencer": sequencer}
    if version_id:
        obj["versionId"] = version_id
    return {"Records": [{
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": REGION,
        "eventTime": "2026-11-28T00:00:00.000Z", "eventName": "ObjectCreated:Put",
        "s3": {"s3SchemaVersion": "1.0", "bucket": {"name": bucket, "arn": f"arn:aws:s3:::{bucket}"},
               "object": obj},
    }]}


S3_TEST_EVENT = {"Service": "Amazon S3", "Event": "s3:TestEvent", "Time": "2026-11-28T00:00:00.000Z",
                 "Bucket": "b", "RequestId": "x", "HostId": "y"}


def stream_event(records: list[dict[str, Any]], *, table_arn: str = "") -> dict[str, Any]:
    """A DynamoDB Streams → Lambda event from ``get_records`` records (adds the Lambda-only fields)."""
    out = []
    for record in records:
        shaped = dict(record)
        shaped.setdefault("eventSourceARN", table_arn)
        shaped.setdefault("awsRegion", REGION)
        out.append(shaped)
    return {"Records": out}


def stream_record(new_image: dict[str, Any], *, event_name: str = "MODIFY", sequence: str = "1",
                  keys: dict[str, Any] | None = None) -> dict[str, Any]:
    """One DynamoDB stream record with a NEW_IMAGE (typed attribute values)."""
    return {
        "eventID": str(uuid.uuid4()),
        "eventName": event_name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": REGION,
        "dynamodb": {
            "Keys": keys or {"id": new_image.get("id", {"S": "x"})},
            "NewImage": new_image,
            "SequenceNumber": sequence,
            "SizeBytes": 100,
            "StreamViewType": "NEW_IMAGE",
        },
    }


class LocalContext:
    """A LambdaContext stand-in for locally invoked handlers."""

    def __init__(self, function_name: str, timeout_s: int = 60, memory_mb: int = 512) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{function_name}"
        self.memory_limit_in_mb = memory_mb
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "local"
        self._deadline = time.monotonic() + timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def websocket_event(route_key: str, connection_id: str, *, body: str | None = None,
                    query: dict[str, str] | None = None, headers: dict[str, str] | None = None,
                    source_ip: str = "127.0.0.1", domain: str = "localhost", stage: str = "local",
                    connected_at_ms: int | None = None) -> dict[str, Any]:
    """An API Gateway WebSocket → Lambda event (``$connect``, ``$disconnect``, or a message route)."""
    event_type = {"$connect": "CONNECT", "$disconnect": "DISCONNECT"}.get(route_key, "MESSAGE")
    now_ms = int(time.time() * 1000)
    context: dict[str, Any] = {
        "routeKey": route_key,
        "eventType": event_type,
        "extendedRequestId": str(uuid.uuid4()),
        "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime()),
        "messageDirection": "IN",
        "stage": stage,
        "connectedAt": connected_at_ms or now_ms,
        "requestTimeEpoch": now_ms,
        "identity": {"sourceIp": source_ip},
        "requestId": str(uuid.uuid4()),
        "domainName": domain,
        "connectionId": connection_id,
        "apiId": "local",
    }
    event: dict[str, Any] = {"requestContext": context, "isBase64Encoded": False}
    if event_type == "MESSAGE":
        context["messageId"] = str(uuid.uuid4())
        event["body"] = body if body is not None else ""
    else:
        event["headers"] = dict(headers or {})
        event["multiValueHeaders"] = {k: [v] for k, v in (headers or {}).items()}
        if event_type == "CONNECT":
            event["queryStringParameters"] = dict(query) if query else None
            event["multiValueQueryStringParameters"] = {k: [v] for k, v in query.items()} if query else None
        else:
            context["disconnectStatusCode"] = 1000
            context["disconnectReason"] = ""
    return event


def websocket_authorizer_event(query: dict[str, str] | None, *, connection_id: str = "conn-1",
                               api_id: str = "abc123", stage: str = "prod") -> dict[str, Any]:
    """The REQUEST authorizer event API Gateway sends for a WebSocket ``$connect`` (cloud stages only)."""
    return {
        "type": "REQUEST",
        "methodArn": f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{api_id}/{stage}/$connect",
        "headers": {"Host": f"{api_id}.execute-api.{REGION}.amazonaws.com"},
        "queryStringParameters": dict(query) if query else None,
        "requestContext": {
            "routeKey": "$connect",
            "eventType": "CONNECT",
            "stage": stage,
            "requestId": str(uuid.uuid4()),
            "connectionId": connection_id,
            "apiId": api_id,
            "identity": {"sourceIp": "203.0.113.7"},
        },
    }


def websocket_route(body: str | None, routes: tuple[str, ...]) -> str:
    """API Gateway's route selection for ``$request.body.action``: the action's route, else ``$default``."""
    try:
        action = json.loads(body or "").get("action")
    except (ValueError, AttributeError):
        return "$default"
    return action if isinstance(action, str) and action in routes and not action.startswith("$") else "$default"
