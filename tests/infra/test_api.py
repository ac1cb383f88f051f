"""API: HTTP API + Mangum function, JWT authorizer switchable per stage, throttling, Cognito."""

from __future__ import annotations

import pytest

from infra import topology
from tests.infra.conftest import Stage

pytestmark = pytest.mark.infra


def _route(stage: Stage) -> dict:
    template = stage.stateless_template
    api_id = template.logical_id(stage.stateless.api.http_api)
    (route,) = [
        r["Properties"]
        for r in template.of_type("AWS::ApiGatewayV2::Route").values()
        if r["Properties"]["ApiId"] == {"Ref": api_id}
    ]
    return route


def test_http_api_routes_api_paths_to_the_mangum_function(prod: Stage) -> None:
    trigger = topology.FUNCTIONS["api"].trigger
    assert isinstance(trigger, topology.HttpTrigger)
    route = _route(prod)
    assert route["RouteKey"] == f"ANY {trigger.path}"
    integration_id = route["Target"]["Fn::Join"][1][1]["Ref"]
    integration = prod.stateless_template.resources[integration_id]["Properties"]
    assert integration["IntegrationType"] == "AWS_PROXY"
    assert integration["PayloadFormatVersion"] == "2.0"
    assert prod.stateless_template.logical_id(prod.stateless.api.function.function) in str(
        integration["IntegrationUri"]
    )


def test_prod_requires_a_cognito_jwt(prod: Stage) -> None:
    template = prod.stateless_template
    route = _route(prod)
    assert route["AuthorizationType"] == "JWT"
    authorizer = template.resources[route["AuthorizerId"]["Ref"]]["Properties"]
    assert authorizer["AuthorizerType"] == "JWT"
    users = prod.stateless.api.users
    assert users is not None
    assert authorizer["JwtConfiguration"]["Audience"] == [{"Ref": template.logical_id(users.client)}]
    assert template.logical_id(users.pool) in str(authorizer["JwtConfiguration"]["Issuer"])
    pool = template.props(users.pool)
    assert pool["MfaConfiguration"] == "ON"
    assert pool["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True


def test_dev_switches_the_authorizer_off(dev: Stage) -> None:
    assert dev.stateless.config.auth_enabled is False
    assert _route(dev).get("AuthorizationType", "NONE") == "NONE"
    assert dev.stateless.api.users is None
    assert not dev.stateless_template.of_type("AWS::Cognito::UserPool")


def test_default_stage_is_throttled_and_logged(prod: Stage) -> None:
    stage = prod.stateless_template.props(prod.stateless.api.stage)
    assert stage["StageName"] == "$default"
    assert stage["DefaultRouteSettings"]["ThrottlingRateLimit"] == prod.stateless.config.api_rate_limit
    assert stage["DefaultRouteSettings"]["ThrottlingBurstLimit"] == prod.stateless.config.api_burst_limit
    assert "AccessLogSettings" in stage
