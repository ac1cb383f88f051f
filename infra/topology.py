"""The one description of how the system is wired: which handler runs on which trigger, with what limits.

Both the CDK app (``infra/cdk``) and the local stack (``infra/local``) read this module, so the cloud
and the laptop cannot drift apart: functions and triggers, queues and their dead-letter queues, table
shapes, the environment variables the functions read, the bucket's key prefixes, the metrics namespace.
Plain data only: no AWS or CDK imports here. What the deployed code itself needs at run time (the key
prefixes) lives in the package (``product_importer.naming``) and is re-exported here, since a Lambda
has no ``infra/``.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from product_importer.naming import DROP_PREFIX, UPLOAD_PREFIX


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


@dataclass(frozen=True)
class DeadLetterTrigger:
    """SQS event sources on the dead-letter queues of ``queues`` (names in ``QUEUES``): every message that
    failed all its receives is handed to the function, which must consume it."""

    queues: tuple[str, ...]
    batch_size: int = 10
    report_batch_item_failures: bool = True


@dataclass(frozen=True)
class ScheduleTrigger:
    """A fixed rate (an EventBridge schedule in AWS; locally a timer, every ``LOCAL_SWEEP_INTERVAL_S``)."""

    rate_minutes: int


Trigger = (SqsTrigger | StreamTrigger | WebSocketTrigger | HttpTrigger | ConnectAuthorizerTrigger
           | DeadLetterTrigger | ScheduleTrigger)


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


# S3 ObjectCreated under these prefixes (suffix .csv) is sent to the object-events queue: uploads/<import
# id>.csv (presigned POSTs) and incoming/<partner>/… (partner drops).
WATCHED_PREFIXES = (UPLOAD_PREFIX, DROP_PREFIX)
CSV_SUFFIX = ".csv"
# S3's suffix filter is case-sensitive and partner systems (Windows) write FEED.CSV: a drop is watched under
# every spelling of .csv; a browser upload's key is the API's own (uploads/<import id>.csv). CONTRACT §4.
DROP_SUFFIXES = tuple(sorted("." + "".join(letters) for letters in itertools.product("cC", "sS", "vV")))
NOTIFICATION_FILTERS = ((UPLOAD_PREFIX, CSV_SUFFIX), *((DROP_PREFIX, suffix) for suffix in DROP_SUFFIXES))

# Powertools Metrics: every function is its own service, all in this namespace (CDK's dashboard and alarms
# read it; the local stack sets it too).
METRICS_NAMESPACE = "ProductImporter"

# A message that failed maxReceiveCount times waits this long in its dead-letter queue (the SQS maximum:
# time to investigate and redrive).
DLQ_RETENTION_DAYS = 14

SPLITTER_TIMEOUT_S = 900
CONSUMER_TIMEOUT_S = 120
WEBHOOKS_TIMEOUT_S = 60
FINISHER_TIMEOUT_S = 120
DEAD_LETTER_TIMEOUT_S = 60
EXPIRE_PENDING_TIMEOUT_S = 300
PURGE_UNDO_TIMEOUT_S = 300

QUEUES: dict[str, QueueSpec] = {
    # S3 notifications → splitter. AWS advises a visibility timeout of 6x the function timeout.
    "object-events": QueueSpec("object-events", visibility_timeout_s=6 * SPLITTER_TIMEOUT_S, max_receive_count=3),
    # byte-range chunks → consumer.
    "chunks": QueueSpec("chunks", visibility_timeout_s=6 * CONSUMER_TIMEOUT_S, max_receive_count=5),
    # finished imports → finisher (search refresh, then the webhook event and its fan-out). Apart from the
    # deliveries, so that a receiver that never answers never delays the search refresh.
    "finished": QueueSpec("finished", visibility_timeout_s=6 * FINISHER_TIMEOUT_S, max_receive_count=5),
    # one event to one webhook → webhooks. A failed attempt waits for its retry as its message's visibility
    # timeout (webhooks.dispatch: 9 attempts over ~24 h, well inside the 4 days the queue keeps a message).
    "webhooks": QueueSpec("webhooks", visibility_timeout_s=6 * WEBHOOKS_TIMEOUT_S, max_receive_count=10),
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
            # batch_size 1: a receiver that never answers holds back only its own delivery (in a batch of 5,
            # the 4 others waited up to 4 x WEBHOOKS_TIMEOUT_S behind it); max_concurrency: slow receivers
            # hold at most this many functions (and database connections)
            SqsTrigger("webhooks", batch_size=1, max_concurrency=10),
            "Delivers signed (Standard Webhooks) import events to the checked address of each webhook",
            needs_database=True,
            needs_internet=True,
            reserved_concurrency=10,  # where the stage reserves concurrency (reservedConcurrency)
        ),
        FunctionSpec(
            "dead_letter",
            256,
            DEAD_LETTER_TIMEOUT_S,
            # The chunk DLQ and the object-events DLQ: a chunk or a file that failed every receive (also
            # when the consumer or the splitter was killed) ends its import failed within seconds of
            # dead-lettering. A chunk that raises comes back after 15, 30, 60, 120 s (the consumer shortens
            # its visibility): ~4 minutes to the DLQ. A killed function's message waits out the queue's
            # visibility timeout each time (chunks 12 min, object events 90 min); a file deleted while its
            # chunks are read fails the import at once.
            DeadLetterTrigger(("chunks", "object-events"), batch_size=10),
            "Ends the import of a dead-lettered chunk or object event failed, with a reason for its user",
            needs_database=True,
        ),
        FunctionSpec(
            "expire_pending",
            256,
            EXPIRE_PENDING_TIMEOUT_S,
            ScheduleTrigger(rate_minutes=60),
            "Ends pending imports whose file never arrived (PENDING_EXPIRY_S, 24 h) failed: upload expired",
            needs_database=True,
        ),
        FunctionSpec(
            "purge_undo",
            256,
            PURGE_UNDO_TIMEOUT_S,
            # Undo data is partitioned by day: once a day drops the days older than UNDO_RETENTION_DAYS.
            ScheduleTrigger(rate_minutes=24 * 60),
            "Drops undo data older than UNDO_RETENTION_DAYS (30 days), discarded previews' change records and the"
            " tombstones nothing needs any more",
            needs_database=True,
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


def table_definition(table: str, name: str) -> dict[str, Any]:
    """``TABLES[table]`` as a DynamoDB ``CreateTable`` request for the physical table ``name`` (the local stack
    and the tests create their tables with it; CDK declares the same from ``TABLES``). TTL is set apart
    (``UpdateTimeToLive``)."""
    spec = TABLES[table]
    indexes: dict[str, dict[str, str]] = spec.get("indexes", {})  # type: ignore[assignment]
    keys = [str(spec["partition_key"])]
    for index in indexes.values():
        keys += [index["partition_key"], *([index["sort_key"]] if "sort_key" in index else [])]
    definition: dict[str, Any] = {
        "TableName": name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": k, "AttributeType": "S"} for k in dict.fromkeys(keys)],
        "KeySchema": [{"AttributeName": spec["partition_key"], "KeyType": "HASH"}],
    }
    if indexes:
        definition["GlobalSecondaryIndexes"] = [
            {
                "IndexName": index_name,
                "KeySchema": [
                    {"AttributeName": index["partition_key"], "KeyType": "HASH"},
                    *([{"AttributeName": index["sort_key"], "KeyType": "RANGE"}] if "sort_key" in index else []),
                ],
                "Projection": {"ProjectionType": index.get("projection", "ALL")},
            }
            for index_name, index in indexes.items()
        ]
    if "stream" in spec:
        definition["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": spec["stream"]}
    return definition


# Environment variables the functions receive (read by product_importer.settings.Settings, whose field
# names they are): CDK sets them from its resources, the local stack from the emulator's.
ENV_DB_SECRET_ARN = "DB_SECRET_ARN"  # the application role's (DML only)
ENV_DB_OWNER_SECRET_ARN = "DB_OWNER_SECRET_ARN"  # migrations only
ENV_DB_MASTER_SECRET_ARN = "DB_MASTER_SECRET_ARN"  # migrations only
ENV_DB_PROXY_ENDPOINT = "DB_PROXY_ENDPOINT"
ENV_DB_NAME = "DB_NAME"
ENV_UPLOADS_BUCKET = "UPLOADS_BUCKET"
ENV_OBJECT_EVENTS_QUEUE_URL = "OBJECT_EVENTS_QUEUE_URL"
ENV_CHUNKS_QUEUE_URL = "CHUNKS_QUEUE_URL"
ENV_CHUNKS_DLQ_URL = "CHUNKS_DLQ_URL"
ENV_WEBHOOKS_QUEUE_URL = "WEBHOOKS_QUEUE_URL"
ENV_FINISHED_QUEUE_URL = "FINISHED_QUEUE_URL"
ENV_WEBHOOKS_KMS_KEY_ID = "WEBHOOKS_KMS_KEY_ID"  # api and webhooks: the key that seals webhook secrets
ENV_WEBHOOKS_MAX = "WEBHOOKS_MAX"
ENV_PROGRESS_TABLE = "PROGRESS_TABLE"
ENV_CONNECTIONS_TABLE = "CONNECTIONS_TABLE"
ENV_WEBSOCKET_URL = "WEBSOCKET_URL"
ENV_WEBSOCKET_MANAGEMENT_URL = "WEBSOCKET_MANAGEMENT_URL"
ENV_CHUNK_ROWS = "CHUNK_ROWS"
ENV_MAX_UPLOAD_BYTES = "MAX_UPLOAD_BYTES"
ENV_MAX_DROP_BYTES = "MAX_DROP_BYTES"  # partner drops (multipart, beyond the browser's 5 GiB): 50 GiB default
ENV_CHUNK_BYTES = "CHUNK_BYTES"
ENV_PENDING_EXPIRY_S = "PENDING_EXPIRY_S"
ENV_UNDO_RETENTION_DAYS = "UNDO_RETENTION_DAYS"  # the API's revert (409 after) and purge_undo agree on it
ENV_CHUNK_MAX_RECEIVES = "CHUNK_MAX_RECEIVES"
ENV_OBJECT_EVENTS_MAX_RECEIVES = "OBJECT_EVENTS_MAX_RECEIVES"
ENV_POWERTOOLS_SERVICE_NAME = "POWERTOOLS_SERVICE_NAME"
ENV_POWERTOOLS_METRICS_NAMESPACE = "POWERTOOLS_METRICS_NAMESPACE"
ENV_LOG_LEVEL = "LOG_LEVEL"
# Sign-in (only in stages with authEnabled): the api function and the WebSocket $connect authorizer.
ENV_AUTH_USER_POOL_ID = "AUTH_USER_POOL_ID"
ENV_AUTH_CLIENT_ID = "AUTH_CLIENT_ID"
ENV_AUTH_DOMAIN = "AUTH_DOMAIN"

# The resources every function of FUNCTIONS is told about (Settings requires them: their names and URLs
# differ between the laptop and the cloud).
RESOURCE_ENV = (
    ENV_UPLOADS_BUCKET,
    ENV_OBJECT_EVENTS_QUEUE_URL,
    ENV_CHUNKS_QUEUE_URL,
    ENV_CHUNKS_DLQ_URL,
    ENV_WEBHOOKS_QUEUE_URL,
    ENV_FINISHED_QUEUE_URL,
    ENV_PROGRESS_TABLE,
    ENV_CONNECTIONS_TABLE,
    ENV_WEBSOCKET_URL,
    ENV_WEBSOCKET_MANAGEMENT_URL,
)


def dlq_visibility_timeout_s(queue: str) -> int | None:
    """A dead-letter queue that a function consumes (a ``DeadLetterTrigger``) hides a received message for
    6x that function's timeout, as AWS advises for any SQS event source (CDK and the local stack alike);
    None: the queue's default (nothing consumes it)."""
    timeouts = [spec.timeout_s for spec in FUNCTIONS.values()
                if isinstance(spec.trigger, DeadLetterTrigger) and queue in spec.trigger.queues]
    return 6 * max(timeouts) if timeouts else None


def receive_limits_env() -> dict[str, str]:
    """The dead-letter handler's reasons say after how many attempts a message gave up: the queue's number."""
    return {
        ENV_CHUNK_MAX_RECEIVES: str(QUEUES["chunks"].max_receive_count),
        ENV_OBJECT_EVENTS_MAX_RECEIVES: str(QUEUES["object-events"].max_receive_count),
    }
