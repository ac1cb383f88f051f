"""The OpenAPI document tells the truth about errors (CONTRACT §3: a fitting 4xx with ``{"detail": …}``), and
a 405 names every method its path answers. The fuzz test (tests/integration/test_api_fuzz.py) checks real
answers against this document; these check the document itself and the 405, without stores."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from product_importer.api.app import create_app
from product_importer.api.errors import ErrorBody

ERROR_REF = "#/components/schemas/ErrorBody"


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return create_app().openapi()


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method.upper(), path, operation) for path, item in document["paths"].items()
            for method, operation in item.items()]


def test_every_error_an_operation_declares_is_an_error_body(document: dict[str, Any]) -> None:
    for method, path, operation in _operations(document):
        for status, response in operation["responses"].items():
            if int(status) >= 400:
                schema = response["content"]["application/json"]["schema"]
                assert schema == {"$ref": ERROR_REF}, (method, path, status)


def test_each_operation_declares_the_errors_the_app_answers(document: dict[str, Any]) -> None:
    for method, path, operation in _operations(document):
        declared = set(operation["responses"])
        expected = {"400"}  # the InputGuard: a NUL or non-UTF-8 bytes in the path or query, anywhere
        if path.startswith(("/api/imports", "/api/mappings", "/api/products", "/api/webhooks")):
            expected |= {"401", "403", "503"}  # a group check and a store
        if "{" in path:
            expected.add("404")
        if method in ("POST", "PUT", "PATCH"):
            expected.add("413")
        if operation.get("parameters") or operation.get("requestBody"):
            expected.add("422")
        assert expected <= declared, (method, path, sorted(expected - declared))
    conflicts = {(m, p) for m, p, o in _operations(document) if "409" in o["responses"]}
    assert {("DELETE", "/api/imports/{import_id}"), ("POST", "/api/imports/{import_id}/apply"),
            ("POST", "/api/imports/{import_id}/revert"), ("POST", "/api/mappings"),
            ("PUT", "/api/products/{sku}"), ("POST", "/api/webhooks")} <= conflicts


def test_fastapis_list_only_422_is_gone(document: dict[str, Any]) -> None:
    """A 422 may be a sentence (``POST /api/mappings/suggest`` on a PNG): FastAPI's own 422 allowed a list only."""
    assert "HTTPValidationError" not in document["components"]["schemas"]
    assert ErrorBody.model_validate({"detail": "the file is a PNG image, not CSV text"})
    assert ErrorBody.model_validate({"detail": [{"loc": ["body", "name"], "msg": "name is required",
                                                 "type": "value_error", "input": ""}]})


def test_the_document_tells_the_validators_rules(document: dict[str, Any]) -> None:
    """Rules the validators enforce are in the document, so clients (and fuzzers) can follow them."""
    schemas = document["components"]["schemas"]
    assert schemas["CreateImport"]["properties"]["filename"]["pattern"]
    assert schemas["WebhookIn"]["properties"]["url"]["pattern"]


@pytest.mark.parametrize(("method", "path", "allow"), [
    ("OPTIONS", "/api/imports", "GET, HEAD, POST"),  # it said "POST": the first route's methods only
    ("PUT", "/api/health", "GET, HEAD"),
    ("POST", "/api/imports/abc", "GET, HEAD, DELETE"),
    ("GET", "/api/imports/abc/apply", "POST"),
    ("POST", "/api/products/A-1", "GET, HEAD, PUT, PATCH, DELETE"),
    ("OPTIONS", "/api/products/A-1/history", "GET, HEAD"),  # a product's history is read-only
    ("OPTIONS", "/api/products/A-1%2Fhistory", "GET, HEAD, PUT, PATCH, DELETE"),  # the product "A-1/history"
])
def test_a_405_names_every_method_of_its_path(method: str, path: str, allow: str) -> None:
    client = TestClient(create_app())

    response = client.request(method, path)

    assert response.status_code == 405
    assert response.headers["allow"] == allow
    assert response.json() == {"detail": "Method Not Allowed"}


def test_the_errors_csv_is_declared_as_csv(document: dict[str, Any]) -> None:
    """It declared no content at all, so a client could not tell a CSV from JSON."""
    responses = document["paths"]["/api/imports/{import_id}/errors.csv"]["get"]["responses"]
    assert list(responses["200"]["content"]) == ["text/csv"]
    assert "Location" in responses["303"]["headers"]
