"""A Lambda function built from its ``infra.topology.FunctionSpec``, and its event sources.

Every function: arm64, the newest Python runtime, the shared layer, X-Ray active tracing, Powertools
environment, its own log group with retention, and its own role that starts empty (no AWS managed
policies): whatever it may touch is granted explicitly in ``infra.cdk.permissions``.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from cdk_nag import NagSuppressions
from constructs import Construct

from infra import topology
from infra.cdk import names
from infra.cdk.config import REPO_ROOT, StageConfig
from infra.cdk.layer import ARCHITECTURE, RUNTIME

FUNCTIONS_DIR = REPO_ROOT / "functions"
ASSET_EXCLUDES = ["__pycache__", "*.pyc", "tests", ".mypy_cache"]

# Lambda needs these to attach a function to the VPC; EC2 does not scope them to resources.
VPC_ACCESS_ACTIONS = [
    "ec2:CreateNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSubnets",
    "ec2:DeleteNetworkInterface",
    "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
]


@dataclass(frozen=True)
class FunctionNetwork:
    """Where functions that talk to the database run."""

    vpc: ec2.IVpc
    security_group: ec2.ISecurityGroup


_RETENTION = {
    1: logs.RetentionDays.ONE_DAY,
    3: logs.RetentionDays.THREE_DAYS,
    5: logs.RetentionDays.FIVE_DAYS,
    7: logs.RetentionDays.ONE_WEEK,
    14: logs.RetentionDays.TWO_WEEKS,
    30: logs.RetentionDays.ONE_MONTH,
    60: logs.RetentionDays.TWO_MONTHS,
    90: logs.RetentionDays.THREE_MONTHS,
    180: logs.RetentionDays.SIX_MONTHS,
    365: logs.RetentionDays.ONE_YEAR,
    731: logs.RetentionDays.TWO_YEARS,
}


def retention(days: int) -> logs.RetentionDays:
    """The shortest CloudWatch Logs retention that keeps logs at least ``days`` days."""
    for allowed in sorted(_RETENTION):
        if allowed >= days:
            return _RETENTION[allowed]
    return _RETENTION[max(_RETENTION)]


MAX_DROP_BYTES_ENV: str | None = getattr(topology, "ENV_MAX_DROP_BYTES", None)


def base_environment(config: StageConfig, spec: topology.FunctionSpec) -> dict[str, str]:
    """What every function knows before any resource exists (resources are added by the wiring)."""
    return {
        names.ENV_POWERTOOLS_SERVICE_NAME: spec.name,
        names.ENV_POWERTOOLS_METRICS_NAMESPACE: names.METRICS_NAMESPACE,
        names.ENV_LOG_LEVEL: config.log_level,
        names.ENV_CHUNK_ROWS: str(config.chunk_rows),
        names.ENV_MAX_UPLOAD_BYTES: str(config.max_upload_bytes),
        # the api refuses a revert after it and purge_undo drops the undo data after it: one number
        names.ENV_UNDO_RETENTION_DAYS: str(config.undo_retention_days),
        # drops have their own limit where the pipeline reads one (infra.topology.ENV_MAX_DROP_BYTES)
        **({MAX_DROP_BYTES_ENV: str(config.max_drop_bytes)} if MAX_DROP_BYTES_ENV else {}),
        # The consumer marks an import failed on the last delivery before the DLQ: same number as the queue.
        names.ENV_CHUNK_MAX_RECEIVES: str(topology.QUEUES["chunks"].max_receive_count),
        names.ENV_OBJECT_EVENTS_MAX_RECEIVES: str(topology.QUEUES["object-events"].max_receive_count),
        **spec.extra_env,
    }


def acknowledge_unscoped_actions(role: iam.Role, actions: list[str]) -> None:
    """AwsSolutions-IAM5 ``Resource::*``: only for actions that AWS does not scope to resources."""
    NagSuppressions.add_resource_suppressions(
        role,
        [
            {
                "id": "AwsSolutions-IAM5",
                "reason": "Resource '*' only for actions without resource-level permissions: "
                + "; ".join(actions),
                "appliesTo": ["Resource::*"],
            }
        ],
        apply_to_children=True,
    )


def function_code(name: str) -> lambda_.Code:
    folder = FUNCTIONS_DIR / name
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder} is missing: every function in infra.topology needs its folder")
    return lambda_.Code.from_asset(str(folder), exclude=ASSET_EXCLUDES)


class ServiceFunction(Construct):
    """One function of the topology, with its role and log group."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        spec: topology.FunctionSpec,
        layer: lambda_.ILayerVersion,
        config: StageConfig,
        network: FunctionNetwork | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.spec = spec
        self.log_group = logs.LogGroup(
            self,
            "Logs",
            retention=retention(config.log_retention_days),
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"{names.APP_SLUG} {spec.name} function ({config.stage})",
        )
        self.log_group.grant_write(self.role)

        in_vpc = spec.needs_database or spec.needs_internet
        if in_vpc and network is None:
            raise ValueError(f"function {spec.name} needs the database network")
        if in_vpc:
            self.role.add_to_policy(iam.PolicyStatement(actions=VPC_ACCESS_ACTIONS, resources=["*"]))
        subnet_type = (
            ec2.SubnetType.PRIVATE_WITH_EGRESS if spec.needs_internet else ec2.SubnetType.PRIVATE_ISOLATED
        )

        self.function = lambda_.Function(
            self,
            "Function",
            description=spec.description,
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            handler=spec.lambda_handler,
            code=function_code(spec.name),
            layers=[layer],
            memory_size=spec.memory_mb,
            timeout=Duration.seconds(spec.timeout_s),
            # Reserved where the stage says so (prod): the API and the webhooks keep capacity whatever the
            # pipeline's fan-out takes, and cannot take more than that themselves.
            reserved_concurrent_executions=spec.reserved_concurrency if config.reserved_concurrency else None,
            role=self.role,
            log_group=self.log_group,
            tracing=lambda_.Tracing.ACTIVE,
            environment=base_environment(config, spec),
            vpc=network.vpc if in_vpc and network else None,
            vpc_subnets=ec2.SubnetSelection(subnet_type=subnet_type) if in_vpc else None,
            security_groups=[network.security_group] if in_vpc and network else None,
        )

        unscoped = ["X-Ray PutTraceSegments/PutTelemetryRecords"]
        if in_vpc:
            unscoped.append("the EC2 network-interface actions Lambda needs to attach to the VPC")
        if isinstance(spec.trigger, topology.StreamTrigger):
            unscoped.append("dynamodb:ListStreams (stream event source)")
        acknowledge_unscoped_actions(self.role, unscoped)

    def add_environment(self, values: dict[str, str]) -> None:
        for key, value in values.items():
            self.function.add_environment(key, value)


def sqs_event_source(trigger: topology.SqsTrigger, queue: sqs.IQueue) -> sources.SqsEventSource:
    """SQS → Lambda exactly as the topology says: batch, window, partial failures, max concurrency."""
    return sources.SqsEventSource(
        queue,
        batch_size=trigger.batch_size,
        max_batching_window=(
            Duration.seconds(trigger.max_batching_window_s) if trigger.max_batching_window_s else None
        ),
        report_batch_item_failures=trigger.report_batch_item_failures,
        max_concurrency=trigger.max_concurrency,
    )


def stream_event_source(
    trigger: topology.StreamTrigger, table: dynamodb.ITableV2, on_failure: sqs.IQueue
) -> sources.DynamoEventSource:
    """DynamoDB stream → Lambda: bisect on error, bounded retries, failed batches kept in a queue."""
    return sources.DynamoEventSource(
        table,
        starting_position=lambda_.StartingPosition.LATEST,
        batch_size=trigger.batch_size,
        max_batching_window=Duration.seconds(trigger.max_batching_window_s),
        retry_attempts=trigger.retry_attempts,
        bisect_batch_on_error=trigger.bisect_on_error,
        report_batch_item_failures=trigger.report_batch_item_failures,
        on_failure=sources.SqsDlq(on_failure),
    )
