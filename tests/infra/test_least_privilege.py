"""IAM least privilege: each function's policy names exactly the resources it uses."""

from __future__ import annotations

import pytest

from infra.cdk.functions import VPC_ACCESS_ACTIONS
from infra.cdk.lifecycle import lifecycle_specs
from tests.infra.conftest import Stage
from tests.infra.template_queries import as_list, referenced_ids

pytestmark = pytest.mark.infra

UNSCOPED_ACTIONS = {
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "dynamodb:ListStreams",
    *VPC_ACCESS_ACTIONS,
}


def expected_resources(stage: Stage) -> dict[str, set]:
    """Which resources each role may name: the table in infra/cdk/permissions.py, plus event sources."""
    stateful, stateless = stage.stateful, stage.stateless
    a, b = stage.stateful_template.logical_id, stage.stateless_template.logical_id
    bucket = a(stateful.storage.bucket)
    progress = a(stateful.tables.progress)
    connections = a(stateful.tables.connections)
    secret = a(stateful.database.secret)  # the application role's: DML only
    owner_secret = a(stateful.database.owner_secret)
    master_secret = a(stateful.database.master_secret)
    webhook_key = a(stateful.webhook_key.key)
    object_events = a(stateful.storage.object_events.queue)
    chunks = b(stateless.pipeline.chunks.queue)
    webhooks = b(stateless.webhooks.deliveries.queue)
    finished = b(stateless.webhooks.finished.queue)
    websocket_api = b(stateless.live.api)
    failed_batches = b(stateless.live.failed_batches)
    own = {name: {b(fn.log_group)} for name, fn in stateless.functions.items()}
    return {
        "api": own["api"] | {bucket, progress, secret, webhook_key, object_events, chunks},
        "splitter": own["splitter"] | {object_events, bucket, progress, chunks, secret},
        "consumer": own["consumer"] | {chunks, bucket, progress, secret},
        "broadcaster": own["broadcaster"] | {progress, connections, websocket_api, failed_batches, finished},
        "websocket": own["websocket"] | {connections, progress},
        "finisher": own["finisher"] | {finished, webhooks, secret},
        "webhooks": own["webhooks"] | {webhooks, finished, secret, webhook_key},
        "migrations": {b(stateless.migrations.log_group), secret, owner_secret, master_secret},
    }


def _roles(stage: Stage) -> dict:
    roles = {name: fn.role for name, fn in stage.stateless.functions.items()}
    roles["migrations"] = stage.stateless.migrations.role
    return roles


@pytest.mark.parametrize(
    "name", ["api", "splitter", "consumer", "broadcaster", "websocket", "finisher", "webhooks", "migrations"]
)
def test_role_names_only_the_resources_its_function_uses(prod: Stage, name: str) -> None:
    # Given the role of one function and every statement attached to it
    template = prod.stateless_template
    statements = template.policies_of_role(_roles(prod)[name])
    known = set(prod.stateful_template.resources) | set(template.resources)

    # Then the resources it names are exactly the ones in the permissions table
    named = set().union(*(referenced_ids(s["Resource"], known) for s in statements))
    assert named == expected_resources(prod)[name]

    # And '*' only carries actions that AWS does not scope to resources
    for statement in statements:
        actions = set(as_list(statement["Action"]))
        assert not any("*" in action for action in actions), actions
        if "*" in as_list(statement["Resource"]):
            assert actions <= UNSCOPED_ACTIONS, actions


def test_only_the_api_writes_under_uploads_and_exports_and_only_the_splitter_under_transcoded(prod: Stage) -> None:
    template = prod.stateless_template
    for name, role in _roles(prod).items():
        puts = [s for s in template.policies_of_role(role) if "s3:PutObject" in as_list(s["Action"])]
        if name == "splitter":
            assert [s["Resource"]["Fn::Join"][1][-1] for s in puts] == ["/transcoded/*"]
            continue
        if name != "api":
            assert not puts, name
            continue
        assert sorted(s["Resource"]["Fn::Join"][1][-1] for s in puts) == ["/exports/*", "/uploads/*"]
        (export,) = [s for s in puts if s["Resource"]["Fn::Join"][1][-1] == "/exports/*"]
        assert "s3:GetObject" in as_list(export["Action"])  # the presigned GET of a large errors.csv


def test_the_utf8_copy_of_a_utf16_file_is_written_by_the_splitter_and_read_by_the_consumers(prod: Stage) -> None:
    """Found by a review: the splitter writes transcoded/<id>.csv and the consumers read it, but no role
    could (a UTF-16 file failed in AWS)."""
    template = prod.stateless_template
    roles = _roles(prod)

    def actions_on_transcoded(name: str) -> set[str]:
        return {a for s in template.policies_of_role(roles[name]) if "/transcoded/*" in str(s["Resource"])
                for a in as_list(s["Action"])}

    assert {"s3:PutObject", "s3:GetObject", "s3:GetObjectVersion"} <= actions_on_transcoded("splitter")
    assert {"s3:GetObject", "s3:GetObjectVersion"} <= actions_on_transcoded("consumer")
    assert "s3:PutObject" not in actions_on_transcoded("consumer")


def test_every_queue_a_handler_sends_to_is_granted_send(prod: Stage) -> None:
    """Found by a review: the api (apply, revert, replace), the splitter (its continuation) and the consumer
    (the rest of a long replace) send to queues their triggers only let them read; the old test compared
    the resources a role names, not its actions."""
    a, b = prod.stateful_template.logical_id, prod.stateless_template.logical_id
    queues = {a(prod.stateful.storage.object_events.queue): "object-events",
              b(prod.stateless.pipeline.chunks.queue): "chunks",
              b(prod.stateless.webhooks.deliveries.queue): "webhooks",
              b(prod.stateless.webhooks.finished.queue): "finished"}
    known = set(prod.stateful_template.resources) | set(prod.stateless_template.resources)
    sends: dict[str, set[str]] = {}
    for name, role in _roles(prod).items():
        for statement in prod.stateless_template.policies_of_role(role):
            if "sqs:SendMessage" in as_list(statement["Action"]):
                sends.setdefault(name, set()).update(
                    queues[r] for r in referenced_ids(statement["Resource"], known) if r in queues)
    assert sends == {
        "api": {"object-events", "chunks"},
        "splitter": {"chunks", "object-events"},
        "consumer": {"chunks"},
        "broadcaster": {"finished"},
        "finisher": {"finished", "webhooks"},
        "webhooks": {"finished"},
    }


def test_database_credentials_are_readable_only_by_database_functions(prod: Stage) -> None:
    template = prod.stateless_template
    secret = prod.stateful_template.logical_id(prod.stateful.database.secret)
    readers = {
        name
        for name, role in _roles(prod).items()
        if any(secret in str(s["Resource"]) for s in template.policies_of_role(role))
    }
    lifecycle = set(lifecycle_specs())  # dead_letter, expire_pending, where the topology has them
    assert readers == {"api", "splitter", "consumer", "finisher", "webhooks", "migrations"} | lifecycle


@pytest.mark.parametrize("secret_name", ["owner_secret", "master_secret"])
def test_only_the_migrations_read_the_owner_and_master_secrets(prod: Stage, secret_name: str) -> None:
    template = prod.stateless_template
    secret = prod.stateful_template.logical_id(getattr(prod.stateful.database, secret_name))
    readers = {
        name
        for name, role in _roles(prod).items()
        if any(secret in str(s["Resource"]) for s in template.policies_of_role(role))
    }
    assert readers == {"migrations"}


def test_the_webhook_key_is_used_only_for_webhook_secrets(prod: Stage) -> None:
    template = prod.stateless_template
    key = prod.stateful_template.logical_id(prod.stateful.webhook_key.key)
    users = {}
    for name, role in _roles(prod).items():
        for statement in template.policies_of_role(role):
            if key in str(statement["Resource"]):
                users[name] = statement
    assert set(users) == {"api", "webhooks"}
    for statement in users.values():
        assert set(as_list(statement["Action"])) == {"kms:Encrypt", "kms:Decrypt"}
        assert statement["Condition"] == {
            "StringEquals": {"kms:EncryptionContext:purpose": "product-importer-webhook-secret"}
        }


def test_table_access_is_item_level_and_indexes_are_named(prod: Stage) -> None:
    """No table-wide Scan, no index wildcard: Query only on the one index each reader uses."""
    template = prod.stateless_template
    for name, role in _roles(prod).items():
        for statement in template.policies_of_role(role):
            actions = set(as_list(statement["Action"]))
            assert "dynamodb:Scan" not in actions, name
            assert "/index/*" not in str(statement["Resource"]), name
            if "dynamodb:Query" in actions:
                (suffix,) = [p for p in statement["Resource"]["Fn::Join"][1] if isinstance(p, str)]
                assert suffix in {"/index/by_created", "/index/by_import"}, (name, suffix)
