"""connect_authorizer: the WebSocket $connect is admitted only with a valid Cognito access token."""

from __future__ import annotations

from typing import Any

import pytest
from product_importer.auth.cognito import CognitoTokenVerifier, SigningKeys

from functions.connect_authorizer.handler import AuthorizerPorts, handler
from infra.local.events import LocalContext, websocket_authorizer_event
from tests.unit.tokens import POOL, FakeIdentityProvider


@pytest.fixture(autouse=True)
def _metrics_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")


@pytest.fixture(scope="module")
def idp() -> FakeIdentityProvider:
    return FakeIdentityProvider()


@pytest.fixture
def ports(idp: FakeIdentityProvider) -> AuthorizerPorts:
    return AuthorizerPorts(CognitoTokenVerifier(POOL, keys=SigningKeys(POOL.jwks_url, idp.fetch)))


def authorize(ports: AuthorizerPorts, query: dict[str, str] | None) -> dict[str, Any]:
    event = websocket_authorizer_event(query)
    reply = handler(event, LocalContext("connect_authorizer"), ports=ports)
    (statement,) = reply["policyDocument"]["Statement"]
    assert statement["Action"] == "execute-api:Invoke"
    assert statement["Resource"] == event["methodArn"]  # this connection's $connect only
    return reply


def effect(reply: dict[str, Any]) -> str:
    return str(reply["policyDocument"]["Statement"][0]["Effect"])


def test_a_valid_access_token_is_allowed_and_names_the_user_and_group(
    ports: AuthorizerPorts, idp: FakeIdentityProvider
) -> None:
    reply = authorize(ports, {"token": idp.token(**{"cognito:groups": ["viewer", "importer"]})})
    assert effect(reply) == "Allow"
    assert reply["principalId"] == "user-sub-1"
    assert reply["context"] == {"sub": "user-sub-1", "username": "ops@example.com", "group": "importer"}


@pytest.mark.parametrize("groups", [None, [], ["Admins", "superuser"]], ids=["no-claim", "empty", "unknown"])
def test_a_signed_in_user_in_no_group_is_denied(
    ports: AuthorizerPorts, idp: FakeIdentityProvider, groups: list[str] | None
) -> None:
    claims = {} if groups is None else {"cognito:groups": groups}
    reply = authorize(ports, {"token": idp.token(**claims)})
    assert effect(reply) == "Deny"
    assert "context" not in reply


@pytest.mark.parametrize(
    "token_kwargs",
    [
        {"exp": 1_000_000},
        {"iss": "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Other"},
        {"client_id": "another-client"},
        {"token_use": "id"},
    ],
    ids=["expired", "wrong-issuer", "wrong-client", "id-token"],
)
def test_tokens_that_fail_a_check_are_denied(
    ports: AuthorizerPorts, idp: FakeIdentityProvider, token_kwargs: dict[str, Any]
) -> None:
    reply = authorize(ports, {"token": idp.token(**{"cognito:groups": ["admin"]}, **token_kwargs)})
    assert effect(reply) == "Deny"
    assert "context" not in reply


@pytest.mark.parametrize("query", [None, {}, {"token": ""}, {"token": "garbage"}, {"other": "x"}])
def test_no_or_garbage_token_is_denied(ports: AuthorizerPorts, query: dict[str, str] | None) -> None:
    assert effect(authorize(ports, query)) == "Deny"


def test_a_forged_token_is_denied(ports: AuthorizerPorts, idp: FakeIdentityProvider) -> None:
    forged = FakeIdentityProvider(kid=idp.kid).token()  # same kid, another private key
    assert effect(authorize(ports, {"token": forged})) == "Deny"


def test_without_sign_in_settings_the_authorizer_refuses_to_start(monkeypatch: pytest.MonkeyPatch) -> None:
    from product_importer.settings import get_settings

    from functions.connect_authorizer import handler as module

    monkeypatch.delenv("AUTH_USER_POOL_ID", raising=False)
    monkeypatch.delenv("AUTH_CLIENT_ID", raising=False)
    get_settings.cache_clear()
    module.default_ports.cache_clear()
    try:
        with pytest.raises(RuntimeError, match="AUTH_USER_POOL_ID"):
            module.default_ports()
    finally:
        get_settings.cache_clear()
        module.default_ports.cache_clear()
