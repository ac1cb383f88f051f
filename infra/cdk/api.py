"""API: the HTTP API in front of the FastAPI app (Mangum), Cognito sign-in + JWT authorizer, throttling.

Who may do what (CONTRACT §8) is decided by the app from the token's ``cognito:groups``; the groups
themselves (``viewer``, ``importer``, ``admin``) are created here, with the user pool. Throttling: the
stage's default route limits for the signed-in API, and lower limits of their own for the two public
routes (``publicRateLimit``), so anonymous calls cannot use up what everyone else needs. Per-client
limits are the edge web ACL's (``infra.cdk.edge``).

``authEnabled`` (per stage) switches sign-in on: a Cognito user pool with its hosted sign-in domain, the
UI's public app client (authorization code + PKCE, called back at the site URL), and the JWT authorizer on
every ``/api/*`` route except the public ones (``GET /api/config`` tells the UI how to sign in, and
``GET /api/health``). It is off only for disposable dev stages. The browser reaches the API through
CloudFront under the same origin.

Two steps, because the app client's callback URLs name the CloudFront distribution, which itself names
the HTTP API: ``Api(...)`` builds the function, pool and HTTP API; ``Api.serve(site_url=...)``, called once
the site exists, adds the app client, the authorizer and the routes.
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_lambda as lambda_
from cdk_nag import NagSuppressions
from constructs import Construct

from infra import topology
from infra.cdk import names
from infra.cdk.api_logs import HTTP_FIELDS, JsonAccessLogs, access_log_group
from infra.cdk.config import StageConfig
from infra.cdk.functions import FunctionNetwork, ServiceFunction, retention

SIGN_IN_SCOPES = [cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL, cognito.OAuthScope.PROFILE]

_GROUP_DESCRIPTIONS = {
    "viewer": "Reads imports, products, changes and mappings (not webhooks).",
    "importer": "Viewer, plus creates, previews and applies imports and saves mappings by header set.",
    "admin": "Importer, plus reverts, replaces, sets partner, edits and deletes products, partner mappings "
    "and webhooks.",
}


class Users(Construct):
    """Cognito user pool (admin-created users, MFA required), its hosted sign-in domain, the SPA's client."""

    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig) -> None:
        super().__init__(scope, construct_id)
        self.config = config
        self.pool = cognito.UserPool(
            self,
            "Pool",
            self_sign_up_enabled=False,
            sign_in_aliases=cognito.SignInAliases(email=True),
            password_policy=cognito.PasswordPolicy(
                min_length=12,
                require_digits=True,
                require_lowercase=True,
                require_uppercase=True,
                require_symbols=True,
                temp_password_validity=Duration.days(3),
            ),
            mfa=cognito.Mfa.REQUIRED,
            mfa_second_factor=cognito.MfaSecondFactor(otp=True, sms=False),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            feature_plan=cognito.FeaturePlan.ESSENTIALS,
            deletion_protection=config.retain_data,
            removal_policy=RemovalPolicy.RETAIN if config.retain_data else RemovalPolicy.DESTROY,
        )
        NagSuppressions.add_resource_suppressions(
            self.pool,
            [
                {
                    "id": "AwsSolutions-COG8",
                    "reason": "No self sign-up: an administrator creates every user and MFA is required, "
                    "so the Plus plan's threat protection (adaptive auth for open sign-in) adds cost "
                    "without covering a real risk here.",
                }
            ],
        )
        self.groups = {
            group: cognito.CfnUserPoolGroup(
                self,
                f"Group{group.title()}",
                user_pool_id=self.pool.user_pool_id,
                group_name=group,
                description=_GROUP_DESCRIPTIONS[group],
                precedence=len(names.USER_GROUPS) - rank,  # admin first: Cognito's order of precedence
            )
            for rank, group in enumerate(names.USER_GROUPS)
        }
        prefix = config.auth_domain_prefix or names.StageNames(config.stage).auth_domain_prefix
        self.domain = self.pool.add_domain(
            "Domain", cognito_domain=cognito.CognitoDomainOptions(domain_prefix=prefix)
        )
        self.client: cognito.UserPoolClient | None = None

    @property
    def domain_host(self) -> str:
        """``<prefix>.auth.<region>.amazoncognito.com``: the hosted sign-in pages and ``/oauth2/token``."""
        return f"{self.domain.domain_name}.auth.{Stack.of(self).region}.amazoncognito.com"

    def add_spa_client(self, site_url: str) -> cognito.UserPoolClient:
        """The UI's public client: no secret, authorization code + PKCE, called back on the UI's origins."""
        origins = [site_url, *self.config.auth_callback_origins]
        self.client = self.pool.add_client(
            "Spa",
            auth_flows=cognito.AuthFlow(user_srp=True),
            generate_secret=False,
            o_auth=cognito.OAuthSettings(
                flows=cognito.OAuthFlows(authorization_code_grant=True),
                scopes=SIGN_IN_SCOPES,
                callback_urls=[f"{origin}{names.SIGN_IN_CALLBACK_PATH}" for origin in origins],
                logout_urls=[f"{origin}{names.SIGN_OUT_PATH}" for origin in origins],
            ),
            supported_identity_providers=[cognito.UserPoolClientIdentityProvider.COGNITO],
            prevent_user_existence_errors=True,
            enable_token_revocation=True,
            access_token_validity=Duration.hours(1),
            id_token_validity=Duration.hours(1),
            refresh_token_validity=Duration.days(1),
        )
        return self.client

    def environment(self) -> dict[str, str]:
        """What the api function and the $connect authorizer need to know of sign-in."""
        if self.client is None:
            raise RuntimeError("add_spa_client first: the environment names the UI's client")
        return {
            names.ENV_AUTH_USER_POOL_ID: self.pool.user_pool_id,
            names.ENV_AUTH_CLIENT_ID: self.client.user_pool_client_id,
            names.ENV_AUTH_DOMAIN: self.domain_host,
        }


class Api(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        layer: lambda_.ILayerVersion,
        network: FunctionNetwork,
    ) -> None:
        super().__init__(scope, construct_id)
        stage_names = names.StageNames(config.stage)
        spec = topology.FUNCTIONS["api"]
        assert isinstance(spec.trigger, topology.HttpTrigger)

        self.function = ServiceFunction(self, "ApiFn", spec=spec, layer=layer, config=config, network=network)
        self.users = Users(self, "Users", config=config) if config.auth_enabled else None

        self.http_api = apigwv2.HttpApi(
            self,
            "HttpApi",
            description=f"{names.APP} REST API ({config.stage})",
            create_default_stage=False,
        )
        self.stage = self.http_api.add_stage(
            "DefaultStage",
            stage_name="$default",
            auto_deploy=True,
            throttle=apigwv2.ThrottleSettings(
                rate_limit=config.api_rate_limit, burst_limit=config.api_burst_limit
            ),
            access_log_settings=JsonAccessLogs(
                access_log_group(self, "AccessLogs", retention(config.log_retention_days)), HTTP_FIELDS
            ),
        )
        self.spec = spec
        self.config = config
        self.stage_name = config.stage
        self.routes: list[apigwv2.HttpRoute] = []
        self.public_routes: list[apigwv2.HttpRoute] = []

        self.alarms: list[cloudwatch.Alarm] = [
            cloudwatch.Alarm(
                self,
                "ServerErrors",
                alarm_name=stage_names.alarm("api-5xx"),
                alarm_description="The HTTP API answered 5xx repeatedly.",
                metric=self.http_api.metric_server_error(
                    period=Duration.minutes(5), statistic=cloudwatch.Stats.SUM
                ),
                threshold=5,
                evaluation_periods=1,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
        ]

    def serve(self, *, site_url: str) -> None:
        """Route ``/api/*`` to the function; with sign-in, behind the JWT authorizer of the UI's client."""
        trigger = self.spec.trigger
        assert isinstance(trigger, topology.HttpTrigger)
        integration = integrations.HttpLambdaIntegration("Mangum", self.function.function)
        authorizer = None
        if self.users:
            client = self.users.add_spa_client(site_url)
            authorizer = authorizers.HttpUserPoolAuthorizer("Jwt", self.users.pool, user_pool_clients=[client])
            self.function.add_environment(self.users.environment())
        self.routes = self.http_api.add_routes(
            path=trigger.path, methods=[apigwv2.HttpMethod.ANY], integration=integration, authorizer=authorizer
        )
        for path in trigger.public_paths:
            # The more specific route wins over {proxy+}: no authorizer, GET only.
            self.public_routes += self.http_api.add_routes(
                path=path,
                methods=[apigwv2.HttpMethod.GET],
                integration=integration,
            )
        self._throttle_public_routes(trigger.public_paths)
        if not self.users:
            NagSuppressions.add_resource_suppressions(
                self.http_api,
                [
                    {
                        "id": "AwsSolutions-APIG4",
                        "reason": f"Stage {self.stage_name} runs with authEnabled=false (disposable dev "
                        "stage); stages with real data use the Cognito JWT authorizer.",
                    }
                ],
                apply_to_children=True,  # after the routes exist: the acknowledgment covers them
            )
            return
        for route in self.public_routes:
            NagSuppressions.add_resource_suppressions(
                route,
                [
                    {
                        "id": "AwsSolutions-APIG4",
                        "reason": "Public by design: GET /api/config tells the signed-out UI where to "
                        "sign in, GET /api/health is the uptime probe; neither returns catalog data.",
                    }
                ],
                apply_to_children=True,
            )

    def _throttle_public_routes(self, paths: tuple[str, ...]) -> None:
        """Route-level limits for the public routes, below the stage's default route limits."""
        stage = self.stage.node.default_child
        assert isinstance(stage, apigwv2.CfnStage)
        stage.add_property_override(
            "RouteSettings",
            {
                f"GET {path}": {
                    "ThrottlingRateLimit": self.config.public_rate_limit,
                    "ThrottlingBurstLimit": self.config.public_burst_limit,
                }
                for path in paths
            },
        )
        for route in self.public_routes:
            self.stage.node.add_dependency(route)  # route settings name routes that must exist first

    @property
    def domain_name(self) -> str:
        """``<api-id>.execute-api.<region>.amazonaws.com`` for the CloudFront origin."""
        return f"{self.http_api.api_id}.execute-api.{self.http_api.stack.region}.amazonaws.com"
