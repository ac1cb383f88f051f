"""boto3 clients built from settings: the same code talks to AWS or to the local emulator."""

from __future__ import annotations

import logging
from typing import Any

import boto3
from botocore.config import Config

from product_importer.container import per_container
from product_importer.settings import CommonSettings, get_common_settings

_CONFIG = Config(retries={"max_attempts": 5, "mode": "adaptive"}, max_pool_connections=32)


def client(service: str, settings: CommonSettings | None = None, **kwargs: Any) -> Any:
    """A boto3 client for ``service``, pointed at ``settings.aws_endpoint_url`` when set."""
    settings = settings or get_common_settings()
    options: dict[str, Any] = {"region_name": settings.aws_region, "config": _CONFIG, **kwargs}
    if settings.aws_endpoint_url and "endpoint_url" not in kwargs:
        options["endpoint_url"] = settings.aws_endpoint_url
    return boto3.client(service, **options)  # type: ignore[call-overload]


@per_container
def cached_client(service: str) -> Any:
    """One client per service per process (Lambda containers reuse it across invocations)."""
    return client(service)


VISIBILITY_MARGIN_S = 60
_visibility_timeouts: dict[str, int] = {}  # queue URL -> its VisibilityTimeout (s), read once per container


def queue_visibility_timeout(sqs: Any, queue_url: str) -> int:
    """The queue's own ``VisibilityTimeout`` in seconds (read once per container)."""
    known = _visibility_timeouts.get(queue_url)
    if known is None:
        attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["VisibilityTimeout"])
        known = _visibility_timeouts[queue_url] = int(attributes["Attributes"]["VisibilityTimeout"])
    return known


def hold_for_this_invocation(sqs: Any, queue_url: str, event: dict[str, Any], remaining_s: float,
                             *, margin_s: int = VISIBILITY_MARGIN_S) -> int:
    """Make the SQS batch in ``event`` visible again ``margin_s`` after this invocation's end
    (``remaining_s`` from now) instead of after the queue's visibility timeout, never later than that.

    AWS advises a queue visibility timeout of 6x the function's timeout: room for Lambda's retries while
    throttled, before the function runs. Once it runs, a function killed without answering (out of
    memory, its own timeout) left its messages invisible for the rest of that: a killed splitter's file
    waited 90 minutes for its next attempt, a killed chunk 12, and the dead-letter queue (which ends the
    import ``failed``) came hours later. Returns how many messages were changed; best effort (a failure
    is logged, and the queue's own timeout then applies). ``ChangeMessageVisibilityBatch`` takes 10."""
    handles = [r["receiptHandle"] for r in event.get("Records", []) if r.get("receiptHandle")]
    if not handles:
        return 0
    try:
        timeout = min(queue_visibility_timeout(sqs, queue_url), max(0, int(remaining_s) + margin_s))
        changed = 0
        for start in range(0, len(handles), 10):
            entries = [{"Id": str(i), "ReceiptHandle": handle, "VisibilityTimeout": timeout}
                       for i, handle in enumerate(handles[start:start + 10])]
            reply = sqs.change_message_visibility_batch(QueueUrl=queue_url, Entries=entries)
            changed += len(reply.get("Successful", []))
        return changed
    except Exception:
        logging.getLogger(__name__).warning("could not shorten the batch's visibility timeout", exc_info=True)
        return 0
