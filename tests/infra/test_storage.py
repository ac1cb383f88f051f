"""Storage: uploads bucket hardening, lifecycle, CORS, access logs, S3 → SQS notifications, partner role."""

from __future__ import annotations

import pytest
from aws_cdk.assertions import Match

from infra import topology
from tests.infra.conftest import PARTNER, PARTNER_ACCOUNT, Stage
from tests.infra.template_queries import as_list

pytestmark = pytest.mark.infra


def test_uploads_bucket_is_private_encrypted_versioned_and_logged(prod: Stage) -> None:
    # Given the uploads bucket of the prod stage
    storage = prod.stateful.storage
    props = prod.stateful_template.props(storage.bucket)

    # Then public access is blocked, objects are encrypted and versioned (the splitter pins versions)
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0][
        "ServerSideEncryptionByDefault"
    ] == {"SSEAlgorithm": "AES256"}
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    # And server access logs go to the log bucket
    assert props["LoggingConfiguration"]["DestinationBucketName"] == {
        "Ref": prod.stateful_template.logical_id(storage.access_logs)
    }


def test_uploads_bucket_denies_plain_http(prod: Stage) -> None:
    bucket_id = prod.stateful_template.logical_id(prod.stateful.storage.bucket)
    prod.stateful_template.assertions.has_resource_properties(
        "AWS::S3::BucketPolicy",
        {
            "Bucket": {"Ref": bucket_id},
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Effect": "Deny",
                                "Action": "s3:*",
                                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                            }
                        )
                    ]
                )
            },
        },
    )


def test_lifecycle_expires_watched_prefixes_and_old_versions(prod: Stage) -> None:
    rules = prod.stateful_template.props(prod.stateful.storage.bucket)["LifecycleConfiguration"]["Rules"]
    by_prefix = {rule.get("Prefix"): rule for rule in rules if "Prefix" in rule}
    for prefix in topology.WATCHED_PREFIXES:
        assert by_prefix[prefix]["ExpirationInDays"] == prod.stateful.config.upload_expiry_days
    assert by_prefix["exports/"]["ExpirationInDays"] == 1  # a large errors.csv, written for one download
    assert by_prefix["transcoded/"]["ExpirationInDays"] == prod.stateful.config.upload_expiry_days
    assert any("NoncurrentVersionExpiration" in rule for rule in rules)
    assert any(rule.get("AbortIncompleteMultipartUpload") for rule in rules)


def test_cors_allows_presigned_post_and_the_download_of_an_export_from_the_ui_origin(prod: Stage) -> None:
    cors = prod.stateful_template.props(prod.stateful.storage.bucket)["CorsConfiguration"]["CorsRules"]
    assert len(cors) == 1
    assert cors[0]["AllowedMethods"] == ["POST", "GET"]
    assert cors[0]["AllowedOrigins"] == list(prod.stateful.config.cors_origins)


def test_object_created_under_both_prefixes_goes_to_the_object_events_queue(prod: Stage) -> None:
    # Given the bucket notification custom resource
    template = prod.stateful_template
    queue_id = template.logical_id(prod.stateful.storage.object_events.queue)
    (notifications,) = template.of_type("Custom::S3BucketNotifications").values()
    configs = notifications["Properties"]["NotificationConfiguration"]["QueueConfigurations"]

    # Then there is one ObjectCreated rule per watched prefix and suffix, to the object-events queue: uploads
    # under .csv, drops under every spelling of it (S3's filter is case-sensitive; FEED.CSV is a drop too)
    seen = set()
    for config in configs:
        assert config["Events"] == ["s3:ObjectCreated:*"]
        assert config["QueueArn"] == {"Fn::GetAtt": [queue_id, "Arn"]}
        rules = {r["Name"]: r["Value"] for r in config["Filter"]["Key"]["FilterRules"]}
        seen.add((rules["prefix"], rules["suffix"]))
    drops = {suffix for prefix, suffix in seen if prefix == "incoming/"}
    assert {prefix for prefix, _ in seen} == set(topology.WATCHED_PREFIXES) == {"uploads/", "incoming/"}
    assert {suffix for prefix, suffix in seen if prefix == "uploads/"} == {".csv"}
    assert len(drops) == 8 and {".csv", ".CSV", ".Csv"} <= drops and {s.lower() for s in drops} == {".csv"}


def test_object_events_queue_has_dlq_and_receive_count_from_topology(prod: Stage) -> None:
    events = prod.stateful.storage.object_events
    spec = topology.QUEUES["object-events"]
    props = prod.stateful_template.props(events.queue)
    assert props["VisibilityTimeout"] == spec.visibility_timeout_s
    assert props["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": [prod.stateful_template.logical_id(events.dlq), "Arn"]},
        "maxReceiveCount": spec.max_receive_count,
    }
    assert props["SqsManagedSseEnabled"] is True


def test_partner_role_may_only_write_its_own_incoming_prefix(prod: Stage) -> None:
    # Given the role created for the configured partner
    template = prod.stateful_template
    role = prod.stateful.storage.partner_roles[PARTNER]
    trust = template.props(role)["AssumeRolePolicyDocument"]["Statement"][0]

    # Then only the partner's account may assume it, with the external id
    assert PARTNER_ACCOUNT in str(trust["Principal"])
    assert trust["Condition"] == {"StringEquals": {"sts:ExternalId": f"ProductImporter-prod-{PARTNER}"}}

    # And it can put objects under incoming/<partner>/ and nothing else
    (statement,) = template.policies_of_role(role)
    assert sorted(as_list(statement["Action"])) == ["s3:AbortMultipartUpload", "s3:PutObject"]
    resource = statement["Resource"]["Fn::Join"][1]
    assert resource[-1] == f"/{topology.DROP_PREFIX}{PARTNER}/*"


def test_dev_has_no_partner_roles(dev: Stage) -> None:
    assert dev.stateful.storage.partner_roles == {}
