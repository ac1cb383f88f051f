"""Stage configuration (dev / prod), read from CDK context (``cdk.json`` → ``stages.<name>``).

Select stages with ``-c stage=dev`` (default), ``-c stage=prod`` or ``-c stage=dev,prod``.
Anything in ``stages.<name>`` may be overridden on the command line as ``-c <name>.<key>=<value>``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
CDK_JSON = REPO_ROOT / "cdk.json"

_PARTNER_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{1,40}$")
# Cognito: lower-case letters, digits and hyphens, 1-63, not starting or ending with a hyphen.
_DOMAIN_PREFIX = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
# Cognito accepts http only for localhost; an origin has no path.
_CALLBACK_ORIGIN = re.compile(r"^(https://[^/\s]+|http://(localhost|127\.0\.0\.1)(:\d+)?)$")
_ACCOUNT_ID = re.compile(r"^\d{12}$")


@dataclass(frozen=True)
class StageConfig:
    stage: str
    region: str
    availability_zones: tuple[str, ...]
    account: str | None = None
    # API: Cognito + JWT authorizer on the HTTP API. Off only for throwaway dev stages.
    auth_enabled: bool = True
    # Cognito hosted sign-in domain prefix (<prefix>.auth.<region>.amazoncognito.com), unique per region;
    # empty = product-importer-<stage>.
    auth_domain_prefix: str = ""
    # Origins besides the CloudFront URL the UI may sign in from (a custom domain, http://localhost:5173
    # for a dev UI): each gets <origin>/auth/callback and <origin>/ as sign-in callback and sign-out URLs.
    auth_callback_origins: tuple[str, ...] = ()
    # Stateful resources: retain / snapshot on delete and deletion protection (prod), or destroy (dev).
    retain_data: bool = True
    aurora_min_acu: float = 0.5
    aurora_max_acu: float = 16
    aurora_readers: int = 0
    nat_gateways: int = 1
    log_retention_days: int = 30
    upload_expiry_days: int = 30
    # Browser origins allowed to POST uploads straight to S3 (presigned POST).
    cors_origins: tuple[str, ...] = ()
    api_rate_limit: int = 100
    api_burst_limit: int = 200
    # GET /api/health and GET /api/config answer without sign-in: their own, lower route throttle, so
    # anonymous calls cannot use up what signed-in users need.
    public_rate_limit: int = 10
    public_burst_limit: int = 20
    # Per-client limits: a WAF web ACL (rate-based rule per IP) on the CloudFront distribution that serves
    # the UI and /api. CloudFront web ACLs live in us-east-1: a small stack there (<prefix>-Edge).
    edge_waf: bool = False
    waf_rate_limit: int = 1000  # requests per client IP per 5 minutes, whole site
    waf_api_write_rate_limit: int = 300  # POST/PUT/PATCH/DELETE under /api/ per client IP per 5 minutes
    # Reserve concurrency for the API and webhook functions (topology's reserved_concurrency): accounts
    # with a low concurrency quota (new accounts: 10) refuse any reservation, so it is a stage setting.
    reserved_concurrency: bool = False
    webhooks_max: int = 25  # webhooks per deployment
    websocket_rate_limit: int = 50
    websocket_burst_limit: int = 100
    chunk_rows: int = 5000
    max_upload_bytes: int = 5 * 1024**3  # a browser's presigned POST (S3's single-upload limit)
    max_drop_bytes: int = 50 * 1024**3  # a partner drop under incoming/ (multipart): a separate limit
    undo_retention_days: int = 30  # UNDO_RETENTION_DAYS: how long an import can be reverted (CONTRACT §2)
    log_level: str = "INFO"
    alarm_email: str | None = None
    secret_rotation_days: int = 30
    # Create the account-wide API Gateway CloudWatch role (needed for WebSocket access logs). One stage
    # per account and region at most; see docs/deploy.md.
    manage_api_gateway_account: bool = False
    # partner name -> AWS account id allowed to assume a role that may write incoming/<partner>/ only.
    partners: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if len(self.availability_zones) < 2:
            raise ValueError(f"stage {self.stage}: give at least two availabilityZones (Aurora needs two)")
        if not 0 <= self.aurora_min_acu <= self.aurora_max_acu <= 256:
            raise ValueError(f"stage {self.stage}: need 0 <= auroraMinAcu <= auroraMaxAcu <= 256")
        if self.account is not None and not _ACCOUNT_ID.match(self.account):
            raise ValueError(f"stage {self.stage}: account must be 12 digits")
        for name, account in self.partners.items():
            if not _PARTNER_NAME.match(name) or not _ACCOUNT_ID.match(account):
                raise ValueError(
                    f"stage {self.stage}: partner {name!r} -> {account!r} is not name -> account id"
                )
        if self.auth_domain_prefix and (
            not _DOMAIN_PREFIX.match(self.auth_domain_prefix)
            or any(word in self.auth_domain_prefix for word in ("aws", "amazon", "cognito"))
        ):
            raise ValueError(
                f"stage {self.stage}: authDomainPrefix must be lower-case letters, digits and hyphens "
                "and may not contain aws, amazon or cognito"
            )
        for origin in self.auth_callback_origins:
            if not _CALLBACK_ORIGIN.match(origin):
                raise ValueError(
                    f"stage {self.stage}: authCallbackOrigins entry {origin!r} must be https://host[:port] "
                    "(or http://localhost:port), without a path or trailing slash"
                )
        if not self.cors_origins:
            raise ValueError(f"stage {self.stage}: corsOrigins must list the UI origin(s)")
        if self.waf_rate_limit < 10 or self.waf_api_write_rate_limit < 10:
            raise ValueError(f"stage {self.stage}: WAF rate limits are at least 10 requests per 5 minutes")
        if self.undo_retention_days < 1:
            raise ValueError(f"stage {self.stage}: undoRetentionDays is at least 1")
        if self.public_rate_limit > self.api_rate_limit:
            raise ValueError(f"stage {self.stage}: publicRateLimit must not exceed apiRateLimit")


def _snake(key: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower()


_FIELDS = {f.name for f in fields(StageConfig)}


def stage_config(stage: str, stages: dict[str, Any], overrides: dict[str, Any] | None = None) -> StageConfig:
    """Build a :class:`StageConfig` from the ``stages`` context object (camelCase keys)."""
    if stage not in stages:
        raise ValueError(f"unknown stage {stage!r}; cdk.json defines {sorted(stages)}")
    raw = {**stages[stage], **(overrides or {})}
    values: dict[str, Any] = {}
    for key, value in raw.items():
        name = _snake(key)
        if name not in _FIELDS:
            raise ValueError(f"stage {stage}: unknown setting {key!r}")
        if isinstance(value, list):
            value = tuple(value)
        values[name] = value
    return StageConfig(stage=stage, **values)


def selected_stages(context_value: Any) -> list[str]:
    """``"dev"`` / ``"dev,prod"`` / ``["dev", "prod"]`` → list of stage names."""
    if context_value is None:
        return ["dev"]
    if isinstance(context_value, list | tuple):
        return [str(s) for s in context_value]
    return [s.strip() for s in str(context_value).split(",") if s.strip()]


def cdk_json_context(path: Path = CDK_JSON) -> dict[str, Any]:
    """The ``context`` block of cdk.json (the CLI passes it itself; in-process runs need it loaded)."""
    return dict(json.loads(path.read_text())["context"])


def parse_context_value(value: Any) -> Any:
    """``-c key=value`` arrives as a string; accept JSON there (``true``, ``12``, ``["a"]``)."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value
