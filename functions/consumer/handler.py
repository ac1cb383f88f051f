"""consumer: one SQS batch of byte-range chunks → PostgreSQL (exactly once) + DynamoDB progress."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from product_importer import runtime
from product_importer.models import ChunkMessage
from product_importer.pipeline.consumer import ConsumerPorts, process_chunk
from product_importer.settings import get_settings

logger = Logger(service="consumer")
tracer = Tracer(service="consumer")
metrics = Metrics(service="consumer")
processor = BatchProcessor(event_type=EventType.SQS)


def default_ports() -> ConsumerPorts:
    return ConsumerPorts(objects=runtime.object_store(), progress=runtime.progress_store(),
                         ledger=runtime.chunk_ledger())


def consume_record(record: SQSRecord, ports: ConsumerPorts, max_receives: int) -> None:
    message = ChunkMessage.model_validate_json(record.body)
    try:
        result = process_chunk(message, ports)
    except Exception as exc:
        receives = int(record.attributes.approximate_receive_count or 1)
        logger.exception("chunk failed", extra={"import_id": message.import_id, "chunk_no": message.chunk_no,
                                                "receive_count": receives})
        if receives >= max_receives:
            # Last delivery before the DLQ: the import ends failed; what was committed stays committed.
            ports.progress.fail(message.import_id,
                                f"chunk {message.chunk_no} (rows {message.first_row}–"
                                f"{message.first_row + message.rows - 1}) failed {receives} times: {exc}")
            metrics.add_metric(name="ChunksDeadLettered", unit=MetricUnit.Count, value=1)
        raise
    chunk = result.chunk
    metrics.add_metric(name="ChunksProcessed", unit=MetricUnit.Count, value=1)
    if not chunk.replayed:
        metrics.add_metric(name="RowsImported", unit=MetricUnit.Count, value=chunk.rows_imported)
        metrics.add_metric(name="RowErrors", unit=MetricUnit.Count, value=chunk.rows_failed)
    else:
        metrics.add_metric(name="ChunksReplayed", unit=MetricUnit.Count, value=1)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext, ports: ConsumerPorts | None = None) -> PartialItemFailureResponse:
    active = ports or default_ports()
    max_receives = get_settings().chunk_max_receives
    return process_partial_response(
        event=event,
        record_handler=lambda record: consume_record(record, active, max_receives),
        processor=processor,
        context=context,
    )
