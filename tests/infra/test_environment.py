"""The environment each function receives: what product_importer.settings reads, nothing local-only."""

from __future__ import annotations

import pytest
from product_importer.settings import Settings

from infra import topology
from infra.cdk import names
from infra.cdk.functions import MAX_DROP_BYTES_ENV
from tests.infra.conftest import Stage

pytestmark = pytest.mark.infra

COMMON = {
    names.ENV_POWERTOOLS_SERVICE_NAME,
    names.ENV_POWERTOOLS_METRICS_NAMESPACE,
    names.ENV_LOG_LEVEL,
    names.ENV_CHUNK_ROWS,
    names.ENV_MAX_UPLOAD_BYTES,
    names.ENV_UNDO_RETENTION_DAYS,
    names.ENV_CHUNK_MAX_RECEIVES,
    names.ENV_OBJECT_EVENTS_MAX_RECEIVES,
    names.ENV_UPLOADS_BUCKET,
    names.ENV_OBJECT_EVENTS_QUEUE_URL,
    names.ENV_CHUNKS_QUEUE_URL,
    names.ENV_CHUNKS_DLQ_URL,
    names.ENV_WEBHOOKS_QUEUE_URL,
    names.ENV_FINISHED_QUEUE_URL,
    names.ENV_PROGRESS_TABLE,
    names.ENV_CONNECTIONS_TABLE,
    names.ENV_WEBSOCKET_URL,
    names.ENV_WEBSOCKET_MANAGEMENT_URL,
}
if MAX_DROP_BYTES_ENV:  # partner drops' own limit, where the pipeline reads one (test_lifecycle.py)
    COMMON.add(MAX_DROP_BYTES_ENV)
DATABASE = {names.ENV_DB_SECRET_ARN, names.ENV_DB_PROXY_ENDPOINT, names.ENV_DB_NAME}
SIGN_IN = {names.ENV_AUTH_USER_POOL_ID, names.ENV_AUTH_CLIENT_ID, names.ENV_AUTH_DOMAIN}
# The websocket function records the caller's group at $connect where sign-in is on: it knows the pool.
WEBSOCKET_SIGN_IN = {names.ENV_AUTH_USER_POOL_ID, names.ENV_AUTH_CLIENT_ID}
WEBHOOK_SECRETS = {names.ENV_WEBHOOKS_KMS_KEY_ID, names.ENV_WEBHOOKS_MAX}
POWERTOOLS_ONLY = {
    names.ENV_POWERTOOLS_SERVICE_NAME,
    names.ENV_POWERTOOLS_METRICS_NAMESPACE,
    names.ENV_LOG_LEVEL,
}


@pytest.mark.parametrize("name", sorted(topology.FUNCTIONS))
def test_function_environment(prod: Stage, name: str) -> None:
    spec = topology.FUNCTIONS[name]
    env = prod.stateless_template.props(prod.stateless.functions[name].function)["Environment"]["Variables"]
    # prod has sign-in: the api tells the UI where, the websocket function checks groups
    sign_in = {"api": SIGN_IN, "websocket": WEBSOCKET_SIGN_IN}.get(name, set())
    secrets = WEBHOOK_SECRETS if name in ("api", "webhooks") else set()  # they seal / open webhook secrets
    assert set(env) == (
        COMMON | (DATABASE if spec.needs_database else set()) | set(spec.extra_env) | sign_in | secrets
    )
    # Never the local-mode switches: the cloud is not a laptop.
    assert not {"DATABASE_URL", "AWS_ENDPOINT_URL", "LOCAL_MODE"} & set(env)


def test_every_variable_except_powertools_is_a_settings_field() -> None:
    fields = {f.upper() for f in Settings.model_fields}
    migrations_only = {names.ENV_DB_OWNER_SECRET_ARN, names.ENV_DB_MASTER_SECRET_ARN}
    assert fields >= (COMMON | DATABASE | SIGN_IN | WEBHOOK_SECRETS | migrations_only) - POWERTOOLS_ONLY


def test_the_webhook_functions_seal_with_the_stages_kms_key(prod: Stage) -> None:
    key = prod.stateful.webhook_key.key
    for name in ("api", "webhooks"):
        env = prod.stateless_template.props(prod.stateless.functions[name].function)["Environment"]["Variables"]
        assert prod.stateful_template.logical_id(key) in str(env[names.ENV_WEBHOOKS_KMS_KEY_ID])
        assert env[names.ENV_WEBHOOKS_MAX] == str(prod.stateless.config.webhooks_max)


def test_sign_in_settings_name_the_pool_the_ui_client_and_the_hosted_domain(prod: Stage) -> None:
    template = prod.stateless_template
    users = prod.stateless.api.users
    assert users is not None and users.client is not None
    env = template.props(prod.stateless.api.function.function)["Environment"]["Variables"]
    assert env[names.ENV_AUTH_USER_POOL_ID] == {"Ref": template.logical_id(users.pool)}
    assert env[names.ENV_AUTH_CLIENT_ID] == {"Ref": template.logical_id(users.client)}
    domain_id = template.logical_id(users.domain)
    assert env[names.ENV_AUTH_DOMAIN] == {
        "Fn::Join": ["", [{"Ref": domain_id}, ".auth.eu-west-1.amazoncognito.com"]]
    }


def test_stages_without_sign_in_set_no_auth_variables(dev: Stage) -> None:
    for service in dev.stateless.functions.values():
        env = dev.stateless_template.props(service.function)["Environment"]["Variables"]
        assert not SIGN_IN & set(env)


def test_consumer_gives_up_on_the_same_receive_count_as_the_queue(prod: Stage) -> None:
    env = prod.stateless_template.props(prod.stateless.functions["consumer"].function)["Environment"][
        "Variables"
    ]
    assert env[names.ENV_CHUNK_MAX_RECEIVES] == str(topology.QUEUES["chunks"].max_receive_count)
