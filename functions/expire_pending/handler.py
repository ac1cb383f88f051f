"""expire_pending: a schedule (hourly in AWS; periodic on the local stack) → pending imports whose file
never arrived end ``failed`` ("upload expired"), CONTRACT §2."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from product_importer import runtime
from product_importer.pipeline.expiry import expire_pending
from product_importer.ports import ChunkLedger, ProgressStore
from product_importer.settings import get_settings

logger = Logger(service="expire_pending")
tracer = Tracer(service="expire_pending")
metrics = Metrics(service="expire_pending")


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext, progress: ProgressStore | None = None,
            ledger: ChunkLedger | None = None, now: datetime | None = None) -> dict[str, Any]:
    settings = get_settings()
    expired = expire_pending(progress or runtime.progress_store(), ledger or runtime.chunk_ledger(),
                             now=now or datetime.now(UTC), expiry_s=settings.pending_expiry_s,
                             lookback_s=settings.pending_sweep_lookback_s)
    metrics.add_metric(name="UploadsExpired", unit=MetricUnit.Count, value=len(expired))
    return {"expired": len(expired)}
