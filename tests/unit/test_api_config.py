"""/api/config: how the UI signs in (``auth``), or null where no token is needed (local mode, auth off)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from product_importer.api import deps
from product_importer.api.app import create_app
from product_importer.settings import Settings

SIGN_IN = {
    "auth_user_pool_id": "eu-west-1_AbC123",
    "auth_client_id": "spa-client",
    "auth_domain": "product-importer-prod.auth.eu-west-1.amazoncognito.com",
}


def config_for(**settings: Any) -> dict[str, Any]:
    app = create_app()
    app.dependency_overrides[deps.settings] = lambda: Settings(**settings)
    with TestClient(app) as client:
        reply = client.get("/api/config")
    assert reply.status_code == 200
    body: dict[str, Any] = reply.json()
    return body


def test_a_stage_with_sign_in_tells_the_ui_where_to_sign_in() -> None:
    body = config_for(aws_region="eu-west-1", websocket_url="wss://ws.example/prod", **SIGN_IN)
    assert body["auth"] == {
        "type": "cognito",
        "region": "eu-west-1",
        "user_pool_id": "eu-west-1_AbC123",
        "client_id": "spa-client",
        "domain": "product-importer-prod.auth.eu-west-1.amazoncognito.com",
    }
    assert body["websocket_url"] == "wss://ws.example/prod"


@pytest.mark.parametrize(
    "settings",
    [{}, {"local_mode": True, **SIGN_IN}, {"auth_user_pool_id": "eu-west-1_AbC123"}],
    ids=["auth-off", "local-mode", "half-configured"],
)
def test_auth_is_null_where_the_api_needs_no_token(settings: dict[str, Any]) -> None:
    assert config_for(**settings)["auth"] is None
