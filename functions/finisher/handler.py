"""finisher: the ``finished`` queue → a finished import's search refresh, then its webhook event recorded
once and fanned out as delivery jobs onto the ``webhooks`` queue.

Its own queue and function, apart from the deliveries: a webhook receiver that never answers holds the
``webhooks`` function, never this one, so search documents are refreshed on time whatever the receivers do.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from product_importer import runtime
from product_importer.aws import cached_client, hold_for_this_invocation
from product_importer.settings import get_settings
from product_importer.webhooks.dispatch import FinishPorts, finish_import
from product_importer.webhooks.jobs import ImportFinished, parse_job

logger = Logger(service="finisher")
tracer = Tracer(service="finisher")
metrics = Metrics(service="finisher")
processor = BatchProcessor(event_type=EventType.SQS)


def default_ports(context: LambdaContext) -> FinishPorts:
    settings = get_settings()
    return FinishPorts(
        connection=runtime.db_connection,
        finished=runtime.queue(settings.finished_queue_url),
        deliveries=runtime.queue(settings.webhooks_queue_url),
        time_left=lambda: context.get_remaining_time_in_millis() / 1000,
    )


def handle_job(record: SQSRecord, ports: FinishPorts) -> None:
    job = parse_job(record.body)
    if not isinstance(job, ImportFinished):
        raise ValueError(f"the finished queue carries import.finished jobs, not {job.kind}")
    fanned = finish_import(job, ports)
    logger.info("import finished", extra={"import_id": job.import_.id, "deliveries": fanned})


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(
    event: dict[str, Any], context: LambdaContext, ports: FinishPorts | None = None
) -> PartialItemFailureResponse:
    if ports is None:  # deployed (or the local stack): a killed invocation's batch comes back soon
        hold_for_this_invocation(cached_client("sqs"), get_settings().finished_queue_url, event,
                                 context.get_remaining_time_in_millis() / 1000)
    active = ports or default_ports(context)
    return process_partial_response(
        event=event,
        record_handler=lambda record: handle_job(record, active),
        processor=processor,
        context=context,
    )
