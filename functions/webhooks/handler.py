"""webhooks: the webhooks queue → ``delivery`` jobs (one signed POST to the checked address, bounded in
time and size; a failed attempt comes back after a growing visibility timeout).

``import.finished`` jobs belong to the ``finisher`` (queue ``finished``); one found here (sent before the
queues were split) is passed on there."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from product_importer import runtime
from product_importer.aws import cached_client, hold_for_this_invocation
from product_importer.ports import MessageQueue
from product_importer.settings import get_settings
from product_importer.webhooks.dispatch import DeliveryPorts, deliver, retry_delay
from product_importer.webhooks.jobs import ImportFinished, parse_job
from product_importer.webhooks.secrets import secret_box

logger = Logger(service="webhooks")
tracer = Tracer(service="webhooks")
metrics = Metrics(service="webhooks")
processor = BatchProcessor(event_type=EventType.SQS)


class RetryLaterError(Exception):
    """The delivery failed and will be attempted again when the message becomes visible."""


@dataclass
class WebhookPorts:
    dispatch: DeliveryPorts
    retry_base_s: float
    sqs: Any
    queue_url: str
    finished: MessageQueue | None = None

    def retry_later(self, receipt_handle: str, delay_s: int) -> None:
        self.sqs.change_message_visibility(
            QueueUrl=self.queue_url, ReceiptHandle=receipt_handle, VisibilityTimeout=delay_s
        )


def default_ports(context: LambdaContext) -> WebhookPorts:
    settings = get_settings()
    dispatch = DeliveryPorts(
        connection=runtime.db_connection,
        box=secret_box(settings),
        timeout_s=settings.webhooks_timeout_s,
        allow_private=settings.private_webhooks_allowed,
    )
    finished = runtime.queue(settings.finished_queue_url) if settings.finished_queue_url else None
    return WebhookPorts(
        dispatch, settings.webhooks_retry_base_s, cached_client("sqs"), settings.webhooks_queue_url, finished
    )


def handle_job(record: SQSRecord, ports: WebhookPorts) -> None:
    job = parse_job(record.body)
    if isinstance(job, ImportFinished):
        if ports.finished is None:
            raise RuntimeError("an import.finished job, and no finished queue to pass it on to")
        ports.finished.send_all([job.model_dump(mode="json", by_alias=True)])
        return
    attempt = job.attempts_before + int(record.attributes.approximate_receive_count or 1)
    result = deliver(job, attempt, ports.dispatch)
    if result.outcome is None:
        return
    extra = {
        "webhook_id": job.webhook_id,
        "event_id": job.event_id,
        "attempt": attempt,
        "status_code": result.outcome.status_code,
        "error": result.outcome.error,
    }
    if result.outcome.ok:
        metrics.add_metric(name="WebhooksDelivered", unit=MetricUnit.Count, value=1)
        logger.info("delivered", extra=extra)
        return
    metrics.add_metric(name="WebhookAttemptsFailed", unit=MetricUnit.Count, value=1)
    if not result.retry:
        logger.warning("delivery abandoned after the last attempt", extra=extra)
        return
    delay = retry_delay(attempt, ports.retry_base_s)
    ports.retry_later(record.receipt_handle, delay)
    logger.info("delivery failed; retrying", extra={**extra, "retry_in_s": delay})
    raise RetryLaterError(f"attempt {attempt} failed: {result.outcome.error}")


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(
    event: dict[str, Any], context: LambdaContext, ports: WebhookPorts | None = None
) -> PartialItemFailureResponse:
    if ports is None:  # deployed (or the local stack): a killed invocation's batch comes back soon
        hold_for_this_invocation(cached_client("sqs"), get_settings().webhooks_queue_url, event,
                                 context.get_remaining_time_in_millis() / 1000)
    active = ports or default_ports(context)
    return process_partial_response(
        event=event,
        record_handler=lambda record: handle_job(record, active),
        processor=processor,
        context=context,
    )
