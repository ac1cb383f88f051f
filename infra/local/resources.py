"""Creates, on the AWS emulator, what the CDK app creates in AWS — from the same topology description."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from infra import topology

PREFIX = "product-importer"


@dataclass
class LocalResources:
    bucket: str
    queue_urls: dict[str, str] = field(default_factory=dict)  # logical name -> URL
    dlq_urls: dict[str, str] = field(default_factory=dict)
    progress_table: str = f"{PREFIX}-progress"
    connections_table: str = f"{PREFIX}-connections"
    progress_stream_arn: str = ""

    def environment(self) -> dict[str, str]:
        """The environment the functions read (the same names CDK sets)."""
        return {
            topology.ENV_UPLOADS_BUCKET: self.bucket,
            topology.ENV_OBJECT_EVENTS_QUEUE_URL: self.queue_urls["object-events"],
            topology.ENV_CHUNKS_QUEUE_URL: self.queue_urls["chunks"],
            topology.ENV_CHUNKS_DLQ_URL: self.dlq_urls["chunks"],
            topology.ENV_WEBHOOKS_QUEUE_URL: self.queue_urls["webhooks"],
            topology.ENV_FINISHED_QUEUE_URL: self.queue_urls["finished"],
            topology.ENV_PROGRESS_TABLE: self.progress_table,
            topology.ENV_CONNECTIONS_TABLE: self.connections_table,
            **topology.receive_limits_env(),
        }


def create_resources(s3: Any, sqs: Any, dynamodb: Any, *, bucket: str = f"{PREFIX}-uploads",
                     visibility_overrides: dict[str, int] | None = None,
                     cors_origins: tuple[str, ...] = ("*",)) -> LocalResources:
    """Idempotent: existing resources are reused (a restarted stack keeps its state where the emulator does)."""
    res = LocalResources(bucket=bucket)
    _bucket(s3, bucket, cors_origins)
    for name, spec in topology.QUEUES.items():
        visibility = (visibility_overrides or {}).get(name, spec.visibility_timeout_s)
        # a DLQ the dead_letter function consumes hides a message 6x its timeout, as CDK's does
        dlq_visibility = topology.dlq_visibility_timeout_s(name)
        dlq_attributes = {"MessageRetentionPeriod": str(topology.DLQ_RETENTION_DAYS * 86400),
                          **({"VisibilityTimeout": str(dlq_visibility)} if dlq_visibility else {})}
        dlq_url = sqs.create_queue(QueueName=f"{PREFIX}-{name}-dlq", Attributes=dlq_attributes)["QueueUrl"]
        if dlq_visibility:  # a DLQ kept from an earlier start
            sqs.set_queue_attributes(QueueUrl=dlq_url, Attributes={"VisibilityTimeout": str(dlq_visibility)})
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        url = sqs.create_queue(QueueName=f"{PREFIX}-{name}", Attributes={
            "VisibilityTimeout": str(visibility),
            "MessageRetentionPeriod": str(spec.retention_days * 86400),
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": spec.max_receive_count}),
        })["QueueUrl"]
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": str(visibility)})
        res.queue_urls[name] = url
        res.dlq_urls[name] = dlq_url
    _notifications(s3, sqs, bucket, res.queue_urls["object-events"])
    res.progress_stream_arn = _table(dynamodb, topology.table_definition("progress", res.progress_table))
    _table(dynamodb, topology.table_definition("connections", res.connections_table))
    _enable_ttl(dynamodb, res.connections_table, str(topology.TABLES["connections"]["ttl_attribute"]))
    return res


def _enable_ttl(dynamodb: Any, table: str, attribute: str) -> None:
    try:
        dynamodb.update_time_to_live(TableName=table,
                                     TimeToLiveSpecification={"Enabled": True, "AttributeName": attribute})
    except ClientError as exc:  # already enabled on a reused table
        if exc.response["Error"]["Code"] != "ValidationException":
            raise


def _bucket(s3: Any, bucket: str, cors_origins: tuple[str, ...]) -> None:
    try:
        s3.create_bucket(Bucket=bucket)
    except ClientError as exc:
        if exc.response["Error"]["Code"] not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
            raise
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [{
        "AllowedOrigins": list(cors_origins), "AllowedMethods": ["POST", "PUT", "GET", "HEAD"],
        "AllowedHeaders": ["*"], "ExposeHeaders": ["ETag", "x-amz-version-id"], "MaxAgeSeconds": 3000,
    }]})


def _notifications(s3: Any, sqs: Any, bucket: str, queue_url: str) -> None:
    arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    configs = [{
        "Id": f"{prefix.rstrip('/')}-{suffix.lstrip('.')}",
        "QueueArn": arn,
        "Events": ["s3:ObjectCreated:*"],
        "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": prefix},
                                            {"Name": "suffix", "Value": suffix}]}},
    } for prefix, suffix in topology.NOTIFICATION_FILTERS]
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={"QueueConfigurations": configs})


def _table(dynamodb: Any, definition: dict[str, Any]) -> str:
    try:
        dynamodb.create_table(**definition)
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ResourceInUseException":
            raise
    return str(dynamodb.describe_table(TableName=definition["TableName"])["Table"].get("LatestStreamArn", ""))
