"""consumer: one SQS batch of the chunk queue → PostgreSQL (exactly once) + DynamoDB progress.

The queue carries byte-range chunks, and the jobs the API sends on an import: a revert chunk, a confirmed
replace (``pipeline.jobs_runner``), and the rest of a long replace that ends a run.

A chunk that fails is reported as a partial batch failure and goes round its receives; after the last,
the DLQ's ``dead_letter`` function ends its import ``failed`` (also when the consumer was killed and no
``except`` ran at all). Nothing here decides that.
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
from product_importer.aws import cached_client, hold_for_this_invocation, queue_visibility_timeout
from product_importer.models import ChunkMessage, ReplaceRequest, RevertRequest
from product_importer.pipeline.consumer import ConsumerPorts, process_chunk, retry_delay
from product_importer.pipeline.jobs_runner import parse_chunk_job, run_replace, run_revert_chunk
from product_importer.settings import get_settings

logger = Logger(service="consumer")
tracer = Tracer(service="consumer")
metrics = Metrics(service="consumer")
processor = BatchProcessor(event_type=EventType.SQS)


JOB_MARGIN_S = 20  # a long replace hands the rest over this long before the invocation's timeout
RETRY_CEILING_S = 600  # under the chunk queue's visibility timeout (infra.topology: 6 × 120 s): never later


def default_ports(context: LambdaContext) -> ConsumerPorts:
    settings = get_settings()
    sqs, queue_url = cached_client("sqs"), settings.chunks_queue_url

    def retry_later(receipt_handle: str, delay_s: int) -> None:
        # never later than the queue's own visibility timeout would bring it back
        sqs.change_message_visibility(QueueUrl=queue_url, ReceiptHandle=receipt_handle,
                                      VisibilityTimeout=min(delay_s, queue_visibility_timeout(sqs, queue_url)))

    return ConsumerPorts(objects=runtime.object_store(), progress=runtime.progress_store(),
                         ledger=runtime.chunk_ledger(), plans=runtime.plan_store(), jobs=runtime.job_ledger(),
                         chunks=runtime.queue(queue_url), stored_errors=settings.chunk_stored_errors,
                         time_left=lambda: context.get_remaining_time_in_millis() / 1000 - JOB_MARGIN_S,
                         retry_later=retry_later)


def consume_record(record: SQSRecord, ports: ConsumerPorts) -> None:
    message = parse_chunk_job(record.body)
    try:
        if isinstance(message, RevertRequest):
            run_revert_chunk(message, ports.job_ports())
            metrics.add_metric(name="RevertChunksProcessed", unit=MetricUnit.Count, value=1)
            return
        if isinstance(message, ReplaceRequest):
            run_replace(message, ports.job_ports())
            return
        result = process_chunk(message, ports)
    except Exception:
        receive_count = int(record.attributes.approximate_receive_count or 1)
        logger.exception("chunk failed", extra={
            "import_id": message.import_id, "kind": "chunk" if isinstance(message, ChunkMessage) else message.kind,
            "chunk_no": getattr(message, "chunk_no", None), "receive_count": receive_count})
        if ports.retry_later is not None:
            try:
                ports.retry_later(record.receipt_handle, retry_delay(receive_count, RETRY_CEILING_S))
            except Exception:  # the queue's own visibility timeout then applies
                logger.warning("could not shorten the chunk's visibility timeout", exc_info=True)
        raise
    chunk = result.chunk
    metrics.add_metric(name="ChunksProcessed", unit=MetricUnit.Count, value=1)
    if chunk.replayed:
        metrics.add_metric(name="ChunksReplayed", unit=MetricUnit.Count, value=1)
    elif result.written:
        metrics.add_metric(name="RowsImported", unit=MetricUnit.Count, value=chunk.rows_imported)
        metrics.add_metric(name="RowErrors", unit=MetricUnit.Count, value=chunk.rows_failed)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext, ports: ConsumerPorts | None = None) -> PartialItemFailureResponse:
    if ports is None:  # deployed (or the local stack): a killed invocation's batch comes back soon
        hold_for_this_invocation(cached_client("sqs"), get_settings().chunks_queue_url, event,
                                 context.get_remaining_time_in_millis() / 1000)
    active = ports or default_ports(context)
    return process_partial_response(
        event=event,
        record_handler=lambda record: consume_record(record, active),
        processor=processor,
        context=context,
    )
