"""Reverting a preview answers 409 with what to do instead, and that advice works.

Found following the README: ``product-importer revert <a failed preview>`` said "discard it instead",
and ``discard`` then refused ("only a previewed or pending import can be discarded; this one is failed");
an applied preview got the same dead-end advice (discard refuses it: it stays as its record).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from product_importer.models import ImportStatus

from tests.integration.api_harness import ApiHarness, api_harness


@pytest.fixture
def api(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[ApiHarness]:
    with api_harness(database_url, monkeypatch) as harness:
        yield harness


def _revert_detail(api: ApiHarness, import_id: str) -> str:
    response = api.client.post(f"/api/imports/{import_id}/revert")
    assert response.status_code == 409
    return str(response.json()["detail"])


def test_an_open_preview_is_told_to_be_discarded_and_can_be(api: ApiHarness) -> None:
    preview = api.put_import(status=ImportStatus.PREVIEWED, mode="preview", finished_at="2099-01-01T00:00:00Z")

    assert _revert_detail(api, preview).endswith("discard it instead")
    assert api.client.delete(f"/api/imports/{preview}").status_code == 204


def test_an_applied_preview_names_the_import_to_revert_instead(api: ApiHarness) -> None:
    applied = api.put_import(status=ImportStatus.COMPLETED, finished_at="2099-01-01T00:00:00Z")
    preview = api.put_import(status=ImportStatus.PREVIEWED, mode="preview", applied_as=applied,
                             finished_at="2099-01-01T00:00:00Z")

    detail = _revert_detail(api, preview)
    assert f"applied as import {applied}: revert that one" in detail and "discard" not in detail
    assert api.client.delete(f"/api/imports/{preview}").status_code == 409  # discard would have refused


def test_a_failed_preview_is_not_sent_to_discard(api: ApiHarness) -> None:
    preview = api.put_import(status=ImportStatus.FAILED, mode="preview", error="missing required column: sku",
                             finished_at="2099-01-01T00:00:00Z")

    detail = _revert_detail(api, preview)
    assert "discard it" not in detail and "this one is failed" in detail
    assert api.client.delete(f"/api/imports/{preview}").status_code == 409  # discard refuses it
