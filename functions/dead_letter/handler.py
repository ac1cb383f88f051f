"""dead_letter: the chunk DLQ and the object-events DLQ → the message's import ends ``failed``.

The one path an out-of-memory kill or a timeout cannot skip (DESIGN decision 9): every message that
failed all its deliveries lands here, within seconds of its last receive, and its import ends ``failed``
with a reason its user can act on. The message is consumed (its detail is logged with the import id).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from product_importer import runtime
from product_importer.pipeline.dead_letters import DeadLetter, DeadLetterPorts, handle_dead_letter
from product_importer.settings import get_settings

logger = Logger(service="dead_letter")
tracer = Tracer(service="dead_letter")
metrics = Metrics(service="dead_letter")
processor = BatchProcessor(event_type=EventType.SQS)


def default_ports() -> DeadLetterPorts:
    settings = get_settings()
    return DeadLetterPorts(progress=runtime.progress_store(), ledger=runtime.chunk_ledger(),
                           objects=runtime.object_store(), chunk_attempts=settings.chunk_max_receives,
                           split_attempts=settings.object_events_max_receives, jobs=runtime.job_ledger())


def dead_letter_record(record: SQSRecord, ports: DeadLetterPorts) -> None:
    result = handle_dead_letter(record.body, ports)
    logger.warning("dead letter", extra={"kind": result.kind, "import_ids": list(result.import_ids),
                                         "failed": list(result.failed), "source": record.event_source_arn})
    if result.kind is DeadLetter.CHUNK:
        metrics.add_metric(name="ChunksDeadLettered", unit=MetricUnit.Count, value=1)
    elif result.kind in (DeadLetter.REVERT, DeadLetter.REPLACE):
        metrics.add_metric(name="JobsDeadLettered", unit=MetricUnit.Count, value=1)
    elif result.kind is DeadLetter.SPLIT:
        metrics.add_metric(name="SplitsDeadLettered", unit=MetricUnit.Count, value=1)
    metrics.add_metric(name="ImportsFailed", unit=MetricUnit.Count, value=len(result.failed))


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext, ports: DeadLetterPorts | None = None) -> PartialItemFailureResponse:
    active = ports or default_ports()
    return process_partial_response(
        event=event,
        record_handler=lambda record: dead_letter_record(record, active),
        processor=processor,
        context=context,
    )
