"""API: the HTTP API in front of the FastAPI app (Mangum), Cognito + JWT authorizer, throttling.

``authEnabled`` (per stage) switches the JWT authorizer on every ``/api/*`` route; it is off only for
disposable dev stages. The browser reaches the API through CloudFront under the same origin.
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
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


class Users(Construct):
    """Cognito user pool (admin-created users, MFA required) and the SPA's public client."""

    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig) -> None:
        super().__init__(scope, construct_id)
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
        self.client = self.pool.add_client(
            "Spa",
            auth_flows=cognito.AuthFlow(user_srp=True),
            generate_secret=False,
            prevent_user_existence_errors=True,
            access_token_validity=Duration.hours(1),
            id_token_validity=Duration.hours(1),
            refresh_token_validity=Duration.days(1),
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
        authorizer = (
            authorizers.HttpUserPoolAuthorizer("Jwt", self.users.pool, user_pool_clients=[self.users.client])
            if self.users
            else None
        )
        self.routes = self.http_api.add_routes(
            path=spec.trigger.path,
            methods=[apigwv2.HttpMethod.ANY],
            integration=integrations.HttpLambdaIntegration("Mangum", self.function.function),
            authorizer=authorizer,
        )
        if not config.auth_enabled:
            NagSuppressions.add_resource_suppressions(
                self.http_api,
                [
                    {
                        "id": "AwsSolutions-APIG4",
                        "reason": f"Stage {config.stage} runs with authEnabled=false (disposable dev stage); "
                        "stages with real data use the Cognito JWT authorizer.",
                    }
                ],
                apply_to_children=True,
            )

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

    @property
    def domain_name(self) -> str:
        """``<api-id>.execute-api.<region>.amazonaws.com`` for the CloudFront origin."""
        return f"{self.http_api.api_id}.execute-api.{self.http_api.stack.region}.amazonaws.com"
