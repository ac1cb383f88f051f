"""splitter: the object-events queue → byte-range chunks on the chunk queue.

The queue carries S3 ObjectCreated notifications (uploads and partner drops), an apply's ``SplitRequest``,
and the splitter's own ``SplitContinuation`` when a file could not be split within one invocation. A
message that keeps failing goes round its receives to the DLQ, where the ``dead_letter`` function ends its
import ``failed``: nothing here decides that.
"""

from __future__ import annotations

import json
import time
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from product_importer import runtime
from product_importer.aws import cached_client, hold_for_this_invocation
from product_importer.models import SplitContinuation, SplitRequest
from product_importer.pipeline.s3events import parse_notification
from product_importer.pipeline.splitter import (
    Outcome,
    SplitLimits,
    SplitResult,
    SplitterPorts,
    TimeLeft,
    continue_split,
    split_object,
    split_request,
)
from product_importer.settings import Settings, get_settings

logger = Logger(service="splitter")
tracer = Tracer(service="splitter")
metrics = Metrics(service="splitter")
processor = BatchProcessor(event_type=EventType.SQS)


def default_ports() -> SplitterPorts:
    settings = get_settings()
    return SplitterPorts(
        objects=runtime.object_store(),
        chunks=runtime.queue(settings.chunks_queue_url),
        continuations=runtime.queue(settings.object_events_queue_url),
        progress=runtime.progress_store(),
        ledger=runtime.chunk_ledger(),
        plans=runtime.plan_store(),
        next_import_number=runtime.next_import_number,
        saved_mappings=runtime.saved_mappings,
        limits=limits(settings),
        jobs=runtime.job_ledger(),
    )


def limits(settings: Settings) -> SplitLimits:
    return SplitLimits(max_upload_bytes=settings.max_upload_bytes, max_drop_bytes=settings.max_drop_bytes,
                       rows_per_chunk=settings.chunk_rows, bytes_per_chunk=settings.chunk_bytes,
                       max_record_bytes=settings.max_record_bytes)


def deadline(context: LambdaContext, settings: Settings) -> TimeLeft:
    """Seconds left before the splitter must hand over: the invocation's remaining time less a margin
    (and, locally or in tests, at most ``SPLITTER_TIME_BUDGET_S`` from now)."""
    margin = settings.splitter_deadline_margin_s
    budget_end = time.monotonic() + settings.splitter_time_budget_s if settings.splitter_time_budget_s else None

    def time_left() -> float:
        left = context.get_remaining_time_in_millis() / 1000 - margin
        if budget_end is not None:
            left = min(left, budget_end - time.monotonic())
        return left

    return time_left


def split_record(record: SQSRecord, ports: SplitterPorts, time_left: TimeLeft) -> None:
    body = record.body
    try:
        value = json.loads(body)
    except json.JSONDecodeError:
        value = None
    results: list[SplitResult]
    if isinstance(value, dict) and value.get("continue_split") is True:
        results = [continue_split(SplitContinuation.model_validate(value), ports, time_left)]
    elif isinstance(value, dict) and value.get("kind") == "split":
        results = [split_request(SplitRequest.model_validate(value), ports, time_left)]
    else:
        results = [split_object(created, ports, time_left) for created in parse_notification(body)]
    for result in results:
        logger.info("object handled", extra={"outcome": result.outcome, "import_id": result.import_id,
                                             "chunks": result.chunks})
        if result.outcome in (Outcome.SPLIT, Outcome.CONTINUED):
            metrics.add_metric(name="ChunksEnqueued", unit=MetricUnit.Count, value=result.chunks)
        if result.outcome is Outcome.SPLIT:
            metrics.add_metric(name="RowsSplit", unit=MetricUnit.Count, value=result.rows)
        elif result.outcome is Outcome.CONTINUED:
            metrics.add_metric(name="SplitsContinued", unit=MetricUnit.Count, value=1)
        elif result.outcome is Outcome.FAILED:
            metrics.add_metric(name="ImportsFailed", unit=MetricUnit.Count, value=1)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext, ports: SplitterPorts | None = None) -> PartialItemFailureResponse:
    if ports is None:  # deployed (or the local stack): a killed invocation's batch comes back soon
        hold_for_this_invocation(cached_client("sqs"), get_settings().object_events_queue_url, event,
                                 context.get_remaining_time_in_millis() / 1000)
    active = ports or default_ports()
    time_left = deadline(context, get_settings())
    return process_partial_response(
        event=event,
        record_handler=lambda record: split_record(record, active, time_left),
        processor=processor,
        context=context,
    )
