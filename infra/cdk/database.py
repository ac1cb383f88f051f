"""Database: the VPC, Aurora PostgreSQL Serverless v2, three secrets (rotated) and RDS Proxy in front.

Three database users, each with its own secret (``product_importer.db.roles``): the cluster's master
(read only by the migrations trigger, to create the other two), the schema ``owner`` (migrations) and
``app`` (every function: DML only). Everything, migrations included, goes through RDS Proxy with TLS
required by the proxy and verified by the client (``verify-full``).

Subnets: *isolated* for Aurora, the proxy, the endpoints and the functions that only talk to AWS APIs
(reached through VPC endpoints); *private with egress* (NAT) only for the webhooks function, which must
reach partner URLs; *public* only holds the NAT gateway(s).
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_logs as logs
from aws_cdk import aws_rds as rds
from aws_cdk import aws_secretsmanager as secretsmanager
from cdk_nag import NagSuppressions
from constructs import Construct

from infra.cdk import names
from infra.cdk.config import StageConfig
from infra.cdk.functions import FunctionNetwork, retention

# A current major version; minor versions are upgraded automatically in the maintenance window.
ENGINE_VERSION = rds.AuroraPostgresEngineVersion.VER_17_5
POSTGRES_PORT = 5432
ISOLATED = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)


class Database(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig) -> None:
        super().__init__(scope, construct_id)
        stage_names = names.StageNames(config.stage)
        log_retention = retention(config.log_retention_days)

        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            availability_zones=list(config.availability_zones),
            nat_gateways=config.nat_gateways,
            subnet_configuration=[
                ec2.SubnetConfiguration(name="public", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=24),
                ec2.SubnetConfiguration(
                    name="egress", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS, cidr_mask=22
                ),
                ec2.SubnetConfiguration(
                    name="isolated", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=22
                ),
            ],
            flow_logs={
                "all": ec2.FlowLogOptions(
                    destination=ec2.FlowLogDestination.to_cloud_watch_logs(
                        logs.LogGroup(
                            self, "FlowLogs", retention=log_retention, removal_policy=RemovalPolicy.DESTROY
                        )
                    ),
                    traffic_type=ec2.FlowLogTrafficType.REJECT,
                )
            },
        )
        # What the functions in isolated subnets call: S3 and DynamoDB (gateway endpoints, free),
        # SQS and Secrets Manager (interface endpoints, private DNS).
        self.vpc.add_gateway_endpoint("S3", service=ec2.GatewayVpcEndpointAwsService.S3)
        self.vpc.add_gateway_endpoint("DynamoDb", service=ec2.GatewayVpcEndpointAwsService.DYNAMODB)
        self.functions_sg = ec2.SecurityGroup(
            self, "FunctionsSg", vpc=self.vpc, description="Lambda functions that use the database"
        )
        self.migrations_sg = ec2.SecurityGroup(
            self, "MigrationsSg", vpc=self.vpc, description="Deploy-time migration runner (through the proxy)"
        )
        endpoints_sg = ec2.SecurityGroup(
            self,
            "EndpointsSg",
            vpc=self.vpc,
            description="Interface endpoints: HTTPS from our functions only",
            allow_all_outbound=False,
        )
        for client in (self.functions_sg, self.migrations_sg):
            endpoints_sg.add_ingress_rule(client, ec2.Port.tcp(443), "AWS APIs from functions")
        self.sqs_endpoint = self.vpc.add_interface_endpoint(
            "Sqs",
            service=ec2.InterfaceVpcEndpointAwsService.SQS,
            subnets=ISOLATED,
            security_groups=[endpoints_sg],
            open=False,
        )
        self.secrets_endpoint = self.vpc.add_interface_endpoint(
            "SecretsManager",
            service=ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
            subnets=ISOLATED,
            security_groups=[endpoints_sg],
            open=False,
        )
        cluster_sg = ec2.SecurityGroup(
            self, "ClusterSg", vpc=self.vpc, description="Aurora cluster", allow_all_outbound=False
        )
        proxy_sg = ec2.SecurityGroup(
            self, "ProxySg", vpc=self.vpc, description="RDS Proxy", allow_all_outbound=False
        )

        self.cluster_log_group = logs.LogGroup(
            self,
            "PostgresLogs",
            log_group_name=f"/aws/rds/cluster/{stage_names.db_cluster}/postgresql",
            retention=log_retention,
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.cluster = rds.DatabaseCluster(
            self,
            "Aurora",
            cluster_identifier=stage_names.db_cluster,
            engine=rds.DatabaseClusterEngine.aurora_postgres(version=ENGINE_VERSION),
            credentials=rds.Credentials.from_generated_secret(names.DATABASE_USER),
            default_database_name=names.DATABASE_NAME,
            writer=rds.ClusterInstance.serverless_v2("Writer"),
            readers=[
                rds.ClusterInstance.serverless_v2(f"Reader{i + 1}", scale_with_writer=True)
                for i in range(config.aurora_readers)
            ],
            # 0.5, not 0: auto-pause does not work with RDS Proxy in front.
            serverless_v2_min_capacity=config.aurora_min_acu,
            serverless_v2_max_capacity=config.aurora_max_acu,
            vpc=self.vpc,
            vpc_subnets=ISOLATED,
            security_groups=[cluster_sg],
            port=POSTGRES_PORT,
            storage_encrypted=True,
            iam_authentication=True,
            cloudwatch_logs_exports=["postgresql"],
            backup=rds.BackupProps(retention=Duration.days(14 if config.retain_data else 1)),
            copy_tags_to_snapshot=True,
            deletion_protection=config.retain_data,
            removal_policy=RemovalPolicy.SNAPSHOT if config.retain_data else RemovalPolicy.DESTROY,
        )
        self.cluster.node.add_dependency(self.cluster_log_group)
        assert self.cluster.secret is not None
        self.master_secret = self.cluster.secret
        # The users the application and the migrations log in as; ensure_roles creates them in the database.
        self.owner_secret = self._user_secret("OwnerSecret", names.DATABASE_OWNER)
        self.app_secret = self._user_secret("AppSecret", names.DATABASE_APP_USER)
        # What the functions use: the application role (DML only).
        self.secret = self.app_secret
        # A snapshot kept without the passwords of its users would be a locked box: where the data is kept,
        # so are the secrets (the secrets themselves, not only their attachments to the cluster).
        keep = RemovalPolicy.RETAIN if config.retain_data else RemovalPolicy.DESTROY
        for owner in (self.cluster, self):
            for child in owner.node.children:
                if isinstance(child, secretsmanager.Secret):
                    child.apply_removal_policy(keep)

        self.proxy = rds.DatabaseProxy(
            self,
            "Proxy",
            proxy_target=rds.ProxyTarget.from_cluster(self.cluster),
            secrets=[self.master_secret, self.owner_secret, self.app_secret],
            vpc=self.vpc,
            vpc_subnets=ISOLATED,
            security_groups=[proxy_sg],
            require_tls=True,
            idle_client_timeout=Duration.minutes(15),
            max_connections_percent=90,
            borrow_timeout=Duration.seconds(30),
        )

        proxy_sg.add_ingress_rule(self.functions_sg, ec2.Port.tcp(POSTGRES_PORT), "functions to proxy")
        proxy_sg.add_ingress_rule(self.migrations_sg, ec2.Port.tcp(POSTGRES_PORT), "migrations to proxy")
        proxy_sg.add_egress_rule(cluster_sg, ec2.Port.tcp(POSTGRES_PORT), "proxy to cluster")
        cluster_sg.add_ingress_rule(proxy_sg, ec2.Port.tcp(POSTGRES_PORT), "proxy to cluster")

        if config.secret_rotation_days:
            rotation_sg = ec2.SecurityGroup(
                self, "RotationSg", vpc=self.vpc, description="Secrets Manager rotation function"
            )
            endpoints_sg.add_ingress_rule(rotation_sg, ec2.Port.tcp(443), "secret rotation")
            rotate_after = Duration.days(config.secret_rotation_days)
            self.cluster.add_rotation_single_user(
                automatically_after=rotate_after,
                vpc_subnets=ISOLATED,
                endpoint=self.secrets_endpoint,
                security_group=rotation_sg,
            )
            # The master changes the other users' passwords (Secrets Manager's multi-user rotation, which
            # alternates each user with "<user>_clone": db.roles keeps the schema with the canonical roles).
            # Not at creation: the users exist only once the Stateless stack's migrations trigger made them.
            for construct_id, user_secret in (("OwnerRotation", self.owner_secret), ("AppRotation", self.app_secret)):
                self.cluster.add_rotation_multi_user(
                    construct_id,
                    secret=user_secret,
                    automatically_after=rotate_after,
                    rotate_immediately_on_update=False,
                    vpc_subnets=ISOLATED,
                    endpoint=self.secrets_endpoint,
                    security_group=rotation_sg,
                )
        else:
            for secret in (self.master_secret, self.owner_secret, self.app_secret):
                NagSuppressions.add_resource_suppressions(
                    secret,
                    [
                        {
                            "id": "AwsSolutions-SMG4",
                            "reason": "Rotation switched off for this stage (secretRotationDays=0).",
                        }
                    ],
                )

        NagSuppressions.add_resource_suppressions(
            self.cluster,
            [
                {
                    "id": "AwsSolutions-RDS11",
                    "reason": "RDS Proxy only listens on the engine's default port (5432); a different "
                    "cluster port would add nothing, the database is reachable only from the proxy and "
                    "migrations security groups.",
                },
                *(
                    []
                    if config.retain_data
                    else [
                        {
                            "id": "AwsSolutions-RDS10",
                            "reason": f"Stage {config.stage} is disposable (retainData=false); "
                            "production stages set deletion protection.",
                        }
                    ]
                ),
            ],
            apply_to_children=True,
        )

    def _user_secret(self, construct_id: str, username: str) -> secretsmanager.ISecret:
        secret = rds.DatabaseSecret(self, construct_id, username=username, master_secret=self.master_secret)
        return secret.attach(self.cluster)  # adds host, port and engine, as the master secret has

    def network(self) -> FunctionNetwork:
        return FunctionNetwork(vpc=self.vpc, security_group=self.functions_sg)

    def migrations_network(self) -> FunctionNetwork:
        return FunctionNetwork(vpc=self.vpc, security_group=self.migrations_sg)
