"""Who may touch what: every function's grants, in one table-like module.

Event sources add their own consume grants (SQS receive/delete on the trigger queue, stream reads).
Everything else a function may do is listed here and nowhere else; ``tests/infra`` asserts that each
role's policy names exactly these resources.

| function    | S3 uploads bucket                  | tables                         | queues (send) | other                     |
|-------------|------------------------------------|--------------------------------|---------------|---------------------------|
| api         | PutObject uploads/* (presigned)    | progress rw                    | -             | DB secret                 |
| splitter    | Get(Version) uploads/*, incoming/* | progress rw                    | chunks, hooks | DB secret                 |
| consumer    | Get(Version) uploads/*, incoming/* | progress rw                    | webhooks      | DB secret                 |
| broadcaster | -                                  | connections read + delete      | -             | @connections              |
| websocket   | -                                  | connections rw, progress read  | -             | @connections (snapshot)   |
| webhooks    | -                                  | -                              | -             | DB secret                 |
| migrations  | -                                  | -                              | -             | DB secret                 |
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sqs as sqs
from cdk_nag import NagSuppressions

from infra import topology

OBJECT_READ_ACTIONS = ["s3:GetObject", "s3:GetObjectVersion"]
CONNECTION_ITEM_ACTIONS = [
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
]


@dataclass(frozen=True)
class Resources:
    uploads: s3.IBucket
    progress: dynamodb.ITableV2
    connections: dynamodb.ITableV2
    chunks: sqs.IQueue
    webhooks: sqs.IQueue
    db_secret: secretsmanager.ISecret
    websocket_stage: apigwv2.WebSocketStage


def acknowledge(grantee: iam.IGrantable, finding: str, reason: str, *, regex: str | None = None) -> None:
    """Record why an AwsSolutions-IAM5 wildcard in this grantee's policy is intended."""
    role = grantee.grant_principal
    if not isinstance(role, iam.Role):
        raise TypeError("grants go to the functions' own roles")
    applies_to: str | dict[str, str] = {"regex": regex} if regex else finding
    NagSuppressions.add_resource_suppressions(
        role,
        [{"id": "AwsSolutions-IAM5", "reason": reason, "appliesTo": [applies_to]}],
        apply_to_children=True,
    )


def _objects_regex(prefixes: tuple[str, ...]) -> str:
    alternatives = "|".join(p.strip("/") for p in prefixes)
    return rf"/^Resource::<StorageUploads[0-9A-F]{{8}}\.Arn>\/({alternatives})\/\*$/"


def read_watched_objects(grantee: iam.IGrantable, bucket: s3.IBucket) -> None:
    """Ranged, version-pinned GETs of uploaded and partner-dropped CSVs."""
    grantee.grant_principal.add_to_principal_policy(
        iam.PolicyStatement(
            actions=OBJECT_READ_ACTIONS,
            resources=[bucket.arn_for_objects(f"{prefix}*") for prefix in topology.WATCHED_PREFIXES],
        )
    )
    acknowledge(
        grantee,
        "uploads/* and incoming/*",
        "Object keys are per import (uploads/<import id>.csv) or chosen by partners (incoming/<partner>/...): "
        "reads are confined to the two watched prefixes, GetObject/GetObjectVersion only.",
        regex=_objects_regex(topology.WATCHED_PREFIXES),
    )


def write_uploads(grantee: iam.IGrantable, bucket: s3.IBucket) -> None:
    """The API signs presigned POSTs for ``uploads/<import id>.csv``; the signer needs PutObject there."""
    grantee.grant_principal.add_to_principal_policy(
        iam.PolicyStatement(
            actions=["s3:PutObject"], resources=[bucket.arn_for_objects(f"{topology.UPLOAD_PREFIX}*")]
        )
    )
    acknowledge(
        grantee,
        "uploads/*",
        "Presigned POSTs are signed per import id, unknown at deploy; PutObject is confined to uploads/.",
        regex=_objects_regex((topology.UPLOAD_PREFIX,)),
    )


def manage_connections(grantee: iam.IGrantable, stage: apigwv2.WebSocketStage) -> None:
    """``execute-api:ManageConnections``: POST (send) to @connections of this API's stage only."""
    api_id = stage.api.api_id
    arn = Stack.of(stage).format_arn(
        service="execute-api",
        resource=api_id,
        resource_name=f"{stage.stage_name}/POST/@connections/*",
        arn_format=ArnFormat.SLASH_RESOURCE_NAME,
    )
    grantee.grant_principal.add_to_principal_policy(
        iam.PolicyStatement(actions=["execute-api:ManageConnections"], resources=[arn])
    )
    acknowledge(
        grantee,
        "Resource::arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:<*>/*/POST/@connections/*",
        "A connection id exists only at run time (one per browser); the grant is confined to POST on "
        "this API's own stage.",
        regex=r"/^Resource::arn:.*:execute-api:.*\/POST\/@connections\/\*$/",
    )


def connections_items(grantee: iam.IGrantable, table: dynamodb.ITableV2) -> None:
    """Item operations on the connections table (no scans, not on indexes)."""
    grantee.grant_principal.add_to_principal_policy(
        iam.PolicyStatement(actions=CONNECTION_ITEM_ACTIONS, resources=[table.table_arn])
    )


def subscribers_lookup(grantee: iam.IGrantable, table: dynamodb.ITableV2) -> None:
    """Query the ``by_import`` index and delete gone connections."""
    connections = cast(dict[str, Any], topology.TABLES["connections"])
    indexes: dict[str, Any] = connections["indexes"]
    index_name = next(iter(indexes))
    grantee.grant_principal.add_to_principal_policy(
        iam.PolicyStatement(actions=["dynamodb:Query"], resources=[f"{table.table_arn}/index/{index_name}"])
    )
    grantee.grant_principal.add_to_principal_policy(
        iam.PolicyStatement(actions=["dynamodb:DeleteItem"], resources=[table.table_arn])
    )


def grant_all(functions: dict[str, iam.IGrantable], resources: Resources) -> None:
    """Apply the table above. ``functions`` is keyed by topology name (+ ``migrations``)."""
    r = resources

    api = functions["api"]
    write_uploads(api, r.uploads)
    r.progress.grant_read_write_data(api)
    r.db_secret.grant_read(api)

    splitter = functions["splitter"]
    read_watched_objects(splitter, r.uploads)
    r.progress.grant_read_write_data(splitter)
    r.chunks.grant_send_messages(splitter)
    r.webhooks.grant_send_messages(splitter)
    r.db_secret.grant_read(splitter)

    consumer = functions["consumer"]
    read_watched_objects(consumer, r.uploads)
    r.progress.grant_read_write_data(consumer)
    r.webhooks.grant_send_messages(consumer)
    r.db_secret.grant_read(consumer)

    broadcaster = functions["broadcaster"]
    subscribers_lookup(broadcaster, r.connections)
    manage_connections(broadcaster, r.websocket_stage)

    websocket = functions["websocket"]
    connections_items(websocket, r.connections)
    r.progress.grant_read_data(websocket)
    manage_connections(websocket, r.websocket_stage)

    r.db_secret.grant_read(functions["webhooks"])
    r.db_secret.grant_read(functions["migrations"])
