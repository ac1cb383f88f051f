"""Sign-in: verifying the Cognito user pool's JWTs where API Gateway's own JWT authorizer does not reach."""
