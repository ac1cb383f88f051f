"""The local stack's queues as CDK deploys them (``infra.topology``), on moto."""

from __future__ import annotations

import boto3
from moto import mock_aws

from infra import topology
from infra.local.resources import create_resources


def test_consumed_dead_letter_queues_hide_a_message_6x_the_dead_letter_functions_timeout() -> None:
    # CDK gave the chunk and object-events DLQs 6x the dead_letter timeout (360 s); locally they kept SQS's
    # 30 s, shorter than the function's 60 s, so a slow dead-letter batch was handed out twice
    with mock_aws():
        region = {"region_name": "us-east-1"}
        sqs = boto3.client("sqs", **region)
        resources = create_resources(boto3.client("s3", **region), sqs, boto3.client("dynamodb", **region))
        timeout = topology.FUNCTIONS["dead_letter"].timeout_s
        for name, spec in topology.QUEUES.items():
            queue = sqs.get_queue_attributes(QueueUrl=resources.queue_urls[name], AttributeNames=["All"])["Attributes"]
            dlq = sqs.get_queue_attributes(QueueUrl=resources.dlq_urls[name], AttributeNames=["All"])["Attributes"]
            assert int(queue["VisibilityTimeout"]) == spec.visibility_timeout_s >= 6 * topology.FUNCTIONS[
                next(f.name for f in topology.FUNCTIONS.values()
                     if isinstance(f.trigger, topology.SqsTrigger) and f.trigger.queue == name)].timeout_s
            expected = 6 * timeout if name in ("chunks", "object-events") else 30
            assert int(dlq["VisibilityTimeout"]) == expected == (topology.dlq_visibility_timeout_s(name) or 30)
