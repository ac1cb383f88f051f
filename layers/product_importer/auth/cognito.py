"""``CognitoTokenVerifier``: is this string a live token that our user pool issued to our app client?

Checks, in order: the header names a key of the pool's JWKS (fetched once per container, refetched at
most once a minute when an unknown ``kid`` appears, as after a key rotation), the RS256 signature with
that key, ``exp`` (and ``iat``), ``iss`` = the pool, ``token_use`` (``access`` by default), and the app
client: ``client_id`` for access tokens, ``aud`` for id tokens. Any failure is a ``TokenRejectedError``
whose message says which check failed (for logs; never shown to the caller).
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import jwt

TokenUse = Literal["access", "id"]
JwksFetcher = Callable[[str], dict[str, Any]]

ALGORITHMS = ["RS256"]  # what Cognito signs with
JWKS_TIMEOUT_S = 5.0


class TokenRejectedError(Exception):
    """The token is missing, malformed, expired, or not one of ours."""


class JwksUnavailableError(TokenRejectedError):
    """The pool's signing keys could not be fetched (the token cannot be checked, so it is refused)."""


@dataclass(frozen=True)
class UserPool:
    """The Cognito user pool and the app client whose tokens are accepted."""

    region: str
    user_pool_id: str
    client_id: str

    @property
    def issuer(self) -> str:
        return f"https://cognito-idp.{self.region}.amazonaws.com/{self.user_pool_id}"

    @property
    def jwks_url(self) -> str:
        return f"{self.issuer}/.well-known/jwks.json"


def fetch_jwks(url: str) -> dict[str, Any]:
    """GET the JWKS document over HTTPS (the real fetcher; tests pass their own)."""
    if not url.startswith("https://"):
        raise JwksUnavailableError(f"refusing to fetch signing keys over a non-HTTPS URL: {url}")
    try:
        with urllib.request.urlopen(url, timeout=JWKS_TIMEOUT_S) as reply:
            document = json.loads(reply.read())
    except (OSError, ValueError) as exc:
        raise JwksUnavailableError(f"cannot fetch {url}: {exc}") from exc
    if not isinstance(document, dict):
        raise JwksUnavailableError(f"{url} is not a JWKS document")
    return document


class SigningKeys:
    """The pool's public keys by ``kid``, cached for the life of the process (a warm container)."""

    def __init__(
        self,
        url: str,
        fetch: JwksFetcher = fetch_jwks,
        *,
        min_refetch_interval_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._url = url
        self._fetch = fetch
        self._min_interval = min_refetch_interval_s
        self._clock = clock
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at: float | None = None
        self._lock = threading.Lock()
        self.fetches = 0

    def key(self, kid: str) -> jwt.PyJWK:
        with self._lock:
            if kid not in self._keys and self._may_refetch():
                self._load()
            try:
                return self._keys[kid]
            except KeyError:
                raise TokenRejectedError(f"unknown signing key {kid!r}") from None

    def _may_refetch(self) -> bool:
        return self._fetched_at is None or self._clock() - self._fetched_at >= self._min_interval

    def _load(self) -> None:
        self._fetched_at = self._clock()
        self.fetches += 1
        document = self._fetch(self._url)
        keys: dict[str, jwt.PyJWK] = {}
        for entry in document.get("keys", []):
            if not isinstance(entry, dict) or "kid" not in entry:
                continue
            try:
                keys[entry["kid"]] = jwt.PyJWK(entry)
            except jwt.PyJWTError:
                continue  # a key type we do not use; Cognito publishes RSA keys only
        self._keys = keys


class CognitoTokenVerifier:
    def __init__(
        self,
        pool: UserPool,
        *,
        keys: SigningKeys | None = None,
        token_use: TokenUse = "access",
        leeway_s: float = 0.0,
    ) -> None:
        self.pool = pool
        self._keys = keys or SigningKeys(pool.jwks_url)
        self._token_use = token_use
        self._leeway = leeway_s

    def verify(self, token: str | None) -> dict[str, Any]:
        """The token's claims if it is valid; ``TokenRejectedError`` otherwise."""
        if not token:
            raise TokenRejectedError("no token")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise TokenRejectedError(f"malformed token: {exc}") from exc
        kid = header.get("kid")
        if not isinstance(kid, str) or header.get("alg") not in ALGORITHMS:
            raise TokenRejectedError("token header has no kid or an unexpected algorithm")
        key = self._keys.key(kid)
        expects_audience = self._token_use == "id"
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key=key,
                algorithms=ALGORITHMS,
                issuer=self.pool.issuer,
                audience=self.pool.client_id if expects_audience else None,
                leeway=self._leeway,
                options={
                    "require": ["exp", "iat", "iss", "token_use", "sub"],
                    "verify_aud": expects_audience,
                },
            )
        except jwt.PyJWTError as exc:
            raise TokenRejectedError(f"{type(exc).__name__}: {exc}") from exc
        if claims.get("token_use") != self._token_use:
            raise TokenRejectedError(f"token_use is {claims.get('token_use')!r}, not {self._token_use!r}")
        if not expects_audience and claims.get("client_id") != self.pool.client_id:
            raise TokenRejectedError("token was issued to another app client")
        return claims
