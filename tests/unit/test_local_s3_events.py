"""The local stack's S3 notifications (moto) name the version written, as S3's do in a versioned bucket.
moto's carried only key, size and ETag; the splitter pinned a drop to the key's current version, so a
partner who wrote one key twice before the first event was read got one import, and its first file was
lost (CONTRACT §4: each new version makes a new import)."""

from __future__ import annotations

import json

import boto3
from moto import mock_aws
from product_importer.pipeline.s3events import parse_notification
from product_importer.pipeline.splitter import import_id_for

from infra.local.emulator import _s3_events_name_the_version


def test_each_write_of_one_key_is_an_event_naming_its_version_in_order() -> None:
    _s3_events_name_the_version()
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        sqs = boto3.client("sqs", region_name="us-east-1")
        s3.create_bucket(Bucket="uploads")
        s3.put_bucket_versioning(Bucket="uploads", VersioningConfiguration={"Status": "Enabled"})
        queue = sqs.create_queue(QueueName="q")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        s3.put_bucket_notification_configuration(Bucket="uploads", NotificationConfiguration={"QueueConfigurations": [
            {"QueueArn": arn, "Events": ["s3:ObjectCreated:*"]}]})
        key = "incoming/acme/feed.csv"

        written = [s3.put_object(Bucket="uploads", Key=key, Body=b"sku,name\nA,v1\n")["VersionId"],
                   s3.put_object(Bucket="uploads", Key=key, Body=b"sku,name\nA,v2\n")["VersionId"]]
        messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]

    events = [event for m in messages for event in parse_notification(m["Body"])
              if event.key == key]  # (moto may send a test event first)
    assert [e.version_id for e in events] == written
    sequencers = [e.sequencer for e in events]
    assert all(sequencers) and sequencers == sorted(sequencers) and len(set(sequencers)) == 2
    assert len({import_id_for(e) for e in events}) == 2  # two writes, two imports
    assert json.loads(messages[-1]["Body"])["Records"][0]["s3"]["object"]["eTag"]
