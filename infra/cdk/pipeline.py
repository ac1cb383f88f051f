"""Pipeline: the chunks queue (+ DLQ), the splitter on object events and the consumer on chunks.

Both SQS event sources report partial batch failures; the consumer's maximum concurrency (from the
topology) caps how many chunks write to Aurora at once, which is what protects the database.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra import topology
from infra.cdk import names
from infra.cdk.config import StageConfig
from infra.cdk.functions import FunctionNetwork, ServiceFunction, sqs_event_source
from infra.cdk.queues import QueueWithDlq, dlq_depth_alarm


def attach_sqs_trigger(fn: ServiceFunction, queues: dict[str, sqs.IQueue]) -> None:
    trigger = fn.spec.trigger
    if not isinstance(trigger, topology.SqsTrigger):
        raise TypeError(f"{fn.spec.name} is not triggered by SQS")
    fn.function.add_event_source(sqs_event_source(trigger, queues[trigger.queue]))


class Pipeline(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        object_events: QueueWithDlq,
        layer: lambda_.ILayerVersion,
        network: FunctionNetwork,
    ) -> None:
        super().__init__(scope, construct_id)
        stage_names = names.StageNames(config.stage)
        self.chunks = QueueWithDlq(self, "Chunks", spec=topology.QUEUES["chunks"])
        queues: dict[str, sqs.IQueue] = {"object-events": object_events.queue, "chunks": self.chunks.queue}

        self.splitter = ServiceFunction(
            self,
            "SplitterFn",
            spec=topology.FUNCTIONS["splitter"],
            layer=layer,
            config=config,
            network=network,
        )
        self.consumer = ServiceFunction(
            self,
            "ConsumerFn",
            spec=topology.FUNCTIONS["consumer"],
            layer=layer,
            config=config,
            network=network,
        )
        for fn in (self.splitter, self.consumer):
            attach_sqs_trigger(fn, queues)

        self.alarms: list[cloudwatch.Alarm] = [
            *(
                dlq_depth_alarm(
                    self,
                    f"{label}DlqDepth",
                    queue.dlq,
                    stage_names.alarm(f"{queue.spec.name}-dlq"),
                    f"{queue.spec.name} DLQ",
                )
                for label, queue in (("ObjectEvents", object_events), ("Chunks", self.chunks))
            ),
            cloudwatch.Alarm(
                self,
                "ChunksBacklogAge",
                alarm_name=stage_names.alarm("chunks-backlog-age"),
                alarm_description="The oldest chunk has waited 15 minutes: consumers cannot keep up "
                "(max concurrency or Aurora capacity is the limit), or they are failing.",
                metric=self.chunks.queue.metric_approximate_age_of_oldest_message(
                    period=Duration.minutes(5), statistic=cloudwatch.Stats.MAXIMUM
                ),
                threshold=15 * 60,
                evaluation_periods=3,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            ),
            *(
                cloudwatch.Alarm(
                    self,
                    f"{fn.spec.name.title()}Errors",
                    alarm_name=stage_names.alarm(f"{fn.spec.name}-errors"),
                    alarm_description=f"The {fn.spec.name} function failed whole invocations "
                    "(row errors are data and never count here).",
                    metric=fn.function.metric_errors(
                        period=Duration.minutes(5), statistic=cloudwatch.Stats.SUM
                    ),
                    threshold=5,
                    evaluation_periods=1,
                    treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
                )
                for fn in (self.splitter, self.consumer)
            ),
        ]
