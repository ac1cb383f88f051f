"""Webhooks: the delivery queue (+ DLQ) and the function that signs and posts import events.

The function runs in the subnets with a NAT route: partner URLs are on the internet.
"""

from __future__ import annotations

from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra import topology
from infra.cdk import names
from infra.cdk.config import StageConfig
from infra.cdk.functions import FunctionNetwork, ServiceFunction
from infra.cdk.pipeline import attach_sqs_trigger
from infra.cdk.queues import QueueWithDlq, dlq_depth_alarm


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
            )
        ]
