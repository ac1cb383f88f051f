"""broadcaster: progress-table stream → ``import.updated`` to WebSocket subscribers (and, when an import
reaches its final status, an ``import.finished`` job for the search refresh and the webhooks)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from product_importer import runtime
from product_importer.aws import cached_client, client
from product_importer.ports import MessageQueue
from product_importer.progress import import_from_item
from product_importer.realtime.broadcast import (
    SEND_THREADS,
    ConnectionPoster,
    Subscriptions,
    broadcast_update,
    coalesce,
)
from product_importer.realtime.connections import ConnectionStore
from product_importer.settings import get_settings
from product_importer.webhooks.jobs import finished_job

logger = Logger(service="broadcaster")
tracer = Tracer(service="broadcaster")
metrics = Metrics(service="broadcaster")
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)

@dataclass
class BroadcasterPorts:
    connections: Subscriptions
    poster: ConnectionPoster
    finished: MessageQueue | None  # where final imports go (search refresh + webhooks); None = nowhere
    send_threads: int = SEND_THREADS


@runtime.per_container
def _poster() -> ConnectionPoster:
    return ConnectionPoster(
        client("apigatewaymanagementapi", endpoint_url=get_settings().websocket_management_url)
    )


def default_ports() -> BroadcasterPorts:
    settings = get_settings()
    finished = runtime.queue(settings.finished_queue_url) if settings.finished_queue_url else None
    return BroadcasterPorts(
        ConnectionStore(settings.connections_table, cached_client("dynamodb")), _poster(), finished
    )


class DeliveryFailedError(Exception):
    """Some subscribers could not be reached for a reason other than Gone: the stream retries the record."""


def broadcast_record(record: DynamoDBRecord, ports: BroadcasterPorts) -> None:
    imp = import_from_item(record.raw_event["dynamodb"]["NewImage"])
    result = broadcast_update(imp, ports.connections, ports.poster, max_threads=ports.send_threads)
    metrics.add_metric(name="MessagesSent", unit=MetricUnit.Count, value=result.sent)
    if result.gone:
        metrics.add_metric(name="ConnectionsGone", unit=MetricUnit.Count, value=len(result.gone))
        logger.info("forgot gone connections", extra={"import_id": imp.id, "gone": result.gone})
    if imp.status.settled and ports.finished is not None:  # not while reverting: the search refresh waits
        ports.finished.send_all([finished_job(imp)])
    if result.failed:
        raise DeliveryFailedError(f"{len(result.failed)} connection(s) failed: {result.failed}")


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(
    event: dict[str, Any], context: LambdaContext, ports: BroadcasterPorts | None = None
) -> PartialItemFailureResponse:
    active = ports or default_ports()
    newest = {"Records": coalesce(event.get("Records", []))}
    if not newest["Records"]:
        return {"batchItemFailures": []}
    return process_partial_response(
        event=newest,
        record_handler=lambda record: broadcast_record(record, active),
        processor=processor,
        context=context,
    )
