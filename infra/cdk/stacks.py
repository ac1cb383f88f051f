"""The two stacks of a stage: stateful (data that must survive) and stateless (code and wiring).

The stateless stack depends on the stateful one and never the other way round, so it can be destroyed
and redeployed freely; the stateful stack keeps deletion protection / retention in production stages.
"""

from __future__ import annotations

from aws_cdk import CfnOutput, Environment, Stack
from constructs import Construct

from infra import topology
from infra.cdk import names
from infra.cdk.api import Api
from infra.cdk.config import StageConfig
from infra.cdk.database import Database
from infra.cdk.edge import EdgeStack
from infra.cdk.frontend import Frontend
from infra.cdk.functions import ServiceFunction
from infra.cdk.layer import SharedLayer
from infra.cdk.lifecycle import Lifecycle
from infra.cdk.migrations import Migrations
from infra.cdk.nag import suppress_cdk_internals
from infra.cdk.observability import Observability, Watched
from infra.cdk.permissions import Resources, grant_all
from infra.cdk.pipeline import Pipeline
from infra.cdk.progress import LiveProgress, ProgressTables
from infra.cdk.storage import Storage
from infra.cdk.webhooks import Webhooks, WebhookSecretsKey


def stage_env(config: StageConfig) -> Environment:
    return Environment(account=config.account, region=config.region)


class StatefulStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig) -> None:
        super().__init__(
            scope,
            construct_id,
            env=stage_env(config),
            description=f"{names.APP} {config.stage}: uploads bucket, Aurora, DynamoDB tables, KMS key",
            termination_protection=config.retain_data,
        )
        self.config = config
        self.storage = Storage(self, "Storage", config=config)
        self.database = Database(self, "Database", config=config)
        self.tables = ProgressTables(self, "Tables", config=config)
        self.webhook_key = WebhookSecretsKey(self, "WebhookSecrets", config=config)

        CfnOutput(self, names.OUT_UPLOADS_BUCKET, value=self.storage.bucket.bucket_name)
        CfnOutput(self, names.OUT_DB_SECRET, value=self.database.secret.secret_arn)
        CfnOutput(self, names.OUT_DB_OWNER_SECRET, value=self.database.owner_secret.secret_arn)
        CfnOutput(self, names.OUT_DB_MASTER_SECRET, value=self.database.master_secret.secret_arn)
        CfnOutput(self, names.OUT_WEBHOOK_KEY, value=self.webhook_key.key.key_arn)
        CfnOutput(self, names.OUT_DB_PROXY, value=self.database.proxy.endpoint)
        for partner, role in self.storage.partner_roles.items():
            CfnOutput(
                self, f"{names.OUT_PARTNER_ROLE}{partner.title().replace('-', '')}", value=role.role_arn
            )
        suppress_cdk_internals(self)


class StatelessStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        stateful: StatefulStack,
        edge: EdgeStack | None = None,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            env=stage_env(config),
            description=f"{names.APP} {config.stage}: functions, queues, APIs, UI, dashboard",
            cross_region_references=edge is not None,  # the web ACL lives in us-east-1
        )
        self.config = config
        self.edge = edge
        db = stateful.database
        self.shared_layer = SharedLayer(self, "SharedLayer")
        layer = self.shared_layer.layer
        network = db.network()

        self.pipeline = Pipeline(
            self,
            "Pipeline",
            config=config,
            object_events=stateful.storage.object_events,
            layer=layer,
            network=network,
        )
        self.webhooks = Webhooks(self, "Webhooks", config=config, layer=layer, network=network)
        self.api = Api(self, "Api", config=config, layer=layer, network=network)
        self.frontend = Frontend(
            self,
            "Frontend",
            config=config,
            api_domain_name=self.api.domain_name,
            uploads_bucket=stateful.storage.bucket,
            sign_in_host=self.api.users.domain_host if self.api.users else None,
            web_acl_arn=edge.web_acl.attr_arn if edge else None,
        )
        self.api.serve(site_url=self.frontend.url)
        self.live = LiveProgress(
            self, "LiveProgress", config=config, tables=stateful.tables, layer=layer, users=self.api.users
        )

        self.lifecycle = Lifecycle(
            self,
            "Lifecycle",
            config=config,
            layer=layer,
            network=network,
            dead_letter_queues={
                "chunks": self.pipeline.chunks.dlq,
                "object-events": stateful.storage.object_events.dlq,
            },
        )

        self.functions: dict[str, ServiceFunction] = {
            **self.lifecycle.functions,
            "api": self.api.function,
            "splitter": self.pipeline.splitter,
            "consumer": self.pipeline.consumer,
            "broadcaster": self.live.broadcaster,
            "websocket": self.live.websocket,
            "webhooks": self.webhooks.function,
            "finisher": self.webhooks.finisher,
        }
        missing = set(topology.FUNCTIONS) ^ set(self.functions)
        if missing:
            raise ValueError(f"topology and CDK disagree about functions: {sorted(missing)}")

        runtime_env = {
            names.ENV_UPLOADS_BUCKET: stateful.storage.bucket.bucket_name,
            names.ENV_OBJECT_EVENTS_QUEUE_URL: stateful.storage.object_events.queue.queue_url,
            names.ENV_CHUNKS_QUEUE_URL: self.pipeline.chunks.queue.queue_url,
            names.ENV_CHUNKS_DLQ_URL: self.pipeline.chunks.dlq.queue_url,
            names.ENV_WEBHOOKS_QUEUE_URL: self.webhooks.deliveries.queue.queue_url,
            names.ENV_FINISHED_QUEUE_URL: self.webhooks.finished.queue.queue_url,
            names.ENV_PROGRESS_TABLE: stateful.tables.progress.table_name,
            names.ENV_CONNECTIONS_TABLE: stateful.tables.connections.table_name,
            names.ENV_WEBSOCKET_URL: self.live.websocket_url,
            names.ENV_WEBSOCKET_MANAGEMENT_URL: self.live.management_url,
        }
        database_env = {
            names.ENV_DB_SECRET_ARN: db.secret.secret_arn,
            names.ENV_DB_PROXY_ENDPOINT: db.proxy.endpoint,
            names.ENV_DB_NAME: names.DATABASE_NAME,
        }
        for fn in self.functions.values():
            fn.add_environment(runtime_env)
            if fn.spec.needs_database:
                fn.add_environment(database_env)
        webhook_env = {
            names.ENV_WEBHOOKS_KMS_KEY_ID: stateful.webhook_key.key.key_arn,
            names.ENV_WEBHOOKS_MAX: str(config.webhooks_max),
        }
        for name in ("api", "webhooks"):  # the two that seal or open webhook secrets
            self.functions[name].add_environment(webhook_env)

        self.migrations = Migrations(
            self,
            "Migrations",
            config=config,
            layer=layer,
            network=db.migrations_network(),
            database_env={
                **database_env,
                names.ENV_DB_OWNER_SECRET_ARN: db.owner_secret.secret_arn,
                names.ENV_DB_MASTER_SECRET_ARN: db.master_secret.secret_arn,
            },
            run_before=[fn.function for fn in self.functions.values() if fn.spec.needs_database],
        )
        grant_all(
            {
                **{name: fn.function for name, fn in self.functions.items()},
                "migrations": self.migrations.function,
            },
            Resources(
                uploads=stateful.storage.bucket,
                object_events=stateful.storage.object_events.queue,
                progress=stateful.tables.progress,
                connections=stateful.tables.connections,
                chunks=self.pipeline.chunks.queue,
                webhooks=self.webhooks.deliveries.queue,
                finished=self.webhooks.finished.queue,
                db_secret=db.secret,
                db_owner_secret=db.owner_secret,
                db_master_secret=db.master_secret,
                webhook_key=stateful.webhook_key,
                websocket_stage=self.live.stage,
            ),
        )

        self.observability = Observability(
            self,
            "Observability",
            config=config,
            watched=Watched(
                functions={
                    **{name: fn.function for name, fn in self.functions.items()},
                    **(
                        {topology.CONNECT_AUTHORIZER.name: self.live.connect_authorizer.function}
                        if self.live.connect_authorizer
                        else {}
                    ),
                },
                chunks=self.pipeline.chunks.queue,
                dead_letter_queues={
                    "object-events": stateful.storage.object_events.dlq,
                    "chunks": self.pipeline.chunks.dlq,
                    "webhooks": self.webhooks.deliveries.dlq,
                    "finished": self.webhooks.finished.dlq,
                    "broadcaster": self.live.failed_batches,
                },
                cluster=db.cluster,
                proxy=db.proxy,
                http_api=self.api.http_api,
                websocket_api=self.live.api,
                websocket_stage=self.live.stage.stage_name,
            ),
            alarms=[*self.pipeline.alarms, *self.webhooks.alarms, *self.live.alarms, *self.api.alarms,
                    *self.lifecycle.alarms],
        )

        CfnOutput(self, names.OUT_SITE_URL, value=self.frontend.url)
        CfnOutput(self, names.OUT_HTTP_API_URL, value=self.api.http_api.api_endpoint)
        CfnOutput(self, names.OUT_WEBSOCKET_URL, value=self.live.websocket_url)
        CfnOutput(self, names.OUT_DASHBOARD, value=names.StageNames(config.stage).dashboard)
        CfnOutput(self, names.OUT_ALARM_TOPIC, value=self.observability.topic.topic_arn)
        if self.api.users and self.api.users.client:
            CfnOutput(self, names.OUT_USER_POOL_ID, value=self.api.users.pool.user_pool_id)
            CfnOutput(self, names.OUT_USER_POOL_CLIENT_ID, value=self.api.users.client.user_pool_client_id)
            CfnOutput(self, names.OUT_SIGN_IN_DOMAIN, value=self.api.users.domain_host)

        suppress_cdk_internals(self)
