"""CognitoTokenVerifier: signature against the pool's JWKS, expiry, issuer, app client, token_use."""

from __future__ import annotations

import time

import jwt
import pytest
from product_importer.auth.cognito import (
    CognitoTokenVerifier,
    JwksUnavailableError,
    SigningKeys,
    TokenRejectedError,
    fetch_jwks,
)

from tests.unit.tokens import POOL, FakeIdentityProvider, _rsa_key


@pytest.fixture(scope="module")
def idp() -> FakeIdentityProvider:
    return FakeIdentityProvider()  # one RSA key for the module: generating it is the slow part


def verifier(idp: FakeIdentityProvider, token_use: str = "access") -> CognitoTokenVerifier:
    return CognitoTokenVerifier(POOL, keys=SigningKeys(POOL.jwks_url, idp.fetch), token_use=token_use)  # type: ignore[arg-type]


def test_a_valid_access_token_gives_its_claims(idp: FakeIdentityProvider) -> None:
    claims = verifier(idp).verify(idp.token())
    assert claims["sub"] == "user-sub-1"
    assert claims["client_id"] == POOL.client_id


def test_a_valid_id_token_is_checked_against_the_audience(idp: FakeIdentityProvider) -> None:
    assert verifier(idp, "id").verify(idp.token("id"))["aud"] == POOL.client_id
    with pytest.raises(TokenRejectedError, match="Audience"):
        verifier(idp, "id").verify(idp.token("id", aud="another-client"))


@pytest.mark.parametrize(
    ("token_kwargs", "reason"),
    [
        ({"exp": int(time.time()) - 5}, "Expired"),
        ({"iss": "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Other"}, "Issuer"),
        ({"client_id": "another-client"}, "another app client"),
        ({"token_use": "id"}, "token_use"),
        ({"drop": ("sub",)}, "sub"),
    ],
    ids=["expired", "wrong-issuer", "wrong-client", "wrong-token-use", "no-subject"],
)
def test_tokens_that_are_not_ours_or_not_live_are_rejected(
    idp: FakeIdentityProvider, token_kwargs: dict, reason: str
) -> None:
    # given a token signed with the pool's key but with one claim wrong (or missing)
    token = idp.token(**token_kwargs)
    # then it is refused, and the reason says which check failed
    with pytest.raises(TokenRejectedError, match=reason):
        verifier(idp).verify(token)


def test_an_id_token_is_not_accepted_where_access_tokens_are(idp: FakeIdentityProvider) -> None:
    with pytest.raises(TokenRejectedError, match="token_use"):
        verifier(idp).verify(idp.token("id"))


def test_a_token_signed_with_another_key_is_rejected(idp: FakeIdentityProvider) -> None:
    forged = idp.token(key=_rsa_key())  # same kid, other private key
    with pytest.raises(TokenRejectedError, match="Signature"):
        verifier(idp).verify(forged)


def test_a_tampered_payload_breaks_the_signature(idp: FakeIdentityProvider) -> None:
    header, _payload, signature = idp.token().split(".")
    other_payload = idp.token(sub="admin").split(".")[1]
    with pytest.raises(TokenRejectedError):
        verifier(idp).verify(f"{header}.{other_payload}.{signature}")


@pytest.mark.parametrize("token", [None, "", "not-a-jwt", "a.b.c"])
def test_missing_or_malformed_tokens_are_rejected(idp: FakeIdentityProvider, token: str | None) -> None:
    with pytest.raises(TokenRejectedError):
        verifier(idp).verify(token)


def test_unsigned_tokens_are_rejected(idp: FakeIdentityProvider) -> None:
    unsigned = jwt.encode(idp.claims(), None, algorithm="none", headers={"kid": idp.kid})
    with pytest.raises(TokenRejectedError, match="algorithm"):
        verifier(idp).verify(unsigned)


def test_the_jwks_is_fetched_once_per_container(idp: FakeIdentityProvider) -> None:
    # given one verifier (one warm container)
    idp.fetched.clear()
    check = verifier(idp)
    # when it checks several tokens
    for _ in range(5):
        check.verify(idp.token())
    # then the pool's keys were fetched once, from the pool's well-known URL
    assert idp.fetched == [f"https://cognito-idp.eu-west-1.amazonaws.com/{POOL.user_pool_id}/.well-known/jwks.json"]


def test_an_unknown_kid_refetches_the_keys_at_most_once_a_minute() -> None:
    # given a container that cached the pool's keys a while ago
    idp = FakeIdentityProvider()
    now = [1000.0]
    keys = SigningKeys(POOL.jwks_url, idp.fetch, clock=lambda: now[0])
    check = CognitoTokenVerifier(POOL, keys=keys)
    check.verify(idp.token())
    now[0] += 61
    # when the pool rotates its key, and tokens with unknown kids arrive
    idp.kid = "rotated"
    for _ in range(3):
        with pytest.raises(TokenRejectedError, match="unknown signing key"):
            check.verify(idp.token(kid="bogus"))
    # then the first unknown kid refetched the keys, the others did not (no fetch storm)
    assert keys.fetches == 2
    # and tokens signed with the rotated key are accepted without another fetch
    assert check.verify(idp.token())["sub"] == "user-sub-1"
    assert keys.fetches == 2


def test_the_real_fetcher_only_speaks_https() -> None:
    with pytest.raises(JwksUnavailableError, match="non-HTTPS"):
        fetch_jwks("http://cognito-idp.example/jwks.json")
