"""Observability: one CloudWatch dashboard for the pipeline and an encrypted SNS topic for every alarm.

Custom metrics come from the handlers through Powertools Metrics (namespace/service in ``names``);
everything else is AWS's own metrics, so the dashboard shows something even before custom metrics flow.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_rds as rds
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.cdk import names
from infra.cdk.config import StageConfig

MINUTE = Duration.minutes(1)
FIVE = Duration.minutes(5)
WIDTH = 8  # three widgets per dashboard row (24 columns)


@dataclass(frozen=True)
class Watched:
    """What the dashboard looks at."""

    functions: dict[str, lambda_.IFunction]
    chunks: sqs.IQueue
    dead_letter_queues: dict[str, sqs.IQueue]
    cluster: rds.IDatabaseCluster
    proxy: rds.IDatabaseProxy
    http_api: apigwv2.HttpApi
    websocket_api: apigwv2.WebSocketApi
    websocket_stage: str


def app_metric(metric: tuple[str, str], statistic: str = cloudwatch.Stats.SUM) -> cloudwatch.Metric:
    """A Powertools metric: namespace ``METRICS_NAMESPACE``, dimension ``service=<function>``."""
    service, name = metric
    return cloudwatch.Metric(
        namespace=names.METRICS_NAMESPACE,
        metric_name=name,
        dimensions_map={"service": service},
        statistic=statistic,
        period=MINUTE,
        label=name,
    )


def rds_metric(
    name: str, dimensions: dict[str, str], statistic: str = cloudwatch.Stats.AVERAGE
) -> cloudwatch.Metric:
    return cloudwatch.Metric(
        namespace="AWS/RDS", metric_name=name, dimensions_map=dimensions, statistic=statistic, period=MINUTE
    )


def websocket_metric(
    api: apigwv2.WebSocketApi, stage: str, name: str, period: Duration = MINUTE
) -> cloudwatch.Metric:
    return cloudwatch.Metric(
        namespace="AWS/ApiGateway",
        metric_name=name,
        dimensions_map={"ApiId": api.api_id, "Stage": stage},
        statistic=cloudwatch.Stats.SUM,
        period=period,
    )


def graph(
    title: str, left: list[cloudwatch.IMetric], right: list[cloudwatch.IMetric] | None = None
) -> cloudwatch.GraphWidget:
    return cloudwatch.GraphWidget(title=title, left=left, right=right or [], width=WIDTH, height=6)


class Observability(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        watched: Watched,
        alarms: list[cloudwatch.Alarm],
    ) -> None:
        super().__init__(scope, construct_id)
        stage_names = names.StageNames(config.stage)
        w = watched

        # CloudWatch can publish to an encrypted topic only with a customer managed key it may use.
        key = kms.Key(
            self,
            "AlarmsKey",
            description=f"{names.APP} {config.stage} alarm topic",
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.DESTROY,
        )
        key.grant(iam.ServicePrincipal("cloudwatch.amazonaws.com"), "kms:Decrypt", "kms:GenerateDataKey*")
        self.topic = sns.Topic(self, "Alarms", master_key=key, enforce_ssl=True)
        if config.alarm_email:
            self.topic.add_subscription(subscriptions.EmailSubscription(config.alarm_email))

        cluster_dims = {"DBClusterIdentifier": w.cluster.cluster_identifier}
        self.alarms = [
            *alarms,
            # The dead_letter function drains the DLQs within seconds (it ends the import failed), so their
            # depth alarms rarely see a message: what it handled is the signal.
            cloudwatch.Alarm(
                self,
                "ChunksDeadLettered",
                alarm_name=stage_names.alarm("chunks-dead-lettered"),
                alarm_description="A chunk or a file failed every retry and its import was ended failed "
                "(the dead_letter function's ChunksDeadLettered): look at the consumer's or splitter's errors.",
                metric=app_metric(names.METRIC_CHUNKS_DEAD_LETTERED).with_(period=FIVE),
                threshold=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                evaluation_periods=1,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            ),
            cloudwatch.Alarm(
                self,
                "AuroraAtMaxCapacity",
                alarm_name=stage_names.alarm("aurora-capacity"),
                alarm_description="Aurora has run at >90% of its maximum ACUs for 15 minutes: raise "
                "auroraMaxAcu or lower the consumer's max concurrency (docs/capacity.md).",
                metric=rds_metric("ACUUtilization", cluster_dims),
                threshold=90,
                evaluation_periods=15,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            ),
            cloudwatch.Alarm(
                self,
                "WebSocketErrors",
                alarm_name=stage_names.alarm("websocket-errors"),
                alarm_description="WebSocket integration/execution errors: browsers stop seeing progress.",
                metric=cloudwatch.MathExpression(
                    expression="execution + integration",
                    using_metrics={
                        "execution": websocket_metric(
                            w.websocket_api, w.websocket_stage, "ExecutionError", FIVE
                        ),
                        "integration": websocket_metric(
                            w.websocket_api, w.websocket_stage, "IntegrationError", FIVE
                        ),
                    },
                    period=FIVE,
                ),
                threshold=10,
                evaluation_periods=1,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            ),
        ]
        for alarm in self.alarms:
            alarm.add_alarm_action(actions.SnsAction(self.topic))

        consumer = w.functions["consumer"]
        chunks_deleted = w.chunks.metric_number_of_messages_deleted(
            period=MINUTE, statistic=cloudwatch.Stats.SUM
        )
        self.dashboard = cloudwatch.Dashboard(
            self,
            "Dashboard",
            dashboard_name=stage_names.dashboard,
            default_interval=Duration.hours(3),
            widgets=[
                [
                    graph(
                        "Import throughput (rows / minute)",
                        [app_metric(names.METRIC_ROWS_IMPORTED)],
                        [app_metric(names.METRIC_CHUNKS_PROCESSED), chunks_deleted],
                    ),
                    graph(
                        "Row errors and failures",
                        [app_metric(names.METRIC_ROW_ERRORS)],
                        [
                            app_metric(names.METRIC_IMPORTS_FAILED),
                            app_metric(names.METRIC_IMPORTS_FAILED_DEAD_LETTER),
                            app_metric(names.METRIC_CHUNKS_DEAD_LETTERED),
                            app_metric(names.METRIC_WEBHOOK_ATTEMPTS_FAILED),
                        ],
                    ),
                    graph(
                        "Chunk latency (consumer duration, backlog age)",
                        [
                            consumer.metric_duration(period=MINUTE, statistic="p50"),
                            consumer.metric_duration(period=MINUTE, statistic="p95"),
                        ],
                        [
                            w.chunks.metric_approximate_age_of_oldest_message(
                                period=MINUTE, statistic="Maximum"
                            )
                        ],
                    ),
                ],
                [
                    graph(
                        "Queues: chunk backlog and dead letters",
                        [
                            w.chunks.metric_approximate_number_of_messages_visible(
                                period=MINUTE, statistic="Maximum"
                            )
                        ],
                        [
                            dlq.metric_approximate_number_of_messages_visible(
                                period=MINUTE, statistic="Maximum", label=f"DLQ {name}"
                            )
                            for name, dlq in sorted(w.dead_letter_queues.items())
                        ],
                    ),
                    graph(
                        "Aurora capacity (ACU) and connections",
                        [
                            rds_metric("ServerlessDatabaseCapacity", cluster_dims),
                            rds_metric("ACUUtilization", cluster_dims),
                        ],
                        [
                            rds_metric("DatabaseConnections", cluster_dims),
                            rds_metric("ClientConnections", {"ProxyName": w.proxy.db_proxy_name}, "Sum"),
                        ],
                    ),
                    graph(
                        "Lambda concurrency and errors",
                        [
                            fn.metric("ConcurrentExecutions", period=MINUTE, statistic="Maximum", label=name)
                            for name, fn in sorted(w.functions.items())
                        ],
                        [
                            fn.metric_errors(period=MINUTE, statistic="Sum", label=f"{name} errors")
                            for name, fn in sorted(w.functions.items())
                        ],
                    ),
                ],
                [
                    graph(
                        "WebSocket errors and messages",
                        [
                            websocket_metric(w.websocket_api, w.websocket_stage, metric)
                            for metric in ("ExecutionError", "IntegrationError", "ClientError")
                        ],
                        [
                            websocket_metric(w.websocket_api, w.websocket_stage, "MessageCount"),
                            app_metric(names.METRIC_MESSAGES_SENT),
                        ],
                    ),
                    graph(
                        "HTTP API",
                        [
                            w.http_api.metric_client_error(period=MINUTE, statistic="Sum"),
                            w.http_api.metric_server_error(period=MINUTE, statistic="Sum"),
                        ],
                        [w.http_api.metric_latency(period=MINUTE, statistic="p95")],
                    ),
                    cloudwatch.AlarmStatusWidget(title="Alarms", alarms=self.alarms, width=WIDTH, height=6),
                ],
            ],
        )
