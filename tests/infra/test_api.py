"""API: HTTP API + Mangum function, JWT authorizer switchable per stage, throttling, Cognito."""

from __future__ import annotations

import pytest
from aws_cdk import App, Stack
from aws_cdk.assertions import Template

from infra import topology
from infra.cdk.api import Users
from infra.cdk.config import stage_config
from tests.infra.conftest import Stage

pytestmark = pytest.mark.infra


def _routes(stage: Stage) -> dict[str, dict]:
    template = stage.stateless_template
    api_id = template.logical_id(stage.stateless.api.http_api)
    return {
        r["Properties"]["RouteKey"]: r["Properties"]
        for r in template.of_type("AWS::ApiGatewayV2::Route").values()
        if r["Properties"]["ApiId"] == {"Ref": api_id}
    }


TRIGGER = topology.FUNCTIONS["api"].trigger
assert isinstance(TRIGGER, topology.HttpTrigger)
PROXY_ROUTE = f"ANY {TRIGGER.path}"
PUBLIC_ROUTES = {f"GET {path}" for path in TRIGGER.public_paths}


def test_http_api_routes_api_paths_to_the_mangum_function(prod: Stage) -> None:
    routes = _routes(prod)
    assert set(routes) == {PROXY_ROUTE} | PUBLIC_ROUTES
    assert {"GET /api/config", "GET /api/health"} == PUBLIC_ROUTES
    targets = {route["Target"]["Fn::Join"][1][1]["Ref"] for route in routes.values()}
    (integration_id,) = targets  # one integration, every route
    integration = prod.stateless_template.resources[integration_id]["Properties"]
    assert integration["IntegrationType"] == "AWS_PROXY"
    assert integration["PayloadFormatVersion"] == "2.0"
    assert prod.stateless_template.logical_id(prod.stateless.api.function.function) in str(
        integration["IntegrationUri"]
    )


def test_prod_requires_a_cognito_jwt_except_for_config_and_health(prod: Stage) -> None:
    template = prod.stateless_template
    routes = _routes(prod)
    route = routes[PROXY_ROUTE]
    assert route["AuthorizationType"] == "JWT"
    authorizer = template.resources[route["AuthorizerId"]["Ref"]]["Properties"]
    assert authorizer["AuthorizerType"] == "JWT"
    assert authorizer["IdentitySource"] == ["$request.header.Authorization"]
    users = prod.stateless.api.users
    assert users is not None and users.client is not None
    assert authorizer["JwtConfiguration"]["Audience"] == [{"Ref": template.logical_id(users.client)}]
    assert template.logical_id(users.pool) in str(authorizer["JwtConfiguration"]["Issuer"])
    pool = template.props(users.pool)
    assert pool["MfaConfiguration"] == "ON"
    assert pool["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    # the UI learns how to sign in before it has a token
    for key in PUBLIC_ROUTES:
        assert routes[key].get("AuthorizationType", "NONE") == "NONE", key
        assert "AuthorizerId" not in routes[key]


def test_the_ui_client_signs_in_with_code_and_pkce_at_the_site_url(prod: Stage) -> None:
    template = prod.stateless_template
    users = prod.stateless.api.users
    assert users is not None and users.client is not None
    client = template.props(users.client)
    assert client["GenerateSecret"] is False
    assert client["AllowedOAuthFlowsUserPoolClient"] is True
    assert client["AllowedOAuthFlows"] == ["code"]  # authorization code (+ PKCE from the browser), no implicit
    assert sorted(client["AllowedOAuthScopes"]) == ["email", "openid", "profile"]
    assert client["SupportedIdentityProviders"] == ["COGNITO"]
    assert client["EnableTokenRevocation"] is True
    site = template.logical_id(prod.stateless.frontend.distribution)
    (callback,) = client["CallbackURLs"]
    (logout,) = client["LogoutURLs"]
    assert callback == {"Fn::Join": ["", ["https://", {"Fn::GetAtt": [site, "DomainName"]}, "/auth/callback"]]}
    assert logout == {"Fn::Join": ["", ["https://", {"Fn::GetAtt": [site, "DomainName"]}, "/"]]}


def test_the_hosted_sign_in_domain_uses_the_stage_prefix(prod: Stage) -> None:
    users = prod.stateless.api.users
    assert users is not None
    domain = prod.stateless_template.props(users.domain)
    assert domain["Domain"] == "product-importer-prod"
    assert domain["UserPoolId"] == {"Ref": prod.stateless_template.logical_id(users.pool)}
    outputs = prod.stateless_template.data["Outputs"]
    assert {"SignInDomain", "UserPoolId", "UserPoolClientId"} <= set(outputs)


def test_extra_origins_get_their_own_callback_and_logout_urls() -> None:
    # given a stage that also signs in from a custom domain and a local dev UI
    config = stage_config(
        "prod",
        {"prod": {"region": "eu-west-1", "availabilityZones": ["eu-west-1a", "eu-west-1b"],
                  "corsOrigins": ["https://imports.example.com"], "authDomainPrefix": "acme-imports",
                  "authCallbackOrigins": ["https://imports.example.com", "http://localhost:5173"]}},
    )
    stack = Stack(App(), "T")
    users = Users(stack, "Users", config=config)
    users.add_spa_client("https://d111.cloudfront.net")
    # then the CloudFront URL and both extra origins are called back and signed out to
    template = Template.from_stack(stack)
    template.has_resource_properties(
        "AWS::Cognito::UserPoolClient",
        {
            "CallbackURLs": [
                "https://d111.cloudfront.net/auth/callback",
                "https://imports.example.com/auth/callback",
                "http://localhost:5173/auth/callback",
            ],
            "LogoutURLs": ["https://d111.cloudfront.net/", "https://imports.example.com/", "http://localhost:5173/"],
        },
    )
    template.has_resource_properties("AWS::Cognito::UserPoolDomain", {"Domain": "acme-imports"})


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("authCallbackOrigins", ["http://imports.example.com"]),
        ("authCallbackOrigins", ["https://imports.example.com/"]),
        ("authCallbackOrigins", ["https://imports.example.com/app"]),
        ("authDomainPrefix", "Product_Importer"),
        ("authDomainPrefix", "my-cognito-login"),
    ],
)
def test_sign_in_settings_are_checked_before_synthesis(key: str, value: object) -> None:
    stage = {"region": "eu-west-1", "availabilityZones": ["eu-west-1a", "eu-west-1b"],
             "corsOrigins": ["https://imports.example.com"], key: value}
    with pytest.raises(ValueError, match=key):
        stage_config("prod", {"prod": stage})


def test_dev_switches_the_authorizer_off(dev: Stage) -> None:
    assert dev.stateless.config.auth_enabled is False
    for route in _routes(dev).values():
        assert route.get("AuthorizationType", "NONE") == "NONE"
    assert dev.stateless.api.users is None
    assert not dev.stateless_template.of_type("AWS::Cognito::UserPool")


def test_default_stage_is_throttled_and_logged(prod: Stage) -> None:
    stage = prod.stateless_template.props(prod.stateless.api.stage)
    assert stage["StageName"] == "$default"
    assert stage["DefaultRouteSettings"]["ThrottlingRateLimit"] == prod.stateless.config.api_rate_limit
    assert stage["DefaultRouteSettings"]["ThrottlingBurstLimit"] == prod.stateless.config.api_burst_limit
    assert "AccessLogSettings" in stage
