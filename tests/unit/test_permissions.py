"""Who may do what (CONTRACT §8): every route of the OpenAPI document × every group.

``RULES`` is §8 written as a table. A route in the OpenAPI document without a row here fails
``test_every_route_has_a_rule``; a row whose route declares another rule fails
``test_declared_rule_matches_contract``; and every (route, caller) pair is called for real: below the
route's group → 403 naming the group needed, at or above → anything but 401/403, no token → 401.
Rows for routes that do not exist yet (the preview and undo issues add them) are skipped until they do.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from product_importer.api import deps, permissions
from product_importer.api.app import create_app
from product_importer.auth.cognito import CognitoTokenVerifier, SigningKeys
from product_importer.auth.groups import GROUPS, Caller, groups_from_claims, highest_group, rank
from product_importer.settings import Settings

from tests.unit.tokens import POOL, FakeIdentityProvider

PUBLIC = None
# (method, path with every {parameter} written as {}) → the group needed (None: answers without sign-in).
RULES: dict[tuple[str, str], str | None] = {
    ("GET", "/api/health"): PUBLIC,
    ("GET", "/api/config"): PUBLIC,
    # imports: viewers read, importers create / preview / apply / discard, admins revert and replace
    ("GET", "/api/imports"): "viewer",
    ("POST", "/api/imports"): "importer",
    ("GET", "/api/imports/{}"): "viewer",
    ("DELETE", "/api/imports/{}"): "importer",
    ("GET", "/api/imports/{}/errors"): "viewer",
    ("GET", "/api/imports/{}/errors.csv"): "viewer",
    ("GET", "/api/imports/{}/changes"): "viewer",
    ("GET", "/api/imports/{}/changes/summary"): "viewer",
    ("POST", "/api/imports/{}/apply"): "importer",
    ("POST", "/api/imports/{}/revert"): "admin",
    ("GET", "/api/imports/{}/revert/conflicts"): "viewer",
    ("POST", "/api/imports/{}/replace"): "admin",
    # products: viewers read, admins edit and delete
    ("GET", "/api/products"): "viewer",
    ("DELETE", "/api/products"): "admin",
    ("GET", "/api/products/{}"): "viewer",
    ("GET", "/api/products/{}/history"): "viewer",
    ("PUT", "/api/products/{}"): "admin",
    ("PATCH", "/api/products/{}"): "admin",
    ("DELETE", "/api/products/{}"): "admin",
    # mappings: importers save mappings by header set (a prefix mapping is admin's: checked on the body)
    ("GET", "/api/mappings"): "viewer",
    ("POST", "/api/mappings"): "importer",
    ("POST", "/api/mappings/suggest"): "importer",
    ("GET", "/api/mappings/{}"): "viewer",
    ("PUT", "/api/mappings/{}"): "importer",
    ("DELETE", "/api/mappings/{}"): "importer",
    # webhooks: admins only, reads too (URLs can be credentials)
    ("GET", "/api/webhooks"): "admin",
    ("POST", "/api/webhooks"): "admin",
    ("GET", "/api/webhooks/{}"): "admin",
    ("PATCH", "/api/webhooks/{}"): "admin",
    ("DELETE", "/api/webhooks/{}"): "admin",
    ("POST", "/api/webhooks/{}/test"): "admin",
    ("GET", "/api/webhooks/{}/deliveries"): "admin",
}

CALLERS: tuple[str | None, ...] = (None, *GROUPS)  # None: signed in, in no group
_PARAM = re.compile(r"\{[^}]*\}")
_HTTP_METHODS = ("get", "post", "put", "patch", "delete")


def normalise(path: str) -> str:
    return _PARAM.sub("{}", path)


def concrete(path: str) -> str:
    return _PARAM.sub("x1", path)


class Reached(Exception):
    """A route got past its group check and asked for the database (or another port)."""


def _reached() -> Any:
    raise Reached


IDP = FakeIdentityProvider()


@pytest.fixture(scope="module")
def app() -> Iterator[FastAPI]:
    application = create_app()
    settings = Settings(local_mode=False, aws_region=POOL.region, auth_user_pool_id=POOL.user_pool_id,
                        auth_client_id=POOL.client_id, auth_domain="pi.auth.example")
    verifier = CognitoTokenVerifier(POOL, keys=SigningKeys(POOL.jwks_url, IDP.fetch))
    application.dependency_overrides.update({
        deps.settings: lambda: settings,
        permissions.token_verifier: lambda: verifier,
        deps.db: _reached,
        deps.pool: _reached,
        deps.progress: _reached,
        deps.imports: _reached,
        deps.jobs: _reached,
        deps.transfers: _reached,
    })

    async def reached(_request: Request, _exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": "reached the route"}, status_code=299)

    application.add_exception_handler(Reached, reached)
    yield application


@pytest.fixture(scope="module")
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def token(group: str | None) -> str:
    groups = [] if group is None else [group]
    return IDP.token(**({"cognito:groups": groups} if groups else {}))


def openapi_routes(app: FastAPI) -> set[tuple[str, str]]:
    document = app.openapi()
    return {
        (method.upper(), path)
        for path, operations in document["paths"].items()
        for method in operations
        if method in _HTTP_METHODS
    }


def api_routes(routes: list[Any], prefix: str = "") -> Iterator[tuple[str, APIRoute, list[Any]]]:
    """(full path, route, include-level dependencies), also through included routers (FastAPI ≥ 0.165
    keeps them as routers of their own in ``app.routes``)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield prefix + route.path_format, route, []
        elif hasattr(route, "original_router"):
            context = route.include_context
            for path, inner, extra in api_routes(route.original_router.routes, prefix + context.prefix):
                yield path, inner, [*context.dependencies, *extra]


def declared_rule(app: FastAPI, method: str, path: str) -> str | object | None:
    """The group the route's own dependencies require (None: PUBLIC; MISSING: no rule at all)."""
    for full_path, route, included in api_routes(app.routes):
        if method in route.methods and normalise(full_path) == path:
            calls = [d.dependency for d in included] + [d.call for d in route.dependant.dependencies]
            for call in calls:
                if isinstance(call, permissions.Requirement):
                    return call.group
                if call is permissions.public:
                    return PUBLIC
            return MISSING
    raise AssertionError(f"no route {method} {path}")


MISSING = object()


def test_every_route_has_a_rule(app: FastAPI) -> None:
    routes = {(m, normalise(p)) for m, p in openapi_routes(app)}
    without = sorted(routes - set(RULES))
    assert not without, f"routes without a rule in CONTRACT §8 / RULES: {without}"


def test_no_api_route_hides_from_the_openapi_document(app: FastAPI) -> None:
    documented = {(m, normalise(p)) for m, p in openapi_routes(app)}
    found = {(method, normalise(path)) for path, route, _ in api_routes(app.routes) for method in route.methods}
    assert ("GET", "/api/products") in found  # the walk sees included routers
    hidden = sorted(
        (method, path) for method, path in found
        if path.startswith("/api") and method != "HEAD" and (method, path) not in documented | DOCS
    )
    assert not hidden


# The API's own documentation: not in the document it serves, behind the viewer rule (they answered anyone,
# describing every admin route).
DOCS = {("GET", "/api/docs"), ("GET", "/api/openapi.json")}


@pytest.mark.parametrize(("method", "path"), sorted(DOCS))
def test_the_api_documentation_needs_sign_in(app: FastAPI, client: TestClient, method: str, path: str) -> None:
    assert declared_rule(app, method, path) == "viewer"
    assert client.request(method, path).status_code == 401
    assert client.request(method, path, headers={"Authorization": f"Bearer {token(None)}"}).status_code == 403
    shown = client.request(method, path, headers={"Authorization": f"Bearer {token('viewer')}"})
    assert shown.status_code == 200
    if path.endswith(".json"):
        assert "/api/imports" in shown.json()["paths"]


@pytest.mark.parametrize("body", ["{not json", '{"filename": NaN}'])
def test_a_body_that_is_not_json_is_still_401_or_403_before_422(client: TestClient, body: str) -> None:
    """FastAPI decodes the JSON body before it runs the route's dependencies: without the check first, a
    caller without the right got a 422 describing the body (CONTRACT §8: 403 naming the group needed)."""
    headers = {"Content-Type": "application/json"}
    assert client.post("/api/imports", content=body, headers=headers).status_code == 401
    viewer = client.post("/api/imports", content=body, headers={**headers, "Authorization": f"Bearer {token('viewer')}"})
    assert viewer.status_code == 403 and "importer" in viewer.json()["detail"]
    importer = client.post("/api/imports", content=body,
                           headers={**headers, "Authorization": f"Bearer {token('importer')}"})
    assert importer.status_code == 422


def _cases() -> list[Any]:
    return [pytest.param(method, path, id=f"{method} {path}") for method, path in sorted(RULES)]


def _require_route(app: FastAPI, method: str, path: str) -> None:
    if (method, path) not in {(m, normalise(p)) for m, p in openapi_routes(app)}:
        pytest.skip(f"{method} {path} is not built yet")


@pytest.mark.parametrize(("method", "path"), _cases())
def test_declared_rule_matches_contract(app: FastAPI, method: str, path: str) -> None:
    _require_route(app, method, path)
    declared = declared_rule(app, method, path)
    assert declared is not MISSING, f"{method} {path} declares no require(...) / PUBLIC"
    assert declared == RULES[(method, path)]


@pytest.mark.parametrize("caller", CALLERS, ids=lambda c: c or "no-group")
@pytest.mark.parametrize(("method", "path"), _cases())
def test_route_by_group(app: FastAPI, client: TestClient, method: str, path: str, caller: str | None) -> None:
    _require_route(app, method, path)
    needed = RULES[(method, path)]
    body = {} if method in ("POST", "PUT", "PATCH") else None

    response = client.request(method, concrete(path), json=body,
                              headers={"Authorization": f"Bearer {token(caller)}"})

    if needed is None:
        assert response.status_code not in (401, 403), response.text
    elif caller is None:
        assert response.status_code == 403
        assert "viewer" in response.json()["detail"]
    elif rank(caller) < rank(needed):
        assert response.status_code == 403, response.text
        detail = response.json()["detail"]
        assert needed in detail and caller not in detail
    else:
        assert response.status_code not in (401, 403), response.text


@pytest.mark.parametrize(("method", "path"), _cases())
def test_without_a_token_only_public_routes_answer(
    app: FastAPI, client: TestClient, method: str, path: str
) -> None:
    _require_route(app, method, path)
    response = client.request(method, concrete(path), json={} if method in ("POST", "PUT", "PATCH") else None)
    if RULES[(method, path)] is None:
        assert response.status_code not in (401, 403)
    else:
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"


def test_a_forged_token_is_401_not_403(client: TestClient) -> None:
    from cryptography.hazmat.primitives.asymmetric import rsa

    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = IDP.token(key=other, **{"cognito:groups": ["admin"]})
    response = client.get("/api/products", headers={"Authorization": f"Bearer {forged}"})
    assert response.status_code == 401


def test_an_id_token_is_not_an_access_token(client: TestClient) -> None:
    id_token = IDP.token("id", **{"cognito:groups": ["admin"]})
    assert client.get("/api/products", headers={"Authorization": f"Bearer {id_token}"}).status_code == 401


def test_local_mode_everyone_is_admin() -> None:
    application = create_app()
    # Sign-in settings present, but local mode never signs in.
    settings = Settings(local_mode=True, auth_user_pool_id=POOL.user_pool_id, auth_client_id=POOL.client_id)
    application.dependency_overrides.update({deps.settings: lambda: settings, deps.db: _reached})
    application.add_exception_handler(Reached, lambda _r, _e: JSONResponse({}, status_code=299))
    with TestClient(application, raise_server_exceptions=False) as c:
        assert c.delete("/api/products/x1").status_code == 299  # admin-only, no token
        assert c.get("/api/webhooks").status_code == 299


def test_stage_without_sign_in_everyone_is_admin() -> None:
    application = create_app()
    application.dependency_overrides.update({deps.settings: lambda: Settings(local_mode=False),
                                             deps.db: _reached})
    application.add_exception_handler(Reached, lambda _r, _e: JSONResponse({}, status_code=299))
    with TestClient(application, raise_server_exceptions=False) as c:
        assert c.post("/api/webhooks", json={}).status_code in (299, 422)


# -- the group rules themselves ----------------------------------------------------------------------

@pytest.mark.parametrize(
    ("claim", "expected"),
    [
        (["viewer"], {"viewer"}),
        (["admin", "viewer"], {"admin", "viewer"}),
        ("[admin viewer]", {"admin", "viewer"}),  # how API Gateway flattens a list claim
        ("importer", {"importer"}),
        ([], set()),
        (None, set()),
        (42, set()),
    ],
)
def test_groups_from_claims(claim: Any, expected: set[str]) -> None:
    claims = {} if claim is None else {"cognito:groups": claim}
    assert groups_from_claims(claims) == expected


def test_the_highest_known_group_wins() -> None:
    assert highest_group(["viewer", "admin", "importer"]) == "admin"
    assert highest_group(["importer", "Admins", "superuser"]) == "importer"
    assert highest_group(["ADMIN"]) is None  # group names are exact
    caller = Caller.from_claims({"sub": "s", "username": "u", "cognito:groups": ["importer"]})
    assert caller.may("viewer") and caller.may("importer") and not caller.may("admin")


def test_ensure_names_the_group_needed() -> None:
    from fastapi import HTTPException

    importer = Caller("s", "u", frozenset({"importer"}))
    with pytest.raises(HTTPException) as raised:
        permissions.ensure(importer, "admin")
    assert raised.value.status_code == 403 and "admin" in raised.value.detail
    with pytest.raises(HTTPException) as raised:
        permissions.ensure(Caller("s", "u", frozenset()), "importer")
    assert "viewer" in raised.value.detail and "importer" not in raised.value.detail


def test_require_refuses_an_unknown_group() -> None:
    with pytest.raises(ValueError):
        permissions.require("owner")  # type: ignore[arg-type]


# -- rules that depend on the request (CONTRACT §8: "admin also replaces, sets partner, manages partner
# (prefix) mappings") --------------------------------------------------------------------------------------

class Anything:
    """A port that lets the route run past its checks (and fails later, which these tests do not reach)."""

    def __getattr__(self, name: str) -> Any:
        raise Reached


@pytest.fixture(scope="module")
def body_client() -> Iterator[TestClient]:
    application = create_app()
    settings = Settings(local_mode=False, aws_region=POOL.region, auth_user_pool_id=POOL.user_pool_id,
                        auth_client_id=POOL.client_id, auth_domain="pi.auth.example")
    verifier = CognitoTokenVerifier(POOL, keys=SigningKeys(POOL.jwks_url, IDP.fetch))
    overrides = {deps.settings: lambda: settings, permissions.token_verifier: lambda: verifier}
    for name in ("db", "pool", "progress", "imports", "transfers", "jobs"):
        if hasattr(deps, name):
            overrides[getattr(deps, name)] = Anything
    application.dependency_overrides.update(overrides)

    async def reached(_request: Request, _exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": "reached the route"}, status_code=299)

    application.add_exception_handler(Reached, reached)
    with TestClient(application, raise_server_exceptions=False) as c:
        yield c


def _schema_has(app: FastAPI, schema: str, field: str) -> bool:
    return field in app.openapi()["components"]["schemas"].get(schema, {}).get("properties", {})


@pytest.mark.parametrize(
    ("path", "body", "schema", "field"),
    [
        ("/api/imports", {"filename": "p.csv", "partner": "acme"}, "CreateImport", "partner"),
        ("/api/imports", {"filename": "p.csv", "replace": {"scope": "all"}}, "CreateImport", "replace"),
        ("/api/mappings", {"name": "acme feed", "mapping": {}, "prefix": "incoming/acme/"}, "MappingIn", "prefix"),
    ],
    ids=["import-for-a-partner", "import-with-replace", "prefix-mapping"],
)
def test_request_dependent_rules_need_admin(
    app: FastAPI, body_client: TestClient, path: str, body: dict[str, Any], schema: str, field: str
) -> None:
    if not _schema_has(app, schema, field):
        pytest.skip(f"{schema}.{field} is not built yet")
    for caller in ("importer", "viewer", None):
        reply = body_client.post(path, json=body, headers={"Authorization": f"Bearer {token(caller)}"})
        assert reply.status_code == 403, (caller, reply.text)
        needed = {"importer": "admin", "viewer": "importer", None: "viewer"}[caller]
        assert needed in reply.json()["detail"]
    reply = body_client.post(path, json=body, headers={"Authorization": f"Bearer {token('admin')}"})
    assert reply.status_code not in (401, 403), reply.text
    # and the same request without the admin-only part is an importer's
    plain = {k: v for k, v in body.items() if k != field}
    reply = body_client.post(path, json=plain, headers={"Authorization": f"Bearer {token('importer')}"})
    assert reply.status_code not in (401, 403), reply.text


class OnePreview:
    """ImportRequests that know one previewed import, with or without replace."""

    def __init__(self, replace: dict[str, Any] | None) -> None:
        self.item = {"id": "p1", "filename": "f.csv", "source": "upload", "status": "previewed", "mode": "preview",
                     "created_at": "2026-01-01T00:00:00.000Z", "replace": replace}

    def get_item(self, import_id: str) -> dict[str, Any] | None:
        return self.item if import_id == "p1" else None

    def __getattr__(self, name: str) -> Any:
        raise Reached


@pytest.mark.parametrize(("replace", "importer_may"), [(None, True), ({"scope": "all", "max_deactivate_percent": 20}, False)])
def test_applying_a_preview_that_replaces_needs_admin(
    body_client: TestClient, replace: dict[str, Any] | None, importer_may: bool
) -> None:
    app = body_client.app
    assert isinstance(app, FastAPI)
    app.dependency_overrides[deps.imports] = lambda: OnePreview(replace)
    try:
        reply = body_client.post("/api/imports/p1/apply", headers={"Authorization": f"Bearer {token('importer')}"})
        if importer_may:
            assert reply.status_code != 403, reply.text
        else:
            assert reply.status_code == 403 and "admin" in reply.json()["detail"]
        admin = body_client.post("/api/imports/p1/apply", headers={"Authorization": f"Bearer {token('admin')}"})
        assert admin.status_code not in (401, 403)
    finally:
        app.dependency_overrides[deps.imports] = Anything


def test_signing_keys_that_cannot_be_fetched_are_a_503_not_a_401(app: FastAPI) -> None:
    """A fault on our side: the caller signing in again cannot fix it (it answered 401 "sign in first")."""
    from product_importer.auth.cognito import JwksUnavailableError

    def unreachable(url: str) -> dict[str, Any]:
        raise JwksUnavailableError(f"cannot fetch {url}: timed out")

    broken = CognitoTokenVerifier(POOL, keys=SigningKeys(POOL.jwks_url, unreachable))
    saved = app.dependency_overrides[permissions.token_verifier]
    app.dependency_overrides[permissions.token_verifier] = lambda: broken
    try:
        with TestClient(app, raise_server_exceptions=False) as c:
            reply = c.get("/api/imports", headers={"Authorization": f"Bearer {token('admin')}"})
    finally:
        app.dependency_overrides[permissions.token_verifier] = saved
    assert reply.status_code == 503 and reply.headers["retry-after"] == "5"
    assert "try again" in reply.json()["detail"]
