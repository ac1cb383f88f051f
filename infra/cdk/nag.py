"""cdk-nag acknowledgments for the functions aws-cdk-lib itself adds to a stack.

Acknowledgments about our own resources sit next to them in their construct; the ones here are for
CDK's framework handlers, whose code, runtime and policies we do not write. Each names the exact
finding (``appliesTo``) and why it is acceptable.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Stack
from cdk_nag import NagSuppressions

BASIC_EXECUTION_ROLE = "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"

_BUCKET_NOTIFICATIONS: list[dict[str, Any]] = [
    {
        "id": "AwsSolutions-IAM4",
        "reason": "CDK's BucketNotificationsHandler (sets the uploads bucket's event notifications at deploy "
        "time) ships with the AWS managed basic-execution policy: CloudWatch Logs only.",
        "appliesTo": [BASIC_EXECUTION_ROLE],
    },
    {
        "id": "AwsSolutions-IAM5",
        "reason": "s3:PutBucketNotification is granted by CDK on '*' to its notifications handler, "
        "which runs only during deployments.",
        "appliesTo": ["Resource::*"],
    },
]

_BUCKET_DEPLOYMENT: list[dict[str, Any]] = [
    {
        "id": "AwsSolutions-IAM4",
        "reason": "CDK's BucketDeployment handler (copies frontend/dist at deploy time) ships with the AWS "
        "managed basic-execution policy: CloudWatch Logs only.",
        "appliesTo": [BASIC_EXECUTION_ROLE],
    },
    {
        "id": "AwsSolutions-IAM5",
        "reason": "BucketDeployment's generated grants: read the CDK asset bucket, write/prune the site "
        "bucket, invalidate the distribution; object-level wildcards on those two buckets only.",
        "appliesTo": [
            "Action::s3:GetBucket*",
            "Action::s3:GetObject*",
            "Action::s3:List*",
            "Action::s3:Abort*",
            "Action::s3:DeleteObject*",
            {"regex": r"/^Resource::arn:aws:s3:::cdk-[a-z0-9]+-assets-<AWS::AccountId>-[a-z0-9-]+\/\*$/"},
            {"regex": r"/^Resource::<FrontendSite[0-9A-F]{8}\.Arn>\/\*$/"},
            "Resource::*",
        ],
    },
    {
        "id": "AwsSolutions-L1",
        "reason": "The BucketDeployment handler's Python runtime is pinned by aws-cdk-lib (it bundles the "
        "AWS CLI layer for that runtime); upgraded with aws-cdk-lib.",
    },
]

_CDK_INTERNALS: dict[str, list[dict[str, Any]]] = {
    "BucketNotificationsHandler": _BUCKET_NOTIFICATIONS,
    "Custom::CDKBucketDeployment": _BUCKET_DEPLOYMENT,
}


def suppress_cdk_internals(stack: Stack) -> None:
    """Acknowledge findings on CDK's singleton handlers at the top level of ``stack``."""
    for child in stack.node.children:
        for prefix, suppressions in _CDK_INTERNALS.items():
            if child.node.id.startswith(prefix):
                NagSuppressions.add_resource_suppressions(child, suppressions, apply_to_children=True)
