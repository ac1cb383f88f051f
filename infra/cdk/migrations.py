"""Migrations on deploy: a CDK trigger sets up the database roles (as the master) and runs
``product_importer.db.migrate.apply_migrations`` (as the schema owner), through RDS Proxy, once per
deployment in which the function (its code, or the layer carrying the migrations) changed.

It runs in the stateless stack, after the stateful one, and before the functions that need the new
schema are updated (``execute_before``).
"""

from __future__ import annotations

from pathlib import Path

from aws_cdk import Duration, RemovalPolicy, triggers
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.cdk import names
from infra.cdk.config import StageConfig
from infra.cdk.functions import (
    ASSET_EXCLUDES,
    VPC_ACCESS_ACTIONS,
    FunctionNetwork,
    acknowledge_unscoped_actions,
    retention,
)
from infra.cdk.layer import ARCHITECTURE, RUNTIME

RUNNER_DIR = Path(__file__).parent / "migrations_runtime"


class Migrations(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        layer: lambda_.ILayerVersion,
        network: FunctionNetwork,
        database_env: dict[str, str],
        run_before: list[Construct],
    ) -> None:
        super().__init__(scope, construct_id)
        self.log_group = logs.LogGroup(
            self, "Logs", retention=retention(config.log_retention_days), removal_policy=RemovalPolicy.DESTROY
        )
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"{names.APP_SLUG} migrations trigger ({config.stage})",
        )
        self.log_group.grant_write(self.role)
        self.role.add_to_policy(iam.PolicyStatement(actions=VPC_ACCESS_ACTIONS, resources=["*"]))
        self.function = triggers.TriggerFunction(
            self,
            "Run",
            description="Applies product_importer migrations on deploy",
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            handler="handler.handler",
            code=lambda_.Code.from_asset(str(RUNNER_DIR), exclude=ASSET_EXCLUDES),
            layers=[layer],
            memory_size=512,
            timeout=Duration.minutes(10),
            role=self.role,
            log_group=self.log_group,
            tracing=lambda_.Tracing.ACTIVE,
            vpc=network.vpc,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED),
            security_groups=[network.security_group],
            environment={
                **database_env,  # the proxy endpoint and the master, owner and app secrets
                names.ENV_DB_NAME: names.DATABASE_NAME,
                names.ENV_POWERTOOLS_SERVICE_NAME: "migrations",
                names.ENV_LOG_LEVEL: config.log_level,
            },
            execute_before=run_before,
            execute_on_handler_change=True,
        )
        acknowledge_unscoped_actions(
            self.role,
            [
                "X-Ray PutTraceSegments/PutTelemetryRecords",
                "the EC2 network-interface actions Lambda needs to attach to the VPC",
            ],
        )
