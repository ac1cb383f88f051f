"""api: the REST API behind API Gateway (HTTP API v2 events): the Powertools entry stack around Mangum.

Logger with the request's id as correlation id (also on the response, ``x-correlation-id``; domain
loggers write through it), Tracer, Metrics (``ApiServerErrors`` counts answers ≥ 500), then one call.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from mangum import Mangum
from product_importer.api.app import create_app
from product_importer.observability import route_domain_logs

logger = Logger(service="api")
tracer = Tracer(service="api")
metrics = Metrics(service="api")
route_domain_logs(logger, also=("mangum",))

app = create_app()
asgi = Mangum(app, lifespan="off")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler(capture_response=False)  # a response can be megabytes (errors.csv)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    response: dict[str, Any] = asgi(event, context)  # type: ignore[arg-type]  # two typings of one object
    if int(response.get("statusCode", 0)) >= 500:
        metrics.add_metric(name="ApiServerErrors", unit=MetricUnit.Count, value=1)
    correlation_id = logger.get_correlation_id()
    if correlation_id:
        response.setdefault("headers", {})["x-correlation-id"] = correlation_id
    return response
