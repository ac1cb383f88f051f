"""The model: what one import of N rows costs in time, concurrency, Aurora load and dollars, from the
inputs and the knobs (``infra.topology`` and ``cdk.json``'s prod stage)."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

from infra import topology
from infra.capacity.inputs import REPO_ROOT, Inputs
from infra.capacity.prices import (
    ACU_PER_VCPU,
    DDB_ITEM_WRITES_PER_S,
    HOURS_PER_MONTH,
    LAMBDA_FULL_VCPU_MB,
    SPLITTER_TIMEOUT_S,
    SQS_SCALE_UP_PER_MINUTE,
    SQS_START_CONCURRENCY,
    price,
)

CDK_JSON = REPO_ROOT / "cdk.json"


@dataclass(frozen=True)
class Knobs:
    chunk_rows: int
    max_concurrency: int
    consumer_memory_mb: int
    splitter_memory_mb: int
    min_acu: float
    max_acu: float
    readers: int
    nat_gateways: int
    subscribers: int = 1  # browsers watching one import


def prod_knobs(inputs: Inputs) -> Knobs:
    consumer = topology.FUNCTIONS["consumer"]
    splitter = topology.FUNCTIONS["splitter"]
    assert isinstance(consumer.trigger, topology.SqsTrigger)
    prod = json.loads(CDK_JSON.read_text())["context"]["stages"]["prod"] if CDK_JSON.is_file() else {}
    return Knobs(
        chunk_rows=int(inputs.chunk_rows.value),
        max_concurrency=consumer.trigger.max_concurrency or 1000,
        consumer_memory_mb=consumer.memory_mb,
        splitter_memory_mb=splitter.memory_mb,
        min_acu=float(prod.get("auroraMinAcu", 0.5)),
        max_acu=float(prod.get("auroraMaxAcu", 16)),
        readers=int(prod.get("auroraReaders", 0)),
        nat_gateways=int(prod.get("natGateways", 1)),
    )


@dataclass(frozen=True)
class Estimate:
    rows: int
    file_gb: float
    chunks: int
    chunk_s: float
    split_s: float
    lambda_rows_per_s: float
    db_rows_per_s: float
    rows_per_s: float
    bottleneck: str
    wall_s: float
    peak_concurrency: int
    acu: float
    progress_writes_per_s: float
    cost: dict[str, float]
    warnings: list[str]

    @property
    def total_cost(self) -> float:
        return sum(self.cost.values())


def estimate(rows: int, inputs: Inputs, knobs: Knobs) -> Estimate:
    chunk_rows = knobs.chunk_rows
    file_bytes = rows * inputs.row_bytes.value
    chunks = math.ceil(rows / chunk_rows)
    warnings: list[str] = []

    # Consumer: the bench core time scaled to the Lambda's CPU share, plus the ranged GET of the chunk.
    cpu_share = min(1.0, knobs.consumer_memory_mb / LAMBDA_FULL_VCPU_MB)
    bench_chunk_s = inputs.chunk_ms_p50.value / 1000 * chunk_rows / inputs.chunk_rows.value
    chunk_bytes = chunk_rows * inputs.row_bytes.value
    chunk_s = bench_chunk_s / cpu_share + 0.03 + chunk_bytes / 80e6 + 0.02  # GET latency, transfer, commit

    # Splitter: one streaming pass; enqueueing in batches of 10 overlaps with the scan.
    split_s = file_bytes / (inputs.split_mb_per_s.value * 1e6) + chunks / 10 * 0.015
    if split_s > SPLITTER_TIMEOUT_S:
        warnings.append(
            f"splitter needs {split_s:.0f} s > its {SPLITTER_TIMEOUT_S} s timeout: split in stages "
            "(resume from the last byte offset) or raise split throughput"
        )
    max_upload = 5 * 1024**3
    if file_bytes > max_upload:
        warnings.append(
            f"file is {file_bytes / 1e9:.1f} GB > MAX_UPLOAD_BYTES (5 GiB) and the 5 GB single POST limit: "
            "needs multipart upload (partners) and a larger limit"
        )

    concurrency = knobs.max_concurrency
    lambda_rows_per_s = concurrency * chunk_rows / chunk_s
    vcpus = knobs.max_acu / ACU_PER_VCPU
    db_rows_per_s = inputs.backend_rows_per_s * min(concurrency, vcpus) * inputs.db_efficiency.value
    rows_per_s = min(lambda_rows_per_s, db_rows_per_s)
    bottleneck = "consumer concurrency" if lambda_rows_per_s <= db_rows_per_s else "Aurora capacity (max ACU)"
    progress_writes_per_s = rows_per_s / chunk_rows
    if progress_writes_per_s > DDB_ITEM_WRITES_PER_S * 0.8:
        warnings.append("progress item near DynamoDB's per-partition write limit: batch counter updates")

    ramp_s = max(0.0, (concurrency - SQS_START_CONCURRENCY) / SQS_SCALE_UP_PER_MINUTE * 60)
    consume_s = rows / rows_per_s + ramp_s / 2
    if split_s > consume_s:
        bottleneck = "splitter (single streaming pass)"
    wall_s = max(split_s, consume_s) + chunk_s

    # Aurora load: the ACUs the write rate needs (never below min, capped at max).
    acu_needed = rows_per_s / (inputs.backend_rows_per_s * inputs.db_efficiency.value) * ACU_PER_VCPU
    acu = min(knobs.max_acu, max(knobs.min_acu, acu_needed))
    hours = wall_s / 3600
    instances = 1 + knobs.readers  # readers with scale_with_writer follow the writer's capacity

    consumer_gb_s = chunks * chunk_s * knobs.consumer_memory_mb / 1024
    cost = {
        "Lambda consumer": consumer_gb_s * price("lambda_arm_gb_s") + chunks / 2 * price("lambda_request"),
        "Lambda splitter": split_s * knobs.splitter_memory_mb / 1024 * price("lambda_arm_gb_s"),
        "Aurora ACU above min": (acu - knobs.min_acu) * instances * hours * price("aurora_acu_hour"),
        "Aurora I/O": rows * inputs.io_per_row.value * price("aurora_io"),
        "RDS Proxy above min": max(0.0, acu * instances - 8) * hours * price("proxy_acu_hour"),
        "SQS": chunks * 1.5 * price("sqs_request"),
        "S3 requests": chunks * price("s3_get") + max(1, file_bytes / 100e6) * price("s3_put"),
        "DynamoDB progress": chunks * 2 * price("ddb_write_unit"),
        "WebSocket pushes": chunks * knobs.subscribers * price("websocket_message"),
    }
    return Estimate(
        rows=rows,
        file_gb=file_bytes / 1e9,
        chunks=chunks,
        chunk_s=chunk_s,
        split_s=split_s,
        lambda_rows_per_s=lambda_rows_per_s,
        db_rows_per_s=db_rows_per_s,
        rows_per_s=rows_per_s,
        bottleneck=bottleneck,
        wall_s=wall_s,
        peak_concurrency=concurrency + 1 + 1 + 2,  # consumers + splitter + broadcaster + API/websocket
        acu=acu,
        progress_writes_per_s=progress_writes_per_s,
        cost=cost,
        warnings=warnings,
    )


def monthly_baseline(knobs: Knobs) -> dict[str, float]:
    """What the prod stage costs idle, per month (before any import)."""
    instances = 1 + knobs.readers
    return {
        "Aurora min ACU": knobs.min_acu * instances * HOURS_PER_MONTH * price("aurora_acu_hour"),
        "RDS Proxy (8 ACU minimum)": 8 * HOURS_PER_MONTH * price("proxy_acu_hour"),
        "NAT gateways": knobs.nat_gateways * HOURS_PER_MONTH * price("nat_gateway_hour"),
        "Interface endpoints (SQS, Secrets Manager; 2 AZ)": 2
        * 2
        * HOURS_PER_MONTH
        * price("endpoint_az_hour"),
        "KMS key, secret, dashboard, 11 alarms": 1.0 + 0.40 + 3.0 + 11 * 0.10,
    }
