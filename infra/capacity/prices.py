"""AWS list prices (us-east-1, with their source) and the AWS limits and behaviour the capacity model uses."""

from __future__ import annotations

from infra import topology

# --- AWS list prices, us-east-1 (eu-west-1 is a few % higher). Verify before quoting. ------------------
PRICES: dict[str, tuple[float, str]] = {
    "lambda_arm_gb_s": (0.0000133334, "aws.amazon.com/lambda/pricing (Arm, first 7.5B GB-s/month)"),
    "lambda_request": (0.20 / 1e6, "aws.amazon.com/lambda/pricing ($0.20 per 1M requests)"),
    "aurora_acu_hour": (0.12, "aws.amazon.com/rds/aurora/pricing (Serverless v2, Aurora Standard)"),
    "aurora_io": (0.20 / 1e6, "aws.amazon.com/rds/aurora/pricing (Aurora Standard, $0.20 per 1M I/O)"),
    "aurora_storage_gb_month": (0.10, "aws.amazon.com/rds/aurora/pricing (Aurora Standard storage)"),
    "proxy_acu_hour": (0.015, "aws.amazon.com/rds/proxy/pricing (Serverless v2: per ACU-hour, min 8 ACUs)"),
    "sqs_request": (0.40 / 1e6, "aws.amazon.com/sqs/pricing (standard queue, $0.40 per 1M requests)"),
    "s3_get": (0.0004 / 1000, "aws.amazon.com/s3/pricing (GET, $0.0004 per 1,000)"),
    "s3_put": (0.005 / 1000, "aws.amazon.com/s3/pricing (PUT/POST, $0.005 per 1,000)"),
    "ddb_write_unit": (
        0.625 / 1e6,
        "aws.amazon.com/dynamodb/pricing/on-demand ($0.625 per 1M WRU, Nov 2024)",
    ),
    "websocket_message": (
        1.00 / 1e6,
        "aws.amazon.com/api-gateway/pricing (WebSocket, $1.00 per 1M messages)",
    ),
    "nat_gateway_hour": (0.045, "aws.amazon.com/vpc/pricing (NAT gateway hour)"),
    "endpoint_az_hour": (0.01, "aws.amazon.com/privatelink/pricing (interface endpoint per AZ-hour)"),
}
HOURS_PER_MONTH = 730

# --- AWS limits and behaviour the model uses -------------------------------------------------------
SQS_START_CONCURRENCY = 5  # docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html
SQS_SCALE_UP_PER_MINUTE = 300  # same page: "up to 300 more instances per minute", max 1,000 per mapping
LAMBDA_FULL_VCPU_MB = 1769  # Lambda gives one vCPU at 1,769 MB; CPU scales linearly with memory
ACU_PER_VCPU = 4  # aws/agent-toolkit-for-aws Aurora advisory: r-family ~1 vCPU per 4 ACU (approximation)
DDB_ITEM_WRITES_PER_S = 1000  # one partition (the import's progress item) takes <= 1,000 WCU/s
SPLITTER_TIMEOUT_S = topology.SPLITTER_TIMEOUT_S


def price(key: str) -> float:
    return PRICES[key][0]
