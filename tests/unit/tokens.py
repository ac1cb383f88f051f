"""A stand-in Cognito user pool for tests: an RSA key made in the test, its JWKS, and tokens signed with it."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from product_importer.auth.cognito import UserPool

POOL = UserPool(region="eu-west-1", user_pool_id="eu-west-1_TestPool1", client_id="spa-client-id")


def _rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass
class FakeIdentityProvider:
    """Signs tokens like Cognito does and serves the JWKS through ``fetch`` (counting the fetches)."""

    pool: UserPool = POOL
    kid: str = "test-key-1"
    key: rsa.RSAPrivateKey = field(default_factory=_rsa_key)
    fetched: list[str] = field(default_factory=list)

    def jwks(self) -> dict[str, Any]:
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        return {"keys": [{**public, "kid": self.kid, "alg": "RS256", "use": "sig"}]}

    def fetch(self, url: str) -> dict[str, Any]:
        self.fetched.append(url)
        return self.jwks()

    def claims(self, token_use: str = "access", **overrides: Any) -> dict[str, Any]:
        now = int(time.time())
        base: dict[str, Any] = {
            "sub": "user-sub-1",
            "iss": self.pool.issuer,
            "token_use": token_use,
            "iat": now,
            "auth_time": now,
            "exp": now + 3600,
            "jti": "jti-1",
        }
        if token_use == "access":
            base.update(client_id=self.pool.client_id, username="ops@example.com", scope="openid email profile")
        else:
            base.update({"aud": self.pool.client_id, "cognito:username": "ops@example.com"})
        base.update(overrides)
        return base

    def token(self, token_use: str = "access", *, key: rsa.RSAPrivateKey | None = None, kid: str | None = None,
              drop: tuple[str, ...] = (), **overrides: Any) -> str:
        """A signed token; ``overrides`` replace claims, ``drop`` leaves claims out."""
        claims = {k: v for k, v in self.claims(token_use, **overrides).items() if k not in drop}
        return jwt.encode(
            claims,
            key or self.key,
            algorithm="RS256",
            headers={"kid": kid or self.kid},
        )
