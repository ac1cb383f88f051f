"""Storage: the uploads bucket, its access-log bucket, the object-events queue and partner drop access.

``ObjectCreated`` under ``uploads/`` and ``incoming/`` (suffix ``.csv``) goes to the ``object-events``
queue (S3 → SQS → splitter), exactly as ``infra.topology`` routes it for the local stack too. The queue
lives here, with the bucket, so the stateful stack never depends on the stateless one.
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_notifications as s3n
from cdk_nag import NagSuppressions
from constructs import Construct
from product_importer.naming import EXPORT_PREFIX, TRANSCODED_PREFIX

from infra import topology
from infra.cdk.config import StageConfig
from infra.cdk.names import StageNames
from infra.cdk.queues import QueueWithDlq

NONCURRENT_VERSION_DAYS = 7
ACCESS_LOG_DAYS = 90


def private_bucket(
    scope: Construct, construct_id: str, *, config: StageConfig, **kwargs: object
) -> s3.Bucket:
    """Block public access, TLS only, SSE-S3, owner-enforced objects."""
    return s3.Bucket(
        scope,
        construct_id,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        enforce_ssl=True,
        encryption=s3.BucketEncryption.S3_MANAGED,
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        removal_policy=RemovalPolicy.RETAIN if config.retain_data else RemovalPolicy.DESTROY,
        **kwargs,  # type: ignore[arg-type]
    )


class Storage(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig) -> None:
        super().__init__(scope, construct_id)
        stage_names = StageNames(config.stage)

        self.access_logs = private_bucket(
            self,
            "AccessLogs",
            config=config,
            lifecycle_rules=[s3.LifecycleRule(id="expire-logs", expiration=Duration.days(ACCESS_LOG_DAYS))],
        )
        NagSuppressions.add_resource_suppressions(
            self.access_logs,
            [
                {
                    "id": "AwsSolutions-S1",
                    "reason": "This bucket is the access-log destination itself; logging it to itself would loop, and a "
                    "further log bucket would only move the same finding.",
                }
            ],
        )

        expire_after = Duration.days(config.upload_expiry_days)
        self.bucket = private_bucket(
            self,
            "Uploads",
            config=config,
            versioned=True,  # the splitter pins the object version it split; consumers read that version
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix="uploads-bucket/",
            cors=[
                s3.CorsRule(
                    # the browser's presigned POST of uploads/<id>.csv, and its presigned GET of a large
                    # errors.csv under exports/ (the API answers 303 to it; the UI follows it with fetch)
                    allowed_methods=[s3.HttpMethods.POST, s3.HttpMethods.GET],
                    allowed_origins=list(config.cors_origins),
                    allowed_headers=["*"],
                    max_age=3600,
                )
            ],
            lifecycle_rules=[
                *(
                    s3.LifecycleRule(id=f"expire-{prefix.strip('/')}", prefix=prefix, expiration=expire_after)
                    for prefix in topology.WATCHED_PREFIXES
                ),
                # a large errors.csv is written for one download (its link lives minutes): gone after a day
                s3.LifecycleRule(id="expire-exports", prefix=EXPORT_PREFIX, expiration=Duration.days(1)),
                # the UTF-8 copy of a UTF-16 upload lives as long as the upload
                s3.LifecycleRule(id="expire-transcoded", prefix=TRANSCODED_PREFIX, expiration=expire_after),
                s3.LifecycleRule(
                    id="expire-old-versions",
                    noncurrent_version_expiration=Duration.days(NONCURRENT_VERSION_DAYS),
                    abort_incomplete_multipart_upload_after=Duration.days(1),
                ),
                s3.LifecycleRule(id="remove-expired-delete-markers", expired_object_delete_marker=True),
            ],
        )

        self.object_events = QueueWithDlq(self, "ObjectEvents", spec=topology.QUEUES["object-events"])
        for prefix, suffix in topology.NOTIFICATION_FILTERS:
            self.bucket.add_event_notification(
                s3.EventType.OBJECT_CREATED,
                s3n.SqsDestination(self.object_events.queue),
                s3.NotificationKeyFilter(prefix=prefix, suffix=suffix),
            )

        self.partner_roles: dict[str, iam.Role] = {}
        for partner, account in sorted(config.partners.items()):
            self.partner_roles[partner] = self._partner_role(stage_names, partner, account)

    def _partner_role(self, stage_names: StageNames, partner: str, account: str) -> iam.Role:
        """A role the partner's account may assume, allowed to write ``incoming/<partner>/`` and nothing else."""
        role = iam.Role(
            self,
            f"Partner-{partner}",
            role_name=stage_names.partner_role(partner),
            description=f"Partner {partner}: PutObject to incoming/{partner}/ only",
            assumed_by=iam.AccountPrincipal(account).with_conditions(
                {"StringEquals": {"sts:ExternalId": f"{stage_names.prefix}-{partner}"}}
            ),
            max_session_duration=Duration.hours(1),
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:PutObject", "s3:AbortMultipartUpload"],
                resources=[self.bucket.arn_for_objects(f"{topology.DROP_PREFIX}{partner}/*")],
            )
        )
        NagSuppressions.add_resource_suppressions(
            role,
            [
                {
                    "id": "AwsSolutions-IAM5",
                    "reason": f"Object keys under the partner's own prefix are chosen by the partner; "
                    f"the wildcard is confined to incoming/{partner}/.",
                    "appliesTo": [{"regex": f"/^Resource::<.*Uploads.*Arn>/incoming/{partner}/\\*$/"}],
                }
            ],
            apply_to_children=True,
        )
        return role
