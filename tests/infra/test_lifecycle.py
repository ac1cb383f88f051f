"""Lifecycle functions (dead letters end imports, pending uploads expire) and the separate drop limit.

The pipeline declares these in ``infra.topology``; until it does, these tests are skipped (and
``infra.cdk.lifecycle`` builds nothing)."""

from __future__ import annotations

import pytest
from aws_cdk import Duration
from aws_cdk import aws_events as events

from infra import topology
from infra.cdk import names
from infra.cdk.functions import MAX_DROP_BYTES_ENV
from infra.cdk.lifecycle import DEAD_LETTER_TRIGGER, SCHEDULE_TRIGGER, lifecycle_specs
from tests.infra.conftest import Stage
from tests.infra.template_queries import as_list, referenced_ids
from tests.infra.test_least_privilege import UNSCOPED_ACTIONS

pytestmark = pytest.mark.infra


def _require(name: str) -> topology.FunctionSpec:
    spec = lifecycle_specs().get(name)
    if spec is None:
        pytest.skip(f"infra.topology declares no {name} function yet (pipeline branch)")
    return spec


def test_dead_letters_of_chunks_and_object_events_reach_the_dead_letter_function(prod: Stage) -> None:
    spec = _require("dead_letter")
    assert isinstance(spec.trigger, DEAD_LETTER_TRIGGER)
    template = prod.stateless_template
    fn = prod.stateless.functions["dead_letter"]
    mappings = [m["Properties"] for m in template.of_type("AWS::Lambda::EventSourceMapping").values()
                if template.logical_id(fn.function) in str(m["Properties"]["FunctionName"])]
    dlqs = {
        "chunks": template.logical_id(prod.stateless.pipeline.chunks.dlq),
        "object-events": prod.stateful_template.logical_id(prod.stateful.storage.object_events.dlq),
    }
    sources = {str(m["EventSourceArn"]) for m in mappings}
    for queue in spec.trigger.queues:
        assert any(dlqs[queue] in source for source in sources), queue
    assert len(mappings) == len(spec.trigger.queues)
    assert all(m["FunctionResponseTypes"] == ["ReportBatchItemFailures"] for m in mappings)


def test_pending_imports_expire_on_a_schedule(prod: Stage) -> None:
    spec = _require("expire_pending")
    assert isinstance(spec.trigger, SCHEDULE_TRIGGER)
    rules = prod.stateless_template.of_type("AWS::Events::Rule").values()
    fn_id = prod.stateless_template.logical_id(prod.stateless.functions["expire_pending"].function)
    (rule,) = [r for r in rules if fn_id in str(r["Properties"]["Targets"])]
    expected = events.Schedule.rate(Duration.minutes(spec.trigger.rate_minutes)).expression_string
    assert rule["Properties"]["ScheduleExpression"] == expected
    assert rule["Properties"]["State"] == "ENABLED"


def test_a_consumed_dlq_hides_messages_longer_than_the_function_runs(prod: Stage) -> None:
    spec = _require("dead_letter")
    dlq = prod.stateless_template.props(prod.stateless.pipeline.chunks.dlq)
    assert dlq["VisibilityTimeout"] >= 6 * spec.timeout_s


def test_undo_data_is_purged_on_a_daily_schedule_with_the_database_settings(prod: Stage) -> None:
    # CONTRACT §2: undo data is kept UNDO_RETENTION_DAYS; nothing ran purge_undo in AWS (nor locally)
    spec = lifecycle_specs()["purge_undo"]
    assert isinstance(spec.trigger, SCHEDULE_TRIGGER)
    template = prod.stateless_template
    fn = prod.stateless.functions["purge_undo"].function
    (rule,) = [r for r in template.of_type("AWS::Events::Rule").values()
               if template.logical_id(fn) in str(r["Properties"]["Targets"])]
    assert rule["Properties"]["ScheduleExpression"] == "rate(1 day)"
    env = template.props(fn)["Environment"]["Variables"]
    assert {names.ENV_DB_SECRET_ARN, names.ENV_DB_PROXY_ENDPOINT, names.ENV_DB_NAME} <= set(env)
    assert "VpcConfig" in template.props(fn)
    assert template.props(fn)["Handler"] == "handler.handler"


@pytest.mark.parametrize("name", ["dead_letter", "expire_pending", "purge_undo"])
def test_lifecycle_functions_name_only_what_they_use(prod: Stage, name: str) -> None:
    _require(name)
    stateful, stateless = prod.stateful, prod.stateless
    a, b = prod.stateful_template.logical_id, prod.stateless_template.logical_id
    own = {b(stateless.functions[name].log_group)}
    expected = {
        "dead_letter": own | {a(stateful.storage.bucket), a(stateful.tables.progress), a(stateful.database.secret),
                              b(stateless.pipeline.chunks.dlq), a(stateful.storage.object_events.dlq)},
        "expire_pending": own | {a(stateful.tables.progress), a(stateful.database.secret)},
        "purge_undo": own | {a(stateful.database.secret)},
    }[name]
    statements = prod.stateless_template.policies_of_role(stateless.functions[name].role)
    known = set(prod.stateful_template.resources) | set(prod.stateless_template.resources)
    named = set().union(*(referenced_ids(s["Resource"], known) for s in statements))
    assert named == expected
    for statement in statements:
        if "*" in as_list(statement["Resource"]):
            assert set(as_list(statement["Action"])) <= UNSCOPED_ACTIONS


def test_browser_uploads_and_partner_drops_have_separate_limits(prod: Stage) -> None:
    if MAX_DROP_BYTES_ENV is None:
        pytest.skip("infra.topology has no MAX_DROP_BYTES yet (pipeline branch)")
    config = prod.stateless.config
    assert config.max_drop_bytes == 50 * 1024**3 and config.max_upload_bytes == 5 * 1024**3
    for service in prod.stateless.functions.values():
        env = prod.stateless_template.props(service.function)["Environment"]["Variables"]
        assert env[names.ENV_MAX_UPLOAD_BYTES] == str(config.max_upload_bytes)
        assert env[MAX_DROP_BYTES_ENV] == str(config.max_drop_bytes)
        assert env[MAX_DROP_BYTES_ENV] != env[names.ENV_MAX_UPLOAD_BYTES]


def test_every_function_reverts_and_purges_on_the_stages_one_undo_retention(prod: Stage) -> None:
    # The api refuses a revert after UNDO_RETENTION_DAYS and purge_undo drops the data after it: one number
    from product_importer.db.registry import DEFAULT_UNDO_RETENTION_DAYS
    from product_importer.settings import Settings

    days = prod.stateless.config.undo_retention_days
    assert days == DEFAULT_UNDO_RETENTION_DAYS == Settings.model_fields["undo_retention_days"].default == 30
    for service in prod.stateless.functions.values():
        env = prod.stateless_template.props(service.function)["Environment"]["Variables"]
        assert env[names.ENV_UNDO_RETENTION_DAYS] == str(days)


@pytest.mark.parametrize("name", ["dead_letter", "expire_pending", "purge_undo"])
def test_a_failing_lifecycle_function_raises_an_alarm_on_the_stages_topic(prod: Stage, name: str) -> None:
    # nobody waits on these functions: pending imports that never expire, or undo data never purged, showed
    # nowhere (only the splitter and the consumer had errors alarms)
    template = prod.stateless_template
    fn_id = template.logical_id(prod.stateless.functions[name].function)
    topic_id = template.logical_id(prod.stateless.observability.topic)
    (alarm,) = [a["Properties"] for a in template.of_type("AWS::CloudWatch::Alarm").values()
                if a["Properties"].get("MetricName") == "Errors" and fn_id in str(a["Properties"].get("Dimensions"))]
    assert alarm["AlarmName"] == f"ProductImporter-prod-{name.replace('_', '-')}-errors"
    assert alarm["Threshold"] == 1 and alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert topic_id in str(alarm["AlarmActions"])
