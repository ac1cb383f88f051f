"""InputGuard's checks, alone: what JSON parsers accept but no store can hold, and NUL in a URL."""

from __future__ import annotations

import pytest
from product_importer.api.guard import check_json, url_problem


@pytest.mark.parametrize("body", [
    b"NaN", b'{"a": Infinity}', b'{"a": [1, -Infinity]}', b'{"a": 1e400}', b'{"a": {"b": "\\ud800"}}',
    b'{"\\udfff": 1}', b'{"a": "x\\u0000"}', b'{"a\\u0000": 1}', b'{"x": {"filename": "a\\u0000"}}',
])
def test_refused_bodies(body: bytes) -> None:
    with pytest.raises(ValueError):
        check_json(body)


@pytest.mark.parametrize("body", [
    b'{"a": 1.5, "b": "\\u00e9\\ud83d\\ude00", "c": [null, true]}', b'{"filename": "a\\u0000b.csv"}',
    b"not json", b"{", b"[" * 5000, b"\xff\xfe", b"",
])
def test_accepted_bodies_or_left_to_the_route(body: bytes) -> None:
    check_json(body)


@pytest.mark.parametrize(("path", "raw", "query", "refused"), [
    ("/api/products/a\x00b", b"/api/products/a%00b", b"", True),
    ("/api/products/a", None, b"q=%00", True),
    ("/api/products/a", b"/api/products/a", b"q=a%2500", False),
    ("/api/products/a", None, None, False),
])
def test_url_problems(path: str, raw: bytes | None, query: bytes | None, refused: bool) -> None:
    problem = url_problem({"path": path, "raw_path": raw, "query_string": query})
    assert (problem is not None) is refused
