"""Lifecycle: the functions that end imports nobody else will end (CONTRACT §2, DESIGN decision 9).

- ``dead_letter`` (a ``DeadLetterTrigger``): SQS event sources on the dead-letter queues the topology
  names (the chunk DLQ and the object-events DLQ): a message that failed every receive — also when the
  consumer or the splitter was killed — ends its import ``failed``.
- ``expire_pending`` (a ``ScheduleTrigger``): an EventBridge schedule; pending imports whose file never
  arrived end ``failed`` ("upload expired"); ``purge_undo`` (also a ``ScheduleTrigger``, daily) drops undo
  data older than ``UNDO_RETENTION_DAYS``.

Which functions exist, their triggers, rates and batch sizes come from ``infra.topology`` (the pipeline
describes them there); this construct builds whatever the topology declares of these two kinds, so the
CDK follows the topology without edits. Their grants are in ``infra.cdk.permissions``.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra import topology
from infra.cdk import names
from infra.cdk.config import StageConfig
from infra.cdk.functions import FunctionNetwork, ServiceFunction

# The trigger kinds, where the topology has them (the pipeline branch adds them).
DEAD_LETTER_TRIGGER: Any = getattr(topology, "DeadLetterTrigger", None)
SCHEDULE_TRIGGER: Any = getattr(topology, "ScheduleTrigger", None)


def lifecycle_specs() -> dict[str, topology.FunctionSpec]:
    kinds = tuple(k for k in (DEAD_LETTER_TRIGGER, SCHEDULE_TRIGGER) if k is not None)
    return {name: spec for name, spec in topology.FUNCTIONS.items() if kinds and isinstance(spec.trigger, kinds)}


class Lifecycle(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        layer: lambda_.ILayerVersion,
        network: FunctionNetwork,
        dead_letter_queues: dict[str, sqs.IQueue],
    ) -> None:
        super().__init__(scope, construct_id)
        self.functions: dict[str, ServiceFunction] = {}
        self.schedules: dict[str, events.Rule] = {}
        # Nobody waits on these functions: a failing one (pending imports never expiring, dead letters not
        # ending their imports, undo data never purged) is seen only through its alarm.
        self.alarms: list[cloudwatch.Alarm] = []
        stage_names = names.StageNames(config.stage)
        for name, spec in lifecycle_specs().items():
            construct_name = "".join(part.title() for part in name.split("_")) + "Fn"
            fn = ServiceFunction(
                self, construct_name, spec=spec, layer=layer, config=config,
                network=network if spec.needs_database or spec.needs_internet else None,
            )
            self.functions[name] = fn
            self.alarms.append(cloudwatch.Alarm(
                self,
                f"{construct_name}Errors",
                alarm_name=stage_names.alarm(f"{name.replace('_', '-')}-errors"),
                alarm_description=f"The {name} function failed ({spec.description.rstrip('.')}): its work is "
                "not being done; see its logs.",
                metric=fn.function.metric_errors(period=Duration.minutes(5), statistic=cloudwatch.Stats.SUM),
                threshold=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                evaluation_periods=1,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            ))
            trigger: Any = spec.trigger
            if DEAD_LETTER_TRIGGER is not None and isinstance(trigger, DEAD_LETTER_TRIGGER):
                for queue in trigger.queues:
                    fn.function.add_event_source(
                        sources.SqsEventSource(
                            dead_letter_queues[queue],
                            batch_size=trigger.batch_size,
                            report_batch_item_failures=trigger.report_batch_item_failures,
                        )
                    )
            else:
                self.schedules[name] = events.Rule(
                    self,
                    f"{construct_name}Schedule",
                    description=f"{name}: every {trigger.rate_minutes} minutes",
                    schedule=events.Schedule.rate(Duration.minutes(trigger.rate_minutes)),
                    targets=[targets.LambdaFunction(fn.function, retry_attempts=2)],
                )
