"""functions/api/handler.py: the Powertools entry stack around Mangum — an API Gateway HTTP API event in,
the FastAPI answer out, with the request id as correlation id on the response and on domain log lines."""

from __future__ import annotations

import importlib
import io
import json
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import pytest

os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "ProductImporterTest")
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")

import psycopg
from product_importer.api import deps
from product_importer.progress import ProgressError
from psycopg_pool import PoolTimeout


@dataclass
class Context:
    function_name: str = "api"
    function_version: str = "$LATEST"
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:api"
    memory_limit_in_mb: int = 512
    aws_request_id: str = "lambda-request-1"
    log_group_name: str = "/aws/lambda/api"
    log_stream_name: str = "stream"

    def get_remaining_time_in_millis(self) -> int:
        return 29_000


def http_event(method: str, path: str, request_id: str) -> dict[str, Any]:
    return {
        "version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": "",
        "headers": {"host": "api.example.com", "content-type": "application/json"},
        "requestContext": {"accountId": "123456789012", "apiId": "api", "domainName": "api.example.com",
                           "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "203.0.113.1",
                                    "userAgent": "test"},
                           "requestId": request_id, "routeKey": "$default", "stage": "$default",
                           "time": "28/Nov/2026:10:00:00 +0000", "timeEpoch": 1795000000000},
        "isBase64Encoded": False,
    }


class Healthy:
    def execute(self, _query: str) -> None:
        return None


class Broken:
    def get_item(self, _import_id: str) -> None:
        raise ProgressError("ResourceNotFoundException: table product-importer-progress in 123456789012")


@pytest.fixture(scope="module")
def api_handler() -> Iterator[ModuleType]:
    """functions/api/handler.py, imported here rather than at collection: its import routes the package's
    loggers through its Powertools logger, which the rest of the session must not inherit."""
    package = logging.getLogger("product_importer")
    saved = (list(package.handlers), package.propagate, package.level)
    yield importlib.import_module("functions.api.handler")
    package.handlers, package.propagate = saved[0], saved[1]
    package.setLevel(saved[2])


@pytest.fixture
def overrides(api_handler: ModuleType) -> Iterator[dict[Any, Any]]:
    saved = dict(api_handler.app.dependency_overrides)
    yield api_handler.app.dependency_overrides
    api_handler.app.dependency_overrides.clear()
    api_handler.app.dependency_overrides.update(saved)


@pytest.fixture
def logged(api_handler: ModuleType) -> Iterator[io.StringIO]:
    """What the handler's Powertools logger writes (its one handler, shared with the domain loggers)."""
    buffer = io.StringIO()
    stream = api_handler.logger.registered_handler.setStream(buffer)
    yield buffer
    api_handler.logger.registered_handler.setStream(stream)


def log_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def test_an_http_api_event_is_answered_with_the_correlation_id(api_handler: ModuleType,
                                                               overrides: dict[Any, Any]) -> None:
    overrides[deps.db] = lambda: Healthy()

    response = api_handler.handler(http_event("GET", "/api/health", "req-abc-1"), Context())

    assert response["statusCode"] == 200
    assert json.loads(response["body"]) == {"status": "ok"}
    assert response["headers"]["x-correlation-id"] == "req-abc-1"


def test_domain_logs_reach_the_powertools_logger_with_the_correlation_id(
    api_handler: ModuleType, overrides: dict[Any, Any], logged: io.StringIO
) -> None:
    # given a store that fails with internal detail
    overrides[deps.imports] = lambda: Broken()
    # when a request hits it
    response = api_handler.handler(http_event("GET", "/api/imports/abc", "req-xyz-2"), Context())
    # then the user gets a plain 503, the detail is logged by the domain logger as a Powertools JSON line
    assert response["statusCode"] == 503
    body = json.loads(response["body"])
    assert "123456789012" not in body["detail"] and "product-importer-progress" not in body["detail"]
    lines = [line for line in log_lines(logged.getvalue()) if "unavailable" in str(line.get("message"))]
    assert lines, "the domain's log line did not reach the Powertools logger"
    line = lines[0]
    assert line["correlation_id"] == "req-xyz-2"
    assert line["service"] == "api" and line["name"] == "product_importer.api.errors"
    assert "product-importer-progress" in line["message"]
    assert response["headers"]["x-correlation-id"] == "req-xyz-2"


@pytest.mark.parametrize("failure", [PoolTimeout("couldn't get a connection after 30.00 sec"),
                                     psycopg.OperationalError("connection to server at 10.0.1.5 failed")])
def test_a_database_that_cannot_be_reached_is_a_503_not_a_500(api_handler: ModuleType, overrides: dict[Any, Any],
                                                              failure: Exception) -> None:
    """Found by a chaos test: with PostgreSQL paused, POST /api/imports answered 500 after the pool's 30 s."""
    def unreachable() -> Any:
        raise failure

    overrides[deps.db] = unreachable

    response = api_handler.handler(http_event("GET", "/api/products", "req-db-1"), Context())

    assert response["statusCode"] == 503
    assert json.loads(response["body"]) == {"detail": "the database is unavailable; try again in a moment"}
    assert response["headers"]["retry-after"] == "5"


def test_head_answers_like_get_without_a_body_through_api_gateway(api_handler: ModuleType,
                                                                  overrides: dict[Any, Any]) -> None:
    """``curl -I`` and uptime monitors send HEAD: it was a 405 on every route (FastAPI routes are GET only)."""
    overrides[deps.db] = lambda: Healthy()
    got = api_handler.handler(http_event("GET", "/api/health", "req-get"), Context())

    head = api_handler.handler(http_event("HEAD", "/api/health", "req-head"), Context())

    assert head["statusCode"] == 200
    assert head["body"] == ""
    assert head["headers"]["content-length"] == got["headers"]["content-length"] != "0"
    assert head["headers"]["content-type"] == "application/json"


def test_head_of_a_path_without_get_is_still_405(api_handler: ModuleType, overrides: dict[Any, Any]) -> None:
    response = api_handler.handler(http_event("HEAD", "/api/imports/abc/apply", "req-head-2"), Context())

    assert response["statusCode"] == 405
    assert response["body"] == ""
    assert "POST" in response["headers"]["allow"]
