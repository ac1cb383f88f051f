"""The one description of how the system is wired: which handler runs on which trigger, with what limits.

Both the CDK app (``infra/cdk``) and the local stack (``infra/local``) read this module, so the cloud
and the laptop cannot drift apart. Plain data only: no AWS or CDK imports here.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class QueueSpec:
    """An SQS queue with its dead-letter queue."""

    name: str
    visibility_timeout_s: int
    max_receive_count: int
    retention_days: int = 4


@dataclass(frozen=True)
class SqsTrigger:
    queue: str
    batch_size: int
    max_batching_window_s: int = 0
    max_concurrency: int | None = None  # ScalingConfig.MaximumConcurrency (2..1000); protects Aurora
    report_batch_item_failures: bool = True


@dataclass(frozen=True)
class StreamTrigger:
    table: str
    batch_size: int
    max_batching_window_s: int
    retry_attempts: int
    bisect_on_error: bool = True
    report_batch_item_failures: bool = True


@dataclass(frozen=True)
class WebSocketTrigger:
    routes: tuple[str, ...]


@dataclass(frozen=True)
class HttpTrigger:
    path: str = "/api/{proxy+}"
    # Answered without a token even where sign-in is on: the UI learns how to sign in from /api/config.
    public_paths: tuple[str, ...] = ("/api/config", "/api/health")


@dataclass(frozen=True)
class ConnectAuthorizerTrigger:
    """A Lambda REQUEST authorizer on the WebSocket ``$connect`` route; the token is in the query string."""

    query_parameter: str = "token"


Trigger = SqsTrigger | StreamTrigger | WebSocketTrigger | HttpTrigger | ConnectAuthorizerTrigger


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    memory_mb: int
    timeout_s: int
    trigger: Trigger
    description: str
    needs_database: bool = False
    reserved_concurrency: int | None = None
    extra_env: dict[str, str] = field(default_factory=dict)
    # Reaches hosts on the internet (partner webhook URLs): in the cloud it runs in subnets with a NAT route.
    needs_internet: bool = False

    @property
    def module(self) -> str:
        """Import path of the handler module from the repository root (``functions.<name>.handler``)."""
        return f"functions.{self.name}.handler"

    @property
    def lambda_handler(self) -> str:
        """Handler string inside the function's own asset folder (``functions/<name>``)."""
        return "handler.handler"


# S3 ObjectCreated under these prefixes (suffix .csv) is sent to the object-events queue.
UPLOAD_PREFIX = "uploads/"
DROP_PREFIX = "incoming/"
WATCHED_PREFIXES = (UPLOAD_PREFIX, DROP_PREFIX)
CSV_SUFFIX = ".csv"

SPLITTER_TIMEOUT_S = 900
CONSUMER_TIMEOUT_S = 120
WEBHOOKS_TIMEOUT_S = 60
FINISHER_TIMEOUT_S = 120

QUEUES: dict[str, QueueSpec] = {
    # S3 notifications → splitter. AWS advises a visibility timeout of 6x the function timeout.
    "object-events": QueueSpec("object-events", visibility_timeout_s=6 * SPLITTER_TIMEOUT_S, max_receive_count=3),
    # byte-range chunks → consumer.
    "chunks": QueueSpec("chunks", visibility_timeout_s=6 * CONSUMER_TIMEOUT_S, max_receive_count=5),
    # finished imports → finisher (search refresh, then the webhook event and its fan-out). Apart from the
    # deliveries, so that a receiver that never answers never delays the search refresh.
    "finished": QueueSpec("finished", visibility_timeout_s=6 * FINISHER_TIMEOUT_S, max_receive_count=5),
    # one event to one webhook → webhooks.
    "webhooks": QueueSpec("webhooks", visibility_timeout_s=6 * WEBHOOKS_TIMEOUT_S, max_receive_count=6),
}

FUNCTIONS: dict[str, FunctionSpec] = {
    spec.name: spec
    for spec in (
        FunctionSpec(
            "api", 512, 29, HttpTrigger(), "REST API (FastAPI + Mangum)", needs_database=True,
            needs_internet=True,  # POST /api/webhooks/{id}/test calls the partner URL; Cognito's JWKS
            reserved_concurrency=50,  # where the stage reserves concurrency (reservedConcurrency)
        ),
        FunctionSpec(
            "splitter",
            1024,
            SPLITTER_TIMEOUT_S,
            SqsTrigger("object-events", batch_size=1),
            "Streams an uploaded CSV once and enqueues row-aligned byte-range chunks",
            needs_database=True,
        ),
        FunctionSpec(
            "consumer",
            1024,
            CONSUMER_TIMEOUT_S,
            SqsTrigger("chunks", batch_size=2, max_batching_window_s=0, max_concurrency=20),
            "Validates a chunk and upserts it into PostgreSQL exactly once",
            needs_database=True,
        ),
        FunctionSpec(
            "broadcaster",
            256,
            30,
            StreamTrigger("progress", batch_size=100, max_batching_window_s=1, retry_attempts=3),
            "Pushes import progress from the DynamoDB stream to WebSocket subscribers",
        ),
        FunctionSpec(
            "websocket",
            256,
            10,
            WebSocketTrigger(routes=("$connect", "$disconnect", "$default", "subscribe", "unsubscribe")),
            "WebSocket connect / disconnect / subscribe",
        ),
        FunctionSpec(
            "webhooks",
            256,
            WEBHOOKS_TIMEOUT_S,
            # max_concurrency: slow receivers hold at most this many functions (and database connections)
            SqsTrigger("webhooks", batch_size=5, max_concurrency=10),
            "Delivers signed (Standard Webhooks) import events to the checked address of each webhook",
            needs_database=True,
            needs_internet=True,
            reserved_concurrency=10,  # where the stage reserves concurrency (reservedConcurrency)
        ),
        FunctionSpec(
            "finisher",
            256,
            FINISHER_TIMEOUT_S,
            SqsTrigger("finished", batch_size=1, max_concurrency=5),
            "Refreshes a finished import's search documents, then records and fans out its webhook event",
            needs_database=True,
        ),
    )
}

# Only in cloud stages with sign-in on (``authEnabled``), so not in FUNCTIONS: the local stack never signs in.
CONNECT_AUTHORIZER = FunctionSpec(
    "connect_authorizer",
    256,
    10,
    ConnectAuthorizerTrigger(),
    "Admits a WebSocket $connect only with a valid Cognito access token (?token=)",
)

# DynamoDB tables (logical names; physical names come from settings / CDK).
TABLES = {
    "progress": {
        "partition_key": "id",
        "stream": "NEW_IMAGE",
        # The API lists imports newest first with a Query on this index.
        "indexes": {"by_created": {"partition_key": "kind", "sort_key": "created_sort", "projection": "ALL"}},
    },
    "connections": {
        "partition_key": "connection_id",
        "ttl_attribute": "expires_at",
        # The broadcaster finds an import's subscribers with a Query on this index.
        "indexes": {"by_import": {"partition_key": "import_id", "projection": "KEYS_ONLY"}},
    },
}
