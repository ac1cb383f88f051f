"""Pipeline and functions: everything the topology says, nothing else."""

from __future__ import annotations

import pytest

from infra import topology
from infra.cdk import names
from tests.infra.conftest import Stage

pytestmark = pytest.mark.infra


@pytest.mark.parametrize("name", sorted(topology.FUNCTIONS))
def test_each_function_matches_its_topology_spec(prod: Stage, name: str) -> None:
    # Given a function of the topology
    spec = topology.FUNCTIONS[name]
    template = prod.stateless_template
    service = prod.stateless.functions[name]
    props = template.props(service.function)

    # Then memory, timeout, handler and runtime come from the spec, on arm64 with X-Ray and the layer
    assert props["MemorySize"] == spec.memory_mb
    assert props["Timeout"] == spec.timeout_s
    assert props["Handler"] == spec.lambda_handler == "handler.handler"
    assert props["Architectures"] == ["arm64"]
    assert props["Runtime"] == "python3.14"
    assert props["TracingConfig"] == {"Mode": "Active"}
    assert props["Layers"] == [{"Ref": template.logical_id(prod.stateless.shared_layer.layer)}]
    env = props["Environment"]["Variables"]
    assert env[names.ENV_POWERTOOLS_SERVICE_NAME] == name  # the handlers' Powertools service
    assert env[names.ENV_POWERTOOLS_METRICS_NAMESPACE] == names.METRICS_NAMESPACE
    # And it is in the VPC exactly when it talks to the database, in subnets with a NAT when it must
    assert ("VpcConfig" in props) == (spec.needs_database or spec.needs_internet)


def _mapping_for(stage: Stage, name: str) -> dict:
    template = stage.stateless_template
    fn_id = template.logical_id(stage.stateless.functions[name].function)
    (mapping,) = [
        m["Properties"]
        for m in template.of_type("AWS::Lambda::EventSourceMapping").values()
        if m["Properties"]["FunctionName"] == {"Ref": fn_id}
    ]
    return mapping


@pytest.mark.parametrize(
    "name", sorted(n for n, s in topology.FUNCTIONS.items() if isinstance(s.trigger, topology.SqsTrigger))
)
def test_sqs_event_sources_follow_the_topology(prod: Stage, name: str) -> None:
    trigger = topology.FUNCTIONS[name].trigger
    assert isinstance(trigger, topology.SqsTrigger)
    mapping = _mapping_for(prod, name)
    assert mapping["BatchSize"] == trigger.batch_size
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping.get("MaximumBatchingWindowInSeconds", 0) == trigger.max_batching_window_s
    if trigger.max_concurrency is None:
        assert "ScalingConfig" not in mapping
    else:
        assert mapping["ScalingConfig"] == {"MaximumConcurrency": trigger.max_concurrency}


def test_consumer_concurrency_is_capped_to_protect_aurora(prod: Stage) -> None:
    assert _mapping_for(prod, "consumer")["ScalingConfig"]["MaximumConcurrency"] == 20


def test_splitter_reads_the_object_events_queue_of_the_stateful_stack(prod: Stage) -> None:
    source = _mapping_for(prod, "splitter")["EventSourceArn"]
    queue_id = prod.stateful_template.logical_id(prod.stateful.storage.object_events.queue)
    assert queue_id in source["Fn::ImportValue"]


@pytest.mark.parametrize("queue_name", ["chunks", "webhooks"])
def test_queues_have_dlq_redrive_and_timeouts_from_topology(prod: Stage, queue_name: str) -> None:
    spec = topology.QUEUES[queue_name]
    owner = prod.stateless.pipeline.chunks if queue_name == "chunks" else prod.stateless.webhooks.deliveries
    template = prod.stateless_template
    props = template.props(owner.queue)
    assert props["VisibilityTimeout"] == spec.visibility_timeout_s
    assert props["MessageRetentionPeriod"] == spec.retention_days * 86400
    assert props["RedrivePolicy"]["maxReceiveCount"] == spec.max_receive_count
    assert props["RedrivePolicy"]["deadLetterTargetArn"] == {
        "Fn::GetAtt": [template.logical_id(owner.dlq), "Arn"]
    }


def test_chunks_dlq_depth_alarm_fires_on_one_message(prod: Stage) -> None:
    template = prod.stateless_template
    alarms = {
        a["Properties"]["AlarmName"]: a["Properties"]
        for a in template.of_type("AWS::CloudWatch::Alarm").values()
    }
    alarm = alarms["ProductImporter-prod-chunks-dlq"]
    assert alarm["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert alarm["Threshold"] == 0
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
    assert alarm["Dimensions"] == [
        {
            "Name": "QueueName",
            "Value": {"Fn::GetAtt": [template.logical_id(prod.stateless.pipeline.chunks.dlq), "QueueName"]},
        }
    ]


def test_one_layer_version_is_shared_by_every_function(prod: Stage) -> None:
    template = prod.stateless_template
    layer_id = template.logical_id(prod.stateless.shared_layer.layer)
    layer = template.resources[layer_id]["Properties"]
    assert layer["CompatibleArchitectures"] == ["arm64"]
    assert layer["CompatibleRuntimes"] == ["python3.14"]
    users = [
        fn_id
        for fn_id, fn in template.of_type("AWS::Lambda::Function").items()
        if {"Ref": layer_id} in fn["Properties"].get("Layers", [])
    ]
    # + the migrations trigger, + the WebSocket $connect authorizer (prod has sign-in)
    assert len(users) == len(topology.FUNCTIONS) + 2


def test_only_functions_that_call_out_run_in_subnets_with_a_nat_route(prod: Stage) -> None:
    template = prod.stateful_template
    vpc = prod.stateful.database.vpc
    egress = {template.logical_id(s.node.default_child) for s in vpc.private_subnets}
    isolated = {template.logical_id(s.node.default_child) for s in vpc.isolated_subnets}
    for name, spec in topology.FUNCTIONS.items():
        props = prod.stateless_template.props(prod.stateless.functions[name].function)
        if "VpcConfig" not in props:
            continue
        subnets = {s["Fn::ImportValue"] for s in props["VpcConfig"]["SubnetIds"]}
        wanted = egress if spec.needs_internet else isolated
        assert all(any(i in export for i in wanted) for export in subnets), name
