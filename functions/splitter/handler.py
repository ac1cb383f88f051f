"""splitter: S3 ObjectCreated (via the object-events queue) → byte-range chunks on the chunk queue."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from product_importer import runtime
from product_importer.pipeline.jobs_runner import parse_split_request, split_applied
from product_importer.pipeline.s3events import parse_notification
from product_importer.pipeline.splitter import (
    Outcome,
    SplitResult,
    SplitterPorts,
    fail_import_of,
    split_object,
)
from product_importer.settings import get_settings

logger = Logger(service="splitter")
tracer = Tracer(service="splitter")
metrics = Metrics(service="splitter")
processor = BatchProcessor(event_type=EventType.SQS)


def default_ports(context: LambdaContext) -> SplitterPorts:
    settings = get_settings()
    return SplitterPorts(
        objects=runtime.object_store(),
        chunks=runtime.queue(settings.chunks_queue_url),
        progress=runtime.progress_store(),
        next_import_number=runtime.next_import_number,
        max_upload_bytes=settings.max_upload_bytes,
        chunk_rows=settings.chunk_rows,
        jobs=runtime.job_ledger(),
        time_left=lambda: context.get_remaining_time_in_millis() / 1000,
    )


def split_record(record: SQSRecord, ports: SplitterPorts, max_receives: int) -> None:
    request = parse_split_request(record.body)
    if request is not None:  # an applied preview (POST /api/imports/{id}/apply)
        try:
            result = split_applied(request, ports)
        except Exception:
            receives = int(record.attributes.approximate_receive_count or 1)
            logger.exception("split request failed", extra={"import_id": request.import_id, "receive_count": receives})
            if receives >= max_receives:
                ports.progress.fail(request.import_id,
                                    f"the file could not be split after {receives} attempts; apply the preview "
                                    "again later, or import the file again")
                metrics.add_metric(name="ImportsFailed", unit=MetricUnit.Count, value=1)
            raise
        _count(result, request.key)
        return
    for created in parse_notification(record.body):
        try:
            result = split_object(created, ports)
        except Exception as exc:
            receives = int(record.attributes.approximate_receive_count or 1)
            logger.exception("object failed", extra={"key": created.key, "receive_count": receives})
            if receives >= max_receives:
                # Last delivery before the DLQ: the import must not stay pending/processing for ever.
                fail_import_of(created, ports, f"the file could not be split after {receives} attempts: {exc}")
                metrics.add_metric(name="ImportsFailed", unit=MetricUnit.Count, value=1)
            raise
        _count(result, created.key)


def _count(result: SplitResult, key: str) -> None:
    logger.info("object handled", extra={"key": key, "outcome": result.outcome,
                                         "import_id": result.import_id, "chunks": result.chunks})
    if result.outcome is Outcome.SPLIT:
        metrics.add_metric(name="ChunksEnqueued", unit=MetricUnit.Count, value=result.chunks)
        metrics.add_metric(name="RowsSplit", unit=MetricUnit.Count, value=result.rows)
    elif result.outcome is Outcome.FAILED:
        metrics.add_metric(name="ImportsFailed", unit=MetricUnit.Count, value=1)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext, ports: SplitterPorts | None = None) -> PartialItemFailureResponse:
    active = ports or default_ports(context)
    max_receives = get_settings().object_events_max_receives
    return process_partial_response(
        event=event,
        record_handler=lambda record: split_record(record, active, max_receives),
        processor=processor,
        context=context,
    )
