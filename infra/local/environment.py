"""The environment the local stack gives its functions: what CDK gives them in the cloud (the names of
``infra.topology``), pointed at this machine, plus the local-mode switches the cloud never has."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from infra import topology

if TYPE_CHECKING:
    from infra.local.stack import LocalConfig

REGION = "us-east-1"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


def stack_environment(config: LocalConfig, database_url: str) -> dict[str, str]:
    """Everything but the emulator's resources (``LocalResources.environment()`` adds those)."""
    env = {
        "DATABASE_URL": database_url,
        "AWS_ENDPOINT_URL_LOCAL": config.aws_endpoint,
        "AWS_ENDPOINT_URL": config.aws_endpoint,
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        **CREDENTIALS,
        "LOCAL_MODE": "true",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_DISABLED": "true",
        topology.ENV_POWERTOOLS_METRICS_NAMESPACE: topology.METRICS_NAMESPACE,
        "POWERTOOLS_LOG_LEVEL": os.environ.get("POWERTOOLS_LOG_LEVEL", "WARNING"),
        topology.ENV_WEBSOCKET_URL: f"ws://{config.host}:{config.ws_port}/",
        topology.ENV_WEBSOCKET_MANAGEMENT_URL: f"http://{config.host}:{config.ws_port}",
        # Local webhooks go to private addresses unless WEBHOOKS_ALLOW_PRIVATE says otherwise (CONTRACT §6).
        "WEBHOOKS_ALLOW_PRIVATE": os.environ.get("WEBHOOKS_ALLOW_PRIVATE", "true"),
        "LOCAL_DIR": str(config.state_dir),
    }
    if config.static_dir is not None:
        env["STATIC_DIR"] = str(config.static_dir)
    if config.chunk_rows:
        env[topology.ENV_CHUNK_ROWS] = str(config.chunk_rows)
    if config.max_upload_bytes:
        env[topology.ENV_MAX_UPLOAD_BYTES] = str(config.max_upload_bytes)
    env.update(config.extra_env)
    return env
