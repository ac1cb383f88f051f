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
    "broadcaster-failed-batches",
    "chunks-backlog-age",
    "splitter-errors",
    "consumer-errors",
    "broadcaster-iterator-age",
    "api-5xx",
    "aurora-capacity",
    "websocket-errors",
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


def test_dashboard_shows_throughput_errors_latency_dlqs_aurora_and_websocket(prod: Stage) -> None:
    (dashboard,) = prod.stateless_template.of_type("AWS::CloudWatch::Dashboard").values()
    assert dashboard["Properties"]["DashboardName"] == "ProductImporter-prod-pipeline"
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    for needle in (
        names.METRIC_ROWS_IMPORTED,
        names.METRIC_ROW_ERRORS,
        "Chunk latency",
        "ApproximateAgeOfOldestMessage",
        "DLQ chunks",
        "ServerlessDatabaseCapacity",
        "ACUUtilization",
        "DatabaseConnections",
        "ClientConnections",
        "ExecutionError",
        "IntegrationError",
    ):
        assert needle in body, needle
