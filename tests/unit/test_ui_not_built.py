"""A local stack whose UI was never built (``python -m infra.local`` without ``make ui``) answered the
browser ``{"detail":"Not Found"}``; it now says how to build it, and serves the UI once it is built,
without a restart."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from product_importer.api.app import create_app


def test_the_ui_page_says_how_to_build_it_until_it_is_built(tmp_path: Path) -> None:
    client = TestClient(create_app(static_dir=tmp_path / "dist"))

    before = client.get("/imports/abc")
    assert before.status_code == 503 and "make ui" in before.text
    assert client.get("/api/nothing").json()["detail"].startswith("no such endpoint")  # the API stays JSON

    (tmp_path / "dist").mkdir()
    (tmp_path / "dist" / "index.html").write_text("<!doctype html><title>Product Importer</title>")
    after = client.get("/imports/abc")
    assert after.status_code == 200 and "<title>Product Importer</title>" in after.text
