"""boto3 clients built from settings: the same code talks to AWS or to the local emulator."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

from product_importer.container import per_container
from product_importer.settings import CommonSettings, get_common_settings

_CONFIG = Config(retries={"max_attempts": 5, "mode": "adaptive"}, max_pool_connections=32)


def client(service: str, settings: CommonSettings | None = None, **kwargs: Any) -> Any:
    """A boto3 client for ``service``, pointed at ``settings.aws_endpoint_url`` when set."""
    settings = settings or get_common_settings()
    options: dict[str, Any] = {"region_name": settings.aws_region, "config": _CONFIG, **kwargs}
    if settings.aws_endpoint_url and "endpoint_url" not in kwargs:
        options["endpoint_url"] = settings.aws_endpoint_url
    return boto3.client(service, **options)  # type: ignore[call-overload]


@per_container
def cached_client(service: str) -> Any:
    """One client per service per process (Lambda containers reuse it across invocations)."""
    return client(service)
