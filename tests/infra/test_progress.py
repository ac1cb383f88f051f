"""Progress + WebSocket: tables, stream, TTL, index, WebSocket routes, broadcaster, @connections grant."""

from __future__ import annotations

from typing import Any, cast

import pytest

from infra import topology
from tests.infra.conftest import Stage
from tests.infra.template_queries import as_list

PROGRESS = cast(dict[str, Any], topology.TABLES["progress"])
CONNECTIONS = cast(dict[str, Any], topology.TABLES["connections"])

pytestmark = pytest.mark.infra


def test_progress_table_is_on_demand_with_new_image_stream_and_pitr(prod: Stage) -> None:
    props = prod.stateful_template.props(prod.stateful.tables.progress)
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["StreamSpecification"] == {"StreamViewType": PROGRESS["stream"]}
    assert props["KeySchema"] == [{"AttributeName": PROGRESS["partition_key"], "KeyType": "HASH"}]
    (replica,) = props["Replicas"]
    assert replica["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    (index,) = props["GlobalSecondaryIndexes"]
    assert index["IndexName"] == "by_created"
    assert index["KeySchema"] == [
        {"AttributeName": "kind", "KeyType": "HASH"},
        {"AttributeName": "created_sort", "KeyType": "RANGE"},
    ]


def test_connections_table_has_ttl_and_the_by_import_index(prod: Stage) -> None:
    props = prod.stateful_template.props(prod.stateful.tables.connections)
    spec = CONNECTIONS
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["TimeToLiveSpecification"] == {"AttributeName": spec["ttl_attribute"], "Enabled": True}
    (index,) = props["GlobalSecondaryIndexes"]
    assert index["IndexName"] == "by_import"
    assert index["KeySchema"] == [{"AttributeName": "import_id", "KeyType": "HASH"}]


def test_websocket_api_has_the_topology_routes_on_the_websocket_function(prod: Stage) -> None:
    template = prod.stateless_template
    live = prod.stateless.live
    trigger = topology.FUNCTIONS["websocket"].trigger
    assert isinstance(trigger, topology.WebSocketTrigger)
    api_id = template.logical_id(live.api)
    routes = {
        r["Properties"]["RouteKey"]: r["Properties"]
        for r in template.of_type("AWS::ApiGatewayV2::Route").values()
        if r["Properties"]["ApiId"] == {"Ref": api_id}
    }
    assert set(routes) == set(trigger.routes)
    fn_id = template.logical_id(live.websocket.function)
    for route in routes.values():
        integration_id = route["Target"]["Fn::Join"][1][1]["Ref"]
        integration = template.resources[integration_id]["Properties"]
        assert fn_id in str(integration["IntegrationUri"])
    # the message routes answer a refused message ({"type": "error", "message"}): a route response each
    answered = {template.resources[r["Properties"]["RouteId"]["Ref"]]["Properties"]["RouteKey"]
                for r in template.of_type("AWS::ApiGatewayV2::RouteResponse").values()}
    assert answered == set(trigger.routes) - {"$connect", "$disconnect"}
    stage = template.props(live.stage)
    assert stage["StageName"] == "prod"
    assert stage["AutoDeploy"] is True
    assert stage["DefaultRouteSettings"]["ThrottlingRateLimit"] == prod.stateless.config.websocket_rate_limit
    assert "AccessLogSettings" in stage


def test_connect_needs_a_cognito_token_checked_by_the_connect_authorizer(prod: Stage) -> None:
    template = prod.stateless_template
    live = prod.stateless.live
    users = prod.stateless.api.users
    assert live.connect_authorizer is not None and users is not None and users.client is not None
    connect = template.props(live.routes["$connect"])
    assert connect["AuthorizationType"] == "CUSTOM"
    authorizer = template.resources[connect["AuthorizerId"]["Ref"]]["Properties"]
    assert authorizer["AuthorizerType"] == "REQUEST"
    assert authorizer["IdentitySource"] == ["route.request.querystring.token"]
    assert template.logical_id(live.connect_authorizer.function) in str(authorizer["AuthorizerUri"])
    # it verifies tokens of this pool's UI client, and needs nothing but its logs and traces
    env = template.props(live.connect_authorizer.function)["Environment"]["Variables"]
    assert env["AUTH_USER_POOL_ID"] == {"Ref": template.logical_id(users.pool)}
    assert env["AUTH_CLIENT_ID"] == {"Ref": template.logical_id(users.client)}
    actions = {a for s in template.policies_of_role(live.connect_authorizer.role) for a in as_list(s["Action"])}
    assert actions <= {"logs:CreateLogStream", "logs:PutLogEvents", "xray:PutTraceSegments",
                       "xray:PutTelemetryRecords"}
    # message routes cannot carry an authorizer (API Gateway authorizes WebSocket connections at $connect)
    for key, route in live.routes.items():
        if key != "$connect":
            assert template.props(route).get("AuthorizationType", "NONE") == "NONE", key


def test_dev_connects_without_sign_in(dev: Stage) -> None:
    assert dev.stateless.live.connect_authorizer is None
    assert dev.stateless_template.props(dev.stateless.live.routes["$connect"]).get("AuthorizationType", "NONE") == "NONE"


def test_broadcaster_reads_the_stream_with_bisect_retries_and_failure_destination(prod: Stage) -> None:
    template = prod.stateless_template
    live = prod.stateless.live
    trigger = topology.FUNCTIONS["broadcaster"].trigger
    assert isinstance(trigger, topology.StreamTrigger)
    fn_id = template.logical_id(live.broadcaster.function)
    (mapping,) = [
        m["Properties"]
        for m in template.of_type("AWS::Lambda::EventSourceMapping").values()
        if m["Properties"]["FunctionName"] == {"Ref": fn_id}
    ]
    progress_id = prod.stateful_template.logical_id(prod.stateful.tables.progress)
    assert progress_id in mapping["EventSourceArn"]["Fn::ImportValue"]
    assert mapping["BisectBatchOnFunctionError"] is True
    assert mapping["MaximumRetryAttempts"] == trigger.retry_attempts
    assert mapping["BatchSize"] == trigger.batch_size
    assert mapping["MaximumBatchingWindowInSeconds"] == trigger.max_batching_window_s
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["DestinationConfig"]["OnFailure"]["Destination"] == {
        "Fn::GetAtt": [template.logical_id(live.failed_batches), "Arn"]
    }


def test_manage_connections_is_granted_on_this_stage_post_only(prod: Stage) -> None:
    template = prod.stateless_template
    role = prod.stateless.functions["broadcaster"].role
    statements = [
        s for s in template.policies_of_role(role) if "execute-api:ManageConnections" in as_list(s["Action"])
    ]
    (statement,) = statements
    assert as_list(statement["Action"]) == ["execute-api:ManageConnections"]
    parts = statement["Resource"]["Fn::Join"][1]
    assert {"Ref": template.logical_id(prod.stateless.live.api)} in parts
    assert parts[-1] == "/prod/POST/@connections/*"


def test_no_other_function_may_manage_connections(prod: Stage) -> None:
    template = prod.stateless_template
    for name, service in prod.stateless.functions.items():
        if name == "broadcaster":
            continue
        actions = [a for s in template.policies_of_role(service.role) for a in as_list(s["Action"])]
        assert not any(a.startswith("execute-api:") for a in actions), name


@pytest.mark.parametrize(
    "table", ["progress", "connections"]
)
def test_tables_match_what_the_package_and_local_stack_create(prod: Stage, table: str) -> None:
    # Given the shape the local stack and tests create (from the same topology)
    local = topology.table_definition(table, "t")
    props = prod.stateful_template.props(getattr(prod.stateful.tables, table))

    # Then CDK creates the same keys and indexes (and the progress stream)
    assert props["KeySchema"] == local["KeySchema"]
    assert sorted(props["AttributeDefinitions"], key=str) == sorted(local["AttributeDefinitions"], key=str)
    deployed = {
        i["IndexName"]: (i["KeySchema"], i["Projection"]) for i in props.get("GlobalSecondaryIndexes", [])
    }
    expected = {
        i["IndexName"]: (i["KeySchema"], i["Projection"]) for i in local.get("GlobalSecondaryIndexes", [])
    }
    assert deployed == expected
    if "StreamSpecification" in local:
        assert props["StreamSpecification"] == {
            "StreamViewType": local["StreamSpecification"]["StreamViewType"]
        }
