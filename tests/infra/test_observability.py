"""Observability: dashboard widgets and alarms, every alarm notifying the encrypted topic."""

from __future__ import annotations

import json

import pytest

from infra.cdk import names
from tests.infra.conftest import Stage

pytestmark = pytest.mark.infra

EXPECTED_ALARMS = {
    "object-events-dlq",
    "chunks-dlq",
    "webhooks-dlq",
    "finished-dlq",
    "broadcaster-failed-batches",
    "chunks-backlog-age",
    "splitter-errors",
    "consumer-errors",
    "broadcaster-iterator-age",
    "api-5xx",
    "aurora-capacity",
    "websocket-errors",
    "chunks-dead-lettered",  # the dead_letter function drains the DLQs: what it handled is the signal
    # the functions nobody waits on (tests/infra/test_lifecycle.py)
    "dead-letter-errors",
    "expire-pending-errors",
    "purge-undo-errors",
}


def test_alarms_cover_dlqs_backlog_errors_aurora_and_websocket(prod: Stage) -> None:
    template = prod.stateless_template
    topic_id = template.logical_id(prod.stateless.observability.topic)
    alarms = {
        a["Properties"]["AlarmName"]: a["Properties"]
        for a in template.of_type("AWS::CloudWatch::Alarm").values()
    }
    assert set(alarms) == {f"ProductImporter-prod-{name}" for name in EXPECTED_ALARMS}
    for name, alarm in alarms.items():
        assert alarm["AlarmActions"] == [{"Ref": topic_id}], name


def test_alarm_topic_is_encrypted_with_a_rotated_key(prod: Stage) -> None:
    template = prod.stateless_template
    topic = template.props(prod.stateless.observability.topic)
    (key_id,) = template.of_type("AWS::KMS::Key")
    assert topic["KmsMasterKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}
    assert template.resources[key_id]["Properties"]["EnableKeyRotation"] is True


def _dashboard(stage: Stage) -> dict:
    (dashboard,) = stage.stateless_template.of_type("AWS::CloudWatch::Dashboard").values()
    assert dashboard["Properties"]["DashboardName"] == f"ProductImporter-{stage.name}-pipeline"
    parts = dashboard["Properties"]["DashboardBody"]["Fn::Join"][1]
    return json.loads("".join(p if isinstance(p, str) else "TOKEN" for p in parts))


def test_dashboard_shows_throughput_errors_latency_dlqs_aurora_and_websocket(prod: Stage) -> None:
    widgets = _dashboard(prod)["widgets"]
    titles = {w["properties"].get("title") for w in widgets}
    assert {
        "Import throughput (rows / minute)",
        "Row errors and failures",
        "Chunk latency (consumer duration, backlog age)",
        "Queues: chunk backlog and dead letters",
        "Aurora capacity (ACU) and connections",
        "WebSocket errors and messages",
    } <= titles
    metrics = [m for w in widgets for m in w["properties"].get("metrics", [])]
    plotted = {tuple(x for x in m if isinstance(x, str)) for m in metrics}
    # Powertools metrics under the handlers' service names
    for service, name in (names.METRIC_ROWS_IMPORTED, names.METRIC_ROW_ERRORS, names.METRIC_IMPORTS_FAILED,
                          names.METRIC_IMPORTS_FAILED_DEAD_LETTER, names.METRIC_CHUNKS_DEAD_LETTERED):
        assert (names.METRICS_NAMESPACE, name, "service", service) in plotted
    # each under the service that emits it (ChunksDeadLettered was read from the consumer: an empty line)
    assert names.METRIC_CHUNKS_DEAD_LETTERED == ("dead_letter", "ChunksDeadLettered")
    flat = json.dumps(metrics)
    for needle in (
        "ApproximateAgeOfOldestMessage",
        "ServerlessDatabaseCapacity",
        "ACUUtilization",
        "DatabaseConnections",
        "ClientConnections",
        "ExecutionError",
        "IntegrationError",
    ):
        assert needle in flat, needle
