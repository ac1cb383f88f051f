"""consumer: one SQS batch of the chunk queue → PostgreSQL (exactly once) + DynamoDB progress.

The queue carries byte-range chunks, and the jobs the API sends on an import (a revert chunk, a confirmed
replace: ``pipeline.jobs_runner``)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from product_importer import runtime
from product_importer.models import ChunkMessage, ReplaceRequest, RevertRequest
from product_importer.pipeline.consumer import ConsumerPorts, process_chunk
from product_importer.pipeline.jobs_runner import give_up, parse_chunk_job, run_replace, run_revert_chunk
from product_importer.settings import get_settings

logger = Logger(service="consumer")
tracer = Tracer(service="consumer")
metrics = Metrics(service="consumer")
processor = BatchProcessor(event_type=EventType.SQS)


def default_ports(context: LambdaContext) -> ConsumerPorts:
    return ConsumerPorts(objects=runtime.object_store(), progress=runtime.progress_store(),
                         ledger=runtime.chunk_ledger(), jobs=runtime.job_ledger(),
                         chunks=runtime.queue(get_settings().chunks_queue_url),
                         time_left=lambda: context.get_remaining_time_in_millis() / 1000)


def consume_record(record: SQSRecord, ports: ConsumerPorts, max_receives: int) -> None:
    job = parse_chunk_job(record.body)
    try:
        if isinstance(job, RevertRequest):
            run_revert_chunk(job, ports.job_ports())
            metrics.add_metric(name="RevertChunksProcessed", unit=MetricUnit.Count, value=1)
            return
        if isinstance(job, ReplaceRequest):
            run_replace(job, ports.job_ports())
            return
        result = process_chunk(job, ports)
    except Exception as exc:
        receives = int(record.attributes.approximate_receive_count or 1)
        logger.exception("chunk failed", extra={"import_id": job.import_id, "kind": _kind(job),
                                                "chunk_no": getattr(job, "chunk_no", None),
                                                "receive_count": receives})
        if receives >= max_receives:
            # Last delivery before the DLQ: the import (or its revert) ends failed; what was committed stays.
            give_up(job, receives, ports.job_ports(), exc)
            metrics.add_metric(name="ChunksDeadLettered", unit=MetricUnit.Count, value=1)
        raise
    chunk = result.chunk
    metrics.add_metric(name="ChunksProcessed", unit=MetricUnit.Count, value=1)
    if not chunk.replayed:
        metrics.add_metric(name="RowsImported", unit=MetricUnit.Count, value=chunk.rows_imported)
        metrics.add_metric(name="RowErrors", unit=MetricUnit.Count, value=chunk.rows_failed)
    else:
        metrics.add_metric(name="ChunksReplayed", unit=MetricUnit.Count, value=1)


def _kind(job: ChunkMessage | RevertRequest | ReplaceRequest) -> str:
    return "chunk" if isinstance(job, ChunkMessage) else job.kind


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext, ports: ConsumerPorts | None = None) -> PartialItemFailureResponse:
    active = ports or default_ports(context)
    max_receives = get_settings().chunk_max_receives
    return process_partial_response(
        event=event,
        record_handler=lambda record: consume_record(record, active, max_receives),
        processor=processor,
        context=context,
    )
