"""Progress + WebSocket: the two DynamoDB tables (stateful) and the live push (stateless).

``ProgressTables``: ``progress`` (on-demand, stream NEW_IMAGE, PITR) and ``connections`` (TTL, GSI
``by_import`` so the broadcaster finds an import's subscribers with one Query).
``LiveProgress``: the WebSocket API and stage with the ``websocket`` function's routes, and the
``broadcaster`` on the progress stream (bisect on error, bounded retries, failed batches to a queue).
Where sign-in is on, ``$connect`` sits behind the ``connect_authorizer`` function (a Lambda REQUEST
authorizer reading ``?token=``): only a valid Cognito access token of the UI's client, of a user in a
group, opens a connection, and the ``websocket`` function records that group for ``subscribe``.
"""

from __future__ import annotations

from typing import Any, cast

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from cdk_nag import NagSuppressions
from constructs import Construct

from infra import topology
from infra.cdk import names
from infra.cdk.api import Users
from infra.cdk.api_logs import WEBSOCKET_FIELDS, ApiGatewayAccountLogging, JsonAccessLogs, access_log_group
from infra.cdk.config import StageConfig
from infra.cdk.functions import ServiceFunction, retention, stream_event_source
from infra.cdk.queues import DLQ_RETENTION, dlq_depth_alarm, encrypted_queue


def _key(name: str) -> dynamodb.Attribute:
    return dynamodb.Attribute(name=name, type=dynamodb.AttributeType.STRING)


def _indexes(table: dict[str, Any]) -> list[dynamodb.GlobalSecondaryIndexPropsV2]:
    """The table's GSIs exactly as ``infra.topology.TABLES`` declares them."""
    return [
        dynamodb.GlobalSecondaryIndexPropsV2(
            index_name=name,
            partition_key=_key(index["partition_key"]),
            sort_key=_key(index["sort_key"]) if "sort_key" in index else None,
            projection_type=dynamodb.ProjectionType[index.get("projection", "ALL")],
        )
        for name, index in table.get("indexes", {}).items()
    ]


class ProgressTables(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig) -> None:
        super().__init__(scope, construct_id)
        progress = cast(dict[str, Any], topology.TABLES["progress"])
        connections = cast(dict[str, Any], topology.TABLES["connections"])

        self.progress = dynamodb.TableV2(
            self,
            "Progress",
            partition_key=_key(progress["partition_key"]),
            billing=dynamodb.Billing.on_demand(),
            dynamo_stream=dynamodb.StreamViewType[progress["stream"]],
            global_secondary_indexes=_indexes(progress),
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            deletion_protection=config.retain_data,
            removal_policy=RemovalPolicy.RETAIN if config.retain_data else RemovalPolicy.DESTROY,
        )
        self.connections = dynamodb.TableV2(
            self,
            "Connections",
            partition_key=_key(connections["partition_key"]),
            billing=dynamodb.Billing.on_demand(),
            time_to_live_attribute=connections["ttl_attribute"],
            global_secondary_indexes=_indexes(connections),
            removal_policy=RemovalPolicy.DESTROY,  # live connection ids only, expired by TTL
        )
        NagSuppressions.add_resource_suppressions(
            self.connections,
            [
                {
                    "id": "AwsSolutions-DDB3",
                    "reason": "Holds only live WebSocket connection ids that expire by TTL within hours; "
                    "a restore would bring back dead connections, so PITR has nothing to protect.",
                }
            ],
        )


class LiveProgress(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        tables: ProgressTables,
        layer: lambda_.ILayerVersion,
        users: Users | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        stage_names = names.StageNames(config.stage)
        websocket_spec = topology.FUNCTIONS["websocket"]
        broadcaster_spec = topology.FUNCTIONS["broadcaster"]
        assert isinstance(websocket_spec.trigger, topology.WebSocketTrigger)
        assert isinstance(broadcaster_spec.trigger, topology.StreamTrigger)

        self.websocket = ServiceFunction(self, "WebSocketFn", spec=websocket_spec, layer=layer, config=config)
        self.api = apigwv2.WebSocketApi(
            self,
            "Api",
            description=f"{names.APP} live import progress ({config.stage})",
            route_selection_expression="$request.body.action",
        )
        self.connect_authorizer: ServiceFunction | None = None
        connect_authorizer: authorizers.WebSocketLambdaAuthorizer | None = None
        if users:
            spec = topology.CONNECT_AUTHORIZER
            assert isinstance(spec.trigger, topology.ConnectAuthorizerTrigger)
            self.connect_authorizer = ServiceFunction(
                self, "ConnectAuthorizerFn", spec=spec, layer=layer, config=config
            )
            sign_in = {
                names.ENV_AUTH_USER_POOL_ID: users.pool.user_pool_id,
                names.ENV_AUTH_CLIENT_ID: users.environment()[names.ENV_AUTH_CLIENT_ID],
            }
            self.connect_authorizer.add_environment(sign_in)
            # With sign-in on, $connect records the caller's group and subscribe needs one (CONTRACT §8).
            self.websocket.add_environment(sign_in)
            connect_authorizer = authorizers.WebSocketLambdaAuthorizer(
                "ConnectAuthorizer",
                self.connect_authorizer.function,
                identity_source=[f"route.request.querystring.{spec.trigger.query_parameter}"],
            )

        integration_ids = {"$connect": "Connect", "$disconnect": "Disconnect", "$default": "Default"}
        self.routes: dict[str, apigwv2.WebSocketRoute] = {}
        for route_key in websocket_spec.trigger.routes:
            label = integration_ids.get(route_key, route_key.title().replace("-", ""))
            self.routes[route_key] = self.api.add_route(
                route_key,
                integration=integrations.WebSocketLambdaIntegration(
                    f"{label}Integration", self.websocket.function
                ),
                authorizer=connect_authorizer if route_key == "$connect" else None,
                # a refused message gets the handler's {"type": "error", "message"} back (a route response)
                return_response=route_key not in ("$connect", "$disconnect"),
            )
        self._acknowledge_unauthorized_routes(config)

        if config.manage_api_gateway_account:
            account_logging = ApiGatewayAccountLogging(self, "AccountLogging")
        self.stage = apigwv2.WebSocketStage(
            self,
            "Stage",
            web_socket_api=self.api,
            stage_name=stage_names.websocket_stage,
            auto_deploy=True,
            throttle=apigwv2.ThrottleSettings(
                rate_limit=config.websocket_rate_limit, burst_limit=config.websocket_burst_limit
            ),
            access_log_settings=JsonAccessLogs(
                access_log_group(self, "AccessLogs", retention(config.log_retention_days)), WEBSOCKET_FIELDS
            ),
        )
        if config.manage_api_gateway_account:
            self.stage.node.add_dependency(account_logging)

        # Stream batches that still fail after bisecting and retrying are kept here for inspection.
        self.failed_batches = encrypted_queue(self, "FailedBatches", retention_period=DLQ_RETENTION)
        NagSuppressions.add_resource_suppressions(
            self.failed_batches,
            [
                {
                    "id": "AwsSolutions-SQS3",
                    "reason": "This queue is itself the on-failure destination of the progress-stream "
                    "event source mapping (it only holds batch metadata); it has no consumer to redrive.",
                }
            ],
        )
        self.broadcaster = ServiceFunction(
            self, "BroadcasterFn", spec=broadcaster_spec, layer=layer, config=config
        )
        self.broadcaster.function.add_event_source(
            stream_event_source(broadcaster_spec.trigger, tables.progress, self.failed_batches)
        )

        self.alarms: list[cloudwatch.Alarm] = [
            dlq_depth_alarm(
                self,
                "FailedBatchesDepth",
                self.failed_batches,
                stage_names.alarm("broadcaster-failed-batches"),
                "broadcaster on-failure queue",
            ),
            cloudwatch.Alarm(
                self,
                "StreamLag",
                alarm_name=stage_names.alarm("broadcaster-iterator-age"),
                alarm_description="Progress updates reach browsers late: the broadcaster lags the stream.",
                metric=self.broadcaster.function.metric(
                    "IteratorAge", statistic=cloudwatch.Stats.MAXIMUM, period=Duration.minutes(1)
                ),
                threshold=60_000,
                evaluation_periods=5,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            ),
        ]

    def _acknowledge_unauthorized_routes(self, config: StageConfig) -> None:
        for route_key, route in self.routes.items():
            if route_key == "$connect" and self.connect_authorizer:
                continue
            if route_key == "$connect":
                reason = (
                    f"Stage {config.stage} runs with authEnabled=false (disposable dev stage): no user pool, "
                    "so no token to check; stages with sign-in put the Cognito connect_authorizer here."
                )
            else:
                reason = (
                    "API Gateway WebSocket APIs authorize only $connect; this route carries messages on "
                    "a connection that $connect already admitted, so it cannot have an authorizer of its own."
                )
            NagSuppressions.add_resource_suppressions(
                route, [{"id": "AwsSolutions-APIG4", "reason": reason}], apply_to_children=True
            )

    @property
    def websocket_url(self) -> str:
        return self.stage.url

    @property
    def management_url(self) -> str:
        return self.stage.callback_url
