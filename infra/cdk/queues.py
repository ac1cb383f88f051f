"""An SQS queue from ``infra.topology.QueueSpec``: encrypted, TLS-only, with its DLQ; the DLQ depth alarm.

Alarms are created in the stateless stack (next to the SNS topic) even for the stateful queue.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra import topology

DLQ_RETENTION = Duration.days(topology.DLQ_RETENTION_DAYS)


def dlq_visibility_timeout_s(queue: str) -> int | None:
    """``infra.topology.dlq_visibility_timeout_s`` (the local stack's DLQs get the same)."""
    return topology.dlq_visibility_timeout_s(queue)


def encrypted_queue(scope: Construct, construct_id: str, **kwargs: object) -> sqs.Queue:
    return sqs.Queue(
        scope,
        construct_id,
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
        **kwargs,  # type: ignore[arg-type]
    )


class QueueWithDlq(Construct):
    """``spec.name`` queue; a message received ``max_receive_count`` times moves to the DLQ."""

    def __init__(self, scope: Construct, construct_id: str, *, spec: topology.QueueSpec) -> None:
        super().__init__(scope, construct_id)
        self.spec = spec
        visibility = dlq_visibility_timeout_s(spec.name)
        self.dlq = encrypted_queue(
            self,
            "Dlq",
            retention_period=DLQ_RETENTION,
            visibility_timeout=Duration.seconds(visibility) if visibility else None,
        )
        self.queue = encrypted_queue(
            self,
            "Queue",
            visibility_timeout=Duration.seconds(spec.visibility_timeout_s),
            retention_period=Duration.days(spec.retention_days),
            dead_letter_queue=sqs.DeadLetterQueue(queue=self.dlq, max_receive_count=spec.max_receive_count),
        )


def dlq_depth_alarm(
    scope: Construct, construct_id: str, dlq: sqs.IQueue, alarm_name: str, what: str
) -> cloudwatch.Alarm:
    """Fires as soon as one message sits in a dead-letter queue."""
    return cloudwatch.Alarm(
        scope,
        construct_id,
        alarm_name=alarm_name,
        alarm_description=f"Messages in the {what}: something failed repeatedly; inspect and redrive.",
        metric=dlq.metric_approximate_number_of_messages_visible(
            period=Duration.minutes(1), statistic=cloudwatch.Stats.MAXIMUM
        ),
        threshold=0,
        comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluation_periods=1,
        treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
    )
