"""One settings model per process, read from the environment (prefix-free names) and validated at start.

``Settings`` is what every function of ``infra.topology.FUNCTIONS`` reads. The names of the resources it
talks to differ between the laptop and the cloud, so they have no defaults: CDK and the local stack set
them (the same variable names, ``infra.topology.ENV``), and a process without them fails at cold start
instead of talking to a resource that happens to share a default name. ``CommonSettings`` is the part
a process outside the pipeline needs (the migrations trigger, the WebSocket ``$connect`` authorizer).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, PositiveInt, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from product_importer.container import per_container

GIB = 1024**3
MIB = 1024**2


class CommonSettings(BaseSettings):
    """Where the database and AWS are, local mode, sign-in.

    ``database_url`` empty means: start the embedded PostgreSQL under ``local_dir``.
    ``aws_endpoint_url`` empty means: real AWS (boto3's own resolution); the local stack sets the emulator's.
    """

    model_config = SettingsConfigDict(env_file=None, extra="ignore", case_sensitive=False)

    database_url: str = Field(default="", description="postgresql://… ; empty = embedded PostgreSQL")
    db_secret_arn: str = Field(default="", description="AWS: the application role's secret (DML only)")
    db_owner_secret_arn: str = Field(default="", description="AWS, migrations only: the schema owner's secret")
    db_master_secret_arn: str = Field(default="", description="AWS, migrations only: the cluster master secret")
    db_proxy_endpoint: str = Field(default="", description="AWS: RDS Proxy endpoint")
    db_name: str = "product_importer"
    local_dir: Path = Field(default=Path(".local"), description="where local mode keeps its data")

    aws_region: str = Field(default="us-east-1", validation_alias="AWS_REGION")
    aws_endpoint_url: str = Field(default="", description="AWS emulator endpoint, e.g. http://127.0.0.1:4566")
    local_mode: bool = False

    # Sign-in (Cognito), set by CDK only in stages with auth on: the UI learns them from /api/config,
    # the $connect authorizer verifies tokens against them. Empty (and always in local mode): no sign-in.
    auth_user_pool_id: str = Field(default="", description="Cognito user pool id, e.g. eu-west-1_AbC123")
    auth_client_id: str = Field(default="", description="the UI's app client id (public, PKCE)")
    auth_domain: str = Field(default="", description="hosted UI host, <prefix>.auth.<region>.amazoncognito.com")

    @property
    def auth_enabled(self) -> bool:
        return bool(self.auth_user_pool_id and self.auth_client_id) and not self.local_mode

    @field_validator("aws_endpoint_url", "database_url", mode="before")
    @classmethod
    def _strip(cls, value: object) -> object:
        return value.strip() if isinstance(value, str) else value


class Settings(CommonSettings):
    """Everything a pipeline or API process reads: ``CommonSettings`` plus its resources and knobs."""

    # The resources (physical names differ between the laptop and the cloud: required).
    uploads_bucket: str
    object_events_queue_url: str
    chunks_queue_url: str
    chunks_dlq_url: str
    webhooks_queue_url: str
    finished_queue_url: str = Field(description="finished imports: search refresh + webhook fan-out")
    progress_table: str
    connections_table: str
    websocket_url: str = Field(description="what the UI connects to (/api/config)")
    websocket_management_url: str = Field(description="the @connections endpoint the broadcaster posts to")

    chunk_rows: PositiveInt = Field(default=5000, description="rows per byte-range chunk (at most)")
    chunk_bytes: PositiveInt = Field(default=8 * MIB, description="bytes per chunk (at most, unless one row is larger)")
    max_record_bytes: int = Field(default=MIB, ge=2, description="a longer row is a row error (CONTRACT §1)")
    max_upload_bytes: PositiveInt = Field(default=5 * GIB, description="browser uploads (the presigned POST's limit)")
    max_drop_bytes: PositiveInt = Field(default=50 * GIB, description="partner drops under incoming/ (multipart)")
    upload_url_expires_s: PositiveInt = Field(default=900, le=900, description="presigned POST lifetime (≤ 15 min)")
    pending_expiry_s: PositiveInt = Field(default=24 * 3600, description="a pending import whose file never "
                                          "arrives ends failed ('upload expired') after this")
    pending_sweep_lookback_s: PositiveInt = Field(default=7 * 24 * 3600, description="how far back the sweep looks")
    local_sweep_interval_s: float = Field(default=300.0, gt=0, description="local stack: how often the sweep runs")
    splitter_deadline_margin_s: float = Field(default=60.0, ge=0, description="the splitter sends itself a "
                                              "continuation this long before its invocation's deadline")
    splitter_time_budget_s: float = Field(default=0.0, ge=0, description="local/tests: cap one splitter "
                                          "invocation's time (0: the function timeout)")
    chunk_stored_errors: PositiveInt = Field(default=100_000, description="row errors a chunk stores at most "
                                             "(its counts stay exact); the default keeps every one of a chunk's "
                                             "row errors: CONTRACT §1 caps them per import (100,000), not per chunk")
    download_url_expires_s: PositiveInt = Field(default=300, le=3600, description="presigned GET of an export")
    errors_csv_inline_max_bytes: PositiveInt = Field(
        default=5_000_000,  # CONTRACT §3 "above 5 MB"; decimal MB leaves room for the JSON escaping of the
        # body in a Lambda response (quotes and line breaks grow by a byte each; the response stops at 6 MiB)
        description="AWS: an errors.csv up to this size is the response itself; a larger one is written to "
                    "S3 and answered with a 303 to a presigned GET (Lambda responses stop at 6 MB)")
    undo_retention_days: PositiveInt = Field(
        default=30, description="CONTRACT §2: an import can be reverted this many days; then the scheduled "
                                "purge_undo drops its undo data (product_importer.db.registry reads it)")
    object_events_max_receives: PositiveInt = Field(default=3, description="object-events maxReceiveCount")
    chunk_max_receives: PositiveInt = Field(default=5, description="chunk queue maxReceiveCount (DLQ after)")
    api_statement_timeout_s: float = Field(
        default=25.0, gt=0, lt=29, description="the API's database statements stop after this (QueryCanceled: "
        "503 with Retry-After): below API Gateway's 29 s integration timeout, so the client gets a detail "
        "instead of a gateway 504 while the query holds the connection; pipeline functions are not limited")
    static_dir: Path | None = Field(default=None, description="built UI to serve at / (local mode)")
    webhooks_allow_private: bool | None = Field(
        default=None, description="deliver webhooks to private, loopback and link-local addresses (CONTRACT §6); "
                                  "unset: only in local mode")
    webhooks_timeout_s: float = Field(default=10.0, gt=0, description="per webhook delivery attempt")
    webhooks_retry_base_s: float = Field(default=10.0, gt=0, description="first retry delay; x4 per attempt")
    webhooks_test_timeout_s: float = Field(default=5.0, gt=0, le=20, description="POST /api/webhooks/{id}/test")
    webhooks_max: PositiveInt = Field(default=25, description="webhooks per deployment (account)")
    webhooks_kms_key_id: str = Field(default="", description="AWS: KMS key that seals webhook secrets")
    webhooks_secret_key: str = Field(
        default="", description="without KMS: base64 of the 32-byte key that seals webhook secrets "
        "(local mode generates one under LOCAL_DIR)")
    websocket_token: str = Field(default="", description="$connect requires ?token=<this>; empty or local mode: open")

    @property
    def private_webhooks_allowed(self) -> bool:
        """CONTRACT §6: private targets are refused unless ``WEBHOOKS_ALLOW_PRIVATE`` is set; unset, local
        mode allows them (its receivers run on this machine) and AWS refuses them."""
        if self.webhooks_allow_private is None:
            return self.local_mode
        return self.webhooks_allow_private


@per_container
def get_settings() -> Settings:
    """The process-wide settings, validated once (at cold start in Lambda)."""
    return Settings()  # type: ignore[call-arg]  # the required names come from the environment


def get_common_settings() -> CommonSettings:
    """The settings of a process outside the pipeline (migrations, the $connect authorizer), read afresh
    (its callers build once and keep what they build)."""
    return CommonSettings()
