"""The one group check every REST route declares (CONTRACT §8).

Every route names what it needs, in its decorator::

    from product_importer.api.permissions import PUBLIC, require

    @router.get("/{import_id}", dependencies=[require("viewer")])
    @router.post("", status_code=201, dependencies=[require("importer")])
    @router.post("/{import_id}/revert", status_code=202, dependencies=[require("admin")])
    @app.get("/api/health", dependencies=[PUBLIC])           # answers without sign-in

A rule that depends on the request body (``partner`` on ``POST /api/imports``, a ``prefix`` mapping)
takes the caller and checks in the route::

    def create_import(body: CreateImport, caller: CurrentCaller, ...):
        if body.partner is not None:
            ensure(caller, "admin")

Where sign-in is on (``Settings.auth_enabled``), the caller is the verified Cognito access token of the
``Authorization: Bearer`` header (checked here again, whatever the gateway in front did): no or a bad
token is 401; a token without a known group is 403 naming ``viewer``; a group below the route's is 403
naming the group needed. Local mode and stages without sign-in: everyone is ``admin``.

``tests/unit/test_permissions.py`` walks every route of the OpenAPI document with every group, so a
route without a rule fails it.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated

from fastapi import Depends, HTTPException, Request, params

from product_importer.api import deps
from product_importer.auth.cognito import (
    CognitoTokenVerifier,
    JwksUnavailableError,
    TokenRejectedError,
    UserPool,
)
from product_importer.auth.groups import EVERYONE_ADMIN, GROUPS, Caller, Group, needs_message
from product_importer.settings import Settings

__all__ = [
    "PUBLIC",
    "Caller",
    "CurrentCaller",
    "Group",
    "Requirement",
    "current_caller",
    "ensure",
    "public",
    "require",
    "token_verifier",
]


@lru_cache(maxsize=4)
def _verifier(region: str, user_pool_id: str, client_id: str) -> CognitoTokenVerifier:
    # One per container: the pool's signing keys are fetched once and cached.
    return CognitoTokenVerifier(UserPool(region, user_pool_id, client_id), token_use="access")


def token_verifier(settings: Annotated[Settings, Depends(deps.settings)]) -> CognitoTokenVerifier | None:
    """The access-token verifier of this stage's user pool; None without sign-in (tests override it)."""
    if not settings.auth_enabled:
        return None
    return _verifier(settings.aws_region, settings.auth_user_pool_id, settings.auth_client_id)


def _bearer(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def current_caller(
    request: Request,
    verifier: Annotated[CognitoTokenVerifier | None, Depends(token_verifier)],
) -> Caller:
    """Who is calling. 401 where sign-in is on and the request carries no valid access token."""
    if verifier is None:
        return EVERYONE_ADMIN
    cached = getattr(request.state, "caller", None)
    if isinstance(cached, Caller):
        return cached
    try:
        claims = verifier.verify(_bearer(request))
    except JwksUnavailableError:  # our side cannot check any token now: not the caller's to fix
        raise HTTPException(
            status_code=503, detail="sign-in cannot be checked right now (the user pool's keys are unavailable); "
            "try again in a moment", headers={"Retry-After": "5"},
        ) from None
    except TokenRejectedError:
        raise HTTPException(
            status_code=401, detail="sign in first: a valid access token is required",
            headers={"WWW-Authenticate": "Bearer"},
        ) from None
    caller = Caller.from_claims(claims)
    request.state.caller = caller
    return caller


CurrentCaller = Annotated[Caller, Depends(current_caller)]


def ensure(caller: Caller, group: Group) -> None:
    """403 with the group needed unless ``caller`` is in ``group`` (or above)."""
    if caller.group is None:
        raise HTTPException(status_code=403, detail=needs_message("viewer"))
    if not caller.may(group):
        raise HTTPException(status_code=403, detail=needs_message(group))


class Requirement:
    """The dependency ``require(group)`` adds; ``group`` is what the route needs."""

    def __init__(self, group: Group) -> None:
        self.group: Group = group

    def __call__(self, caller: CurrentCaller) -> None:
        ensure(caller, self.group)

    def __repr__(self) -> str:
        return f"require({self.group!r})"


_REQUIREMENTS: dict[Group, Requirement] = {group: Requirement(group) for group in GROUPS}


def require(group: Group) -> params.Depends:
    """``dependencies=[require("importer")]``: the route answers 403 below ``group``."""
    if group not in _REQUIREMENTS:
        raise ValueError(f"unknown group {group!r}; one of {GROUPS}")
    return Depends(_REQUIREMENTS[group])


def public() -> None:
    """The rule of a route that answers without sign-in."""


# GET /api/health, GET /api/config: a rule too, so that no route is public by omission.
PUBLIC: params.Depends = Depends(public)


def check_before_validation(request: Request) -> None:
    """The route's group check for a request whose body or parameters FastAPI refused before it ran the
    route's dependencies: 401 / 403 come before 422, so a caller without the right to a route learns
    nothing from its validation (and §8's 403 holds whatever the body). Raises ``HTTPException``."""
    route = request.scope.get("route")
    needed = next((d.dependency.group for d in getattr(route, "dependencies", ())
                   if isinstance(d.dependency, Requirement)), None)
    if needed is None:
        return
    overrides = request.app.dependency_overrides
    if current_caller in overrides:  # tests that stand in for sign-in altogether
        caller = overrides[current_caller]()
    else:
        if token_verifier in overrides:
            verifier = overrides[token_verifier]()
        else:
            verifier = token_verifier(overrides.get(deps.settings, deps.settings)())
        caller = current_caller(request, verifier)
    ensure(caller, needed)
