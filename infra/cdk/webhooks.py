"""Webhooks: the ``finished`` queue and the ``finisher`` (search refresh, then the import's event recorded
and fanned out), the ``webhooks`` delivery queue and the function that signs and posts each event, and the
KMS key that seals webhook secrets (in the stateful stack: ``WebhookSecretsKey``).

Two queues and two functions, so that a receiver that never answers holds deliveries only, never the
search refresh. The delivery function runs in the subnets with a NAT route (partner URLs are on the
internet); the finisher only needs the database.
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra import topology
from infra.cdk import names
from infra.cdk.config import StageConfig
from infra.cdk.functions import FunctionNetwork, ServiceFunction
from infra.cdk.pipeline import attach_sqs_trigger
from infra.cdk.queues import QueueWithDlq, dlq_depth_alarm

# The encryption context every seal and open carries (product_importer.webhooks.secrets.PURPOSE).
SECRET_PURPOSE = {"purpose": "product-importer-webhook-secret"}


class WebhookSecretsKey(Construct):
    """A customer-managed KMS key, rotated yearly, used only for webhook secrets."""

    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig) -> None:
        super().__init__(scope, construct_id)
        self.key = kms.Key(
            self,
            "Key",
            description=f"{names.APP} {config.stage}: seals webhook secrets",
            enable_key_rotation=True,
            pending_window=Duration.days(30 if config.retain_data else 7),
            removal_policy=RemovalPolicy.RETAIN if config.retain_data else RemovalPolicy.DESTROY,
        )

    def grant(self, grantee: iam.IGrantable, *actions: str) -> None:
        """``kms:Encrypt`` / ``kms:Decrypt`` on this key, only with the webhook-secret encryption context."""
        grantee.grant_principal.add_to_principal_policy(
            iam.PolicyStatement(
                actions=list(actions),
                resources=[self.key.key_arn],
                conditions={
                    "StringEquals": {f"kms:EncryptionContext:{k}": v for k, v in SECRET_PURPOSE.items()}
                },
            )
        )


class Webhooks(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        layer: lambda_.ILayerVersion,
        network: FunctionNetwork,
    ) -> None:
        super().__init__(scope, construct_id)
        stage_names = names.StageNames(config.stage)
        self.finished = QueueWithDlq(self, "Finished", spec=topology.QUEUES["finished"])
        self.finisher = ServiceFunction(
            self,
            "FinisherFn",
            spec=topology.FUNCTIONS["finisher"],
            layer=layer,
            config=config,
            network=network,
        )
        attach_sqs_trigger(self.finisher, {"finished": self.finished.queue})

        self.deliveries = QueueWithDlq(self, "Deliveries", spec=topology.QUEUES["webhooks"])
        self.function = ServiceFunction(
            self,
            "WebhooksFn",
            spec=topology.FUNCTIONS["webhooks"],
            layer=layer,
            config=config,
            network=network,
        )
        attach_sqs_trigger(self.function, {"webhooks": self.deliveries.queue})
        self.alarms: list[cloudwatch.Alarm] = [
            dlq_depth_alarm(
                self, "DlqDepth", self.deliveries.dlq, stage_names.alarm("webhooks-dlq"), "webhooks DLQ"
            ),
            dlq_depth_alarm(
                self, "FinishedDlqDepth", self.finished.dlq, stage_names.alarm("finished-dlq"), "finished DLQ"
            ),
        ]
