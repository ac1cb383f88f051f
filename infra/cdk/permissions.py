"""Who may touch what: every function's grants, in one table-like module.

Derived from what the handlers and ``product_importer`` actually call. Event sources add their own grants
(SQS receive/delete/change-visibility on the trigger queue, stream reads). Everything else a function may do
is listed here and nowhere else; ``tests/infra`` asserts that each role names exactly these resources.

"DB secret" is the application role's (DML only); only the migrations trigger reads the owner's and the
master's. The webhook-secrets key is usable only with the webhook-secret encryption context.

| function    | S3 uploads bucket                   | progress table                 | connections table         | send to  | other          |
|-------------|-------------------------------------|--------------------------------|---------------------------|----------|----------------|
| api         | PutObject uploads/* (presigned POST); Put/Get exports/* | get/put/update, list index | - | object-events (apply), chunks (revert, replace) | DB secret, KMS encrypt/decrypt |
| splitter    | Get(Version) uploads/*, incoming/*; Put/Get transcoded/* | get/put/update                 | -                         | chunks, object-events (continuation) | DB secret |
| consumer    | Get(Version) uploads/*, incoming/*, transcoded/* | get/update                     | -                         | chunks (the rest of a long replace) | DB secret |
| broadcaster | -                                   | (stream, via event source)     | by_import query, get, batch delete | finished | POST @connections |
| websocket   | -                                   | get (a finished import's status on subscribe) | get/put/update/delete, batch delete | - | -            |
| finisher    | -                                   | -                              | -                         | finished (resume), webhooks (fan-out) | DB secret |
| webhooks    | -                                   | -                              | -                         | finished (jobs sent before the split) | DB secret, KMS encrypt/decrypt |
| dead_letter | Get(Version) uploads/*, incoming/*  | get/put/update                 | -                         | -        | DB secret (+ the two DLQs, via event sources) |
| expire_pending | -                                | get/update, list index         | -                         | -        | DB secret (EventBridge schedule) |
| purge_undo  | -                                   | -                              | -                         | -        | DB secret (EventBridge schedule) |
| migrations  | -                                   | -                              | -                         | -        | DB master, owner and app secrets |
| connect_authorizer | -                            | -                              | -                         | -        | - (fetches the pool's public JWKS over HTTPS) |
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
from product_importer.naming import EXPORT_PREFIX, TRANSCODED_PREFIX

from infra import topology
from infra.cdk.webhooks import WebhookSecretsKey

OBJECT_READ_ACTIONS = ["s3:GetObject", "s3:GetObjectVersion"]  # HeadObject and ranged GETs of a version
PROGRESS_WRITER = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
PROGRESS_UPDATER = ["dynamodb:GetItem", "dynamodb:UpdateItem"]
CONNECTION_SESSION = [
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
]
CONNECTION_FANOUT = ["dynamodb:GetItem", "dynamodb:BatchWriteItem"]


@dataclass(frozen=True)
class Resources:
    uploads: s3.IBucket
    object_events: sqs.IQueue
    progress: dynamodb.ITableV2
    connections: dynamodb.ITableV2
    chunks: sqs.IQueue
    webhooks: sqs.IQueue
    finished: sqs.IQueue
    db_secret: secretsmanager.ISecret
    db_owner_secret: secretsmanager.ISecret
    db_master_secret: secretsmanager.ISecret
    webhook_key: WebhookSecretsKey
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


WRITE_ACTIONS = ["s3:PutObject", "s3:AbortMultipartUpload"]  # a write, multipart included


def prefix_objects(grantee: iam.IGrantable, bucket: s3.IBucket, prefix: str, actions: list[str], why: str) -> None:
    """``actions`` on the objects under ``prefix`` only (their keys are per import, unknown at deploy)."""
    grantee.grant_principal.add_to_principal_policy(
        iam.PolicyStatement(actions=actions, resources=[bucket.arn_for_objects(f"{prefix}*")])
    )
    acknowledge(grantee, f"{prefix}*", f"{why}; confined to {prefix}.", regex=_objects_regex((prefix,)))


def transcoded(grantee: iam.IGrantable, bucket: s3.IBucket, *, write: bool = False) -> None:
    """The UTF-8 copy of a UTF-16 file (``transcoded/<import id>.csv``): the splitter writes it, the
    consumers (and the dead-letter handler) read it as they read uploads."""
    actions = [*OBJECT_READ_ACTIONS, *(WRITE_ACTIONS if write else [])]
    prefix_objects(grantee, bucket, TRANSCODED_PREFIX, actions, "Transcoded copies are per import, unknown at deploy")


def exports(grantee: iam.IGrantable, bucket: s3.IBucket) -> None:
    """An errors.csv too large for a Lambda response is written under ``exports/`` and answered with a
    presigned GET of it (the signer needs GetObject there)."""
    prefix_objects(grantee, bucket, EXPORT_PREFIX, [*WRITE_ACTIONS, "s3:GetObject"],
                   "Export keys are per import and request, unknown at deploy")


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


def table_items(grantee: iam.IGrantable, table: dynamodb.ITableV2, actions: list[str]) -> None:
    """Item-level actions on the table itself (not on its indexes)."""
    grantee.grant_principal.add_to_principal_policy(
        iam.PolicyStatement(actions=actions, resources=[table.table_arn])
    )


def query_index(grantee: iam.IGrantable, table: dynamodb.ITableV2, table_name: str) -> None:
    """``Query`` on the one index ``infra.topology`` declares for ``table_name``."""
    spec = cast(dict[str, Any], topology.TABLES[table_name])
    indexes: dict[str, Any] = spec["indexes"]
    (index_name,) = indexes
    grantee.grant_principal.add_to_principal_policy(
        iam.PolicyStatement(actions=["dynamodb:Query"], resources=[f"{table.table_arn}/index/{index_name}"])
    )


def grant_all(functions: dict[str, iam.IGrantable], resources: Resources) -> None:
    """Apply the table above. ``functions`` is keyed by topology name (+ ``migrations``)."""
    r = resources

    api = functions["api"]
    write_uploads(api, r.uploads)
    exports(api, r.uploads)  # an errors.csv over the inline limit: written, then a presigned GET of it
    table_items(api, r.progress, PROGRESS_WRITER)
    query_index(api, r.progress, "progress")
    r.object_events.grant_send_messages(api)  # applying a preview: the splitter's job for the same file
    r.chunks.grant_send_messages(api)  # a revert's chunks, a confirmed replace
    r.db_secret.grant_read(api)
    r.webhook_key.grant(api, "kms:Encrypt", "kms:Decrypt")  # seal a new secret; open it for /test

    splitter = functions["splitter"]
    read_watched_objects(splitter, r.uploads)
    transcoded(splitter, r.uploads, write=True)  # a UTF-16 file is split from its UTF-8 copy
    table_items(splitter, r.progress, PROGRESS_WRITER)
    r.chunks.grant_send_messages(splitter)
    r.object_events.grant_send_messages(splitter)  # a split that runs out of time hands the rest on
    r.db_secret.grant_read(splitter)

    consumer = functions["consumer"]
    read_watched_objects(consumer, r.uploads)
    transcoded(consumer, r.uploads)
    table_items(consumer, r.progress, PROGRESS_UPDATER)
    r.chunks.grant_send_messages(consumer)  # the rest of a long replace, as a new message
    r.db_secret.grant_read(consumer)

    broadcaster = functions["broadcaster"]
    query_index(broadcaster, r.connections, "connections")
    table_items(broadcaster, r.connections, CONNECTION_FANOUT)
    manage_connections(broadcaster, r.websocket_stage)
    r.finished.grant_send_messages(broadcaster)

    table_items(functions["websocket"], r.connections, CONNECTION_SESSION)
    table_items(functions["websocket"], r.progress, ["dynamodb:GetItem"])  # a finished import, on subscribe

    finisher = functions["finisher"]
    r.finished.grant_send_messages(finisher)
    r.webhooks.grant_send_messages(finisher)
    r.db_secret.grant_read(finisher)

    webhooks = functions["webhooks"]
    r.finished.grant_send_messages(webhooks)
    r.db_secret.grant_read(webhooks)
    r.webhook_key.grant(webhooks, "kms:Encrypt", "kms:Decrypt")  # open to sign; seal a pre-KMS plaintext

    # The lifecycle functions (infra.cdk.lifecycle), where the topology declares them.
    if "dead_letter" in functions:
        dead_letter = functions["dead_letter"]  # its DLQ event sources grant the receives
        table_items(dead_letter, r.progress, PROGRESS_WRITER)
        read_watched_objects(dead_letter, r.uploads)  # a dead-lettered drop: which import its object made
        transcoded(dead_letter, r.uploads)
        r.db_secret.grant_read(dead_letter)
    if "expire_pending" in functions:
        expire = functions["expire_pending"]
        table_items(expire, r.progress, PROGRESS_UPDATER)
        query_index(expire, r.progress, "progress")  # pending imports, newest first
        r.db_secret.grant_read(expire)

    if "purge_undo" in functions:
        r.db_secret.grant_read(functions["purge_undo"])  # drops old undo partitions (the owner's function)

    migrations = functions["migrations"]
    for secret in (r.db_master_secret, r.db_owner_secret, r.db_secret):
        secret.grant_read(migrations)
