"""connect_authorizer: Lambda REQUEST authorizer of the WebSocket ``$connect`` route.

API Gateway calls it with the handshake's query string (identity source ``route.request.querystring.token``;
without a token API Gateway answers 401 itself). A valid Cognito access token of the UI's app client whose
user is in a group (CONTRACT §8) gets an Allow policy for this connection's ``methodArn`` and the user and
group in the authorizer context; anything else a Deny (the browser sees 403). The pool's signing keys are fetched once per container.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from product_importer.auth.cognito import CognitoTokenVerifier, TokenRejectedError, UserPool
from product_importer.auth.groups import Caller
from product_importer.settings import get_common_settings

logger = Logger(service="connect_authorizer")
tracer = Tracer(service="connect_authorizer")
metrics = Metrics(service="connect_authorizer")

TOKEN_PARAMETER = "token"


@dataclass
class AuthorizerPorts:
    verifier: CognitoTokenVerifier


@lru_cache(maxsize=1)
def default_ports() -> AuthorizerPorts:
    settings = get_common_settings()
    if not settings.auth_enabled:
        raise RuntimeError("connect_authorizer needs AUTH_USER_POOL_ID and AUTH_CLIENT_ID")
    pool = UserPool(settings.aws_region, settings.auth_user_pool_id, settings.auth_client_id)
    return AuthorizerPorts(CognitoTokenVerifier(pool, token_use="access"))


def policy(effect: str, method_arn: str, principal: str, context: dict[str, str] | None = None) -> dict[str, Any]:
    reply: dict[str, Any] = {
        "principalId": principal,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": method_arn}],
        },
    }
    if context:
        reply["context"] = context
    return reply


@logger.inject_lambda_context(correlation_id_path="requestContext.requestId")
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(
    event: dict[str, Any], context: LambdaContext, ports: AuthorizerPorts | None = None
) -> dict[str, Any]:
    active = ports or default_ports()
    method_arn = event["methodArn"]
    token = (event.get("queryStringParameters") or {}).get(TOKEN_PARAMETER)
    try:
        claims = active.verifier.verify(token)
    except TokenRejectedError as exc:
        logger.info("connection refused", extra={"reason": str(exc)})
        metrics.add_metric(name="ConnectionsDenied", unit=MetricUnit.Count, value=1)
        return policy("Deny", method_arn, "anonymous")
    user = str(claims["sub"])
    logger.append_keys(user=user)
    caller = Caller.from_claims(claims)
    if caller.group is None:
        # Signed in, but in no group (CONTRACT §8): an administrator has to add the user to viewer first.
        logger.info("connection refused", extra={"reason": "the user is in no group (needs viewer)"})
        metrics.add_metric(name="ConnectionsDenied", unit=MetricUnit.Count, value=1)
        return policy("Deny", method_arn, user)
    # The context reaches the websocket function's $connect, which records the group on the connection.
    return policy("Allow", method_arn, user, {"sub": user, "username": caller.username or "", "group": caller.group})
