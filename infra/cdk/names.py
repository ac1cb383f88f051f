"""Every name the CDK app gives out, in one place: stacks, outputs, metrics, dashboard, parameters.

Physical names of buckets, queues, tables and functions are left to CloudFormation (so resources can be
replaced safely); the functions learn them from environment variables, the operators from stack outputs.
"""

from __future__ import annotations

from dataclasses import dataclass

from infra import topology

# Environment variables the Lambda functions receive: declared once, in infra.topology (the local stack
# sets the same); re-exported for the constructs, which say names.ENV_….
from infra.topology import (  # noqa: F401
    ENV_AUTH_CLIENT_ID,
    ENV_AUTH_DOMAIN,
    ENV_AUTH_USER_POOL_ID,
    ENV_CHUNK_MAX_RECEIVES,
    ENV_CHUNK_ROWS,
    ENV_CHUNKS_DLQ_URL,
    ENV_CHUNKS_QUEUE_URL,
    ENV_CONNECTIONS_TABLE,
    ENV_DB_MASTER_SECRET_ARN,
    ENV_DB_NAME,
    ENV_DB_OWNER_SECRET_ARN,
    ENV_DB_PROXY_ENDPOINT,
    ENV_DB_SECRET_ARN,
    ENV_FINISHED_QUEUE_URL,
    ENV_LOG_LEVEL,
    ENV_MAX_UPLOAD_BYTES,
    ENV_OBJECT_EVENTS_MAX_RECEIVES,
    ENV_OBJECT_EVENTS_QUEUE_URL,
    ENV_POWERTOOLS_METRICS_NAMESPACE,
    ENV_POWERTOOLS_SERVICE_NAME,
    ENV_PROGRESS_TABLE,
    ENV_UNDO_RETENTION_DAYS,
    ENV_UPLOADS_BUCKET,
    ENV_WEBHOOKS_KMS_KEY_ID,
    ENV_WEBHOOKS_MAX,
    ENV_WEBHOOKS_QUEUE_URL,
    ENV_WEBSOCKET_MANAGEMENT_URL,
    ENV_WEBSOCKET_URL,
)

APP = "ProductImporter"
APP_SLUG = "product-importer"

# Powertools: every function is its own service (the handlers' Logger/Metrics/Tracer use the function
# name), all in one metrics namespace.
METRICS_NAMESPACE = topology.METRICS_NAMESPACE

# Custom metrics the handlers emit (Powertools Metrics, dimension service=<function>), as
# (service, metric name). The dashboard and alarms read exactly these.
METRIC_ROWS_IMPORTED = ("consumer", "RowsImported")
METRIC_ROW_ERRORS = ("consumer", "RowErrors")
METRIC_CHUNKS_PROCESSED = ("consumer", "ChunksProcessed")
METRIC_CHUNKS_DEAD_LETTERED = ("dead_letter", "ChunksDeadLettered")  # the dead_letter function emits it
METRIC_IMPORTS_FAILED = ("splitter", "ImportsFailed")  # a file that cannot be read
METRIC_IMPORTS_FAILED_DEAD_LETTER = ("dead_letter", "ImportsFailed")  # ended by a dead-lettered message
METRIC_MESSAGES_SENT = ("broadcaster", "MessagesSent")
METRIC_WEBHOOKS_DELIVERED = ("webhooks", "WebhooksDelivered")
METRIC_WEBHOOK_ATTEMPTS_FAILED = ("webhooks", "WebhookAttemptsFailed")

DATABASE_NAME = "product_importer"  # matches Settings.db_name's default
DATABASE_USER = "importer_admin"  # the cluster's master user: only the migrations trigger uses it
DATABASE_OWNER = "importer_owner"  # owns the schema; migrations run as it
DATABASE_APP_USER = "importer_app"  # every function: DML only (product_importer.db.roles)


@dataclass(frozen=True)
class StageNames:
    """Names derived from the stage (``dev``, ``prod``)."""

    stage: str

    @property
    def prefix(self) -> str:
        return f"{APP}-{self.stage}"

    @property
    def stateful_stack(self) -> str:
        return f"{self.prefix}-Stateful"

    @property
    def stateless_stack(self) -> str:
        return f"{self.prefix}-Stateless"

    @property
    def db_cluster(self) -> str:
        return f"{APP_SLUG}-{self.stage}"

    @property
    def dashboard(self) -> str:
        return f"{self.prefix}-pipeline"

    @property
    def websocket_stage(self) -> str:
        return self.stage

    @property
    def auth_domain_prefix(self) -> str:
        """Default Cognito hosted sign-in prefix (globally unique per region: override with authDomainPrefix)."""
        return f"{APP_SLUG}-{self.stage}"

    def alarm(self, what: str) -> str:
        return f"{self.prefix}-{what}"

    def partner_role(self, partner: str) -> str:
        return f"{self.prefix}-partner-{partner}"

    @property
    def edge_stack(self) -> str:
        """The us-east-1 stack with the CloudFront web ACL (WAF)."""
        return f"{self.prefix}-Edge"

    @property
    def web_acl(self) -> str:
        return f"{APP_SLUG}-{self.stage}-edge"


# CloudFormation output ids (stable: docs/deploy.md and scripts refer to them).
OUT_UPLOADS_BUCKET = "UploadsBucketName"
OUT_SITE_URL = "SiteUrl"
OUT_HTTP_API_URL = "HttpApiUrl"
OUT_WEBSOCKET_URL = "WebSocketUrl"
OUT_USER_POOL_ID = "UserPoolId"
OUT_USER_POOL_CLIENT_ID = "UserPoolClientId"
OUT_SIGN_IN_DOMAIN = "SignInDomain"
OUT_DASHBOARD = "DashboardName"
OUT_ALARM_TOPIC = "AlarmTopicArn"
OUT_DB_SECRET = "DatabaseSecretArn"  # the application role's secret
OUT_DB_OWNER_SECRET = "DatabaseOwnerSecretArn"
OUT_DB_MASTER_SECRET = "DatabaseMasterSecretArn"
OUT_WEBHOOK_KEY = "WebhookSecretsKeyArn"
OUT_DB_PROXY = "DatabaseProxyEndpoint"
OUT_PARTNER_ROLE = "PartnerRoleArn"

# Cognito user-pool groups (CONTRACT §8), lowest first: product_importer.auth.groups.GROUPS, which the API
# and the WebSocket check, names the same (tests/infra/test_security.py keeps them equal).
USER_GROUPS = ("viewer", "importer", "admin")

# Routes of the UI that Cognito redirects back to (frontend/src/App.tsx has the same paths).
SIGN_IN_CALLBACK_PATH = "/auth/callback"
SIGN_OUT_PATH = "/"
