"""CONTRACT §4: a drop's partner is the first folder under ``incoming/`` (null directly under it)."""

from __future__ import annotations

import pytest
from product_importer.models import partner_name
from product_importer.pipeline.splitter import partner_of


@pytest.mark.parametrize(("key", "partner"), [
    ("incoming/acme/catalog.csv", "acme"),
    ("incoming/acme/2026/11/catalog.csv", "acme"),
    ("incoming/catalog.csv", None),
    ("incoming//catalog.csv", None),  # an empty folder name gave partner ""
    ("incoming/Ünïcode partner/x.csv", "Ünïcode partner"),
    ("incoming/Mu\u0308ller GmbH/x.csv", "M\u00fcller GmbH"),  # a Mac's decomposed folder name: NFC
    # folders no partner can have (the API refuses them as a partner, a filter or a prefix): no partner
    ("incoming/ /x.csv", None),
    ("incoming/./x.csv", None),
    ("incoming/../x.csv", None),
    ("incoming/a\tb/x.csv", None),
    ("incoming/" + "a" * 256 + "/x.csv", None),
])
def test_the_partner_is_the_first_folder(key: str, partner: str | None) -> None:
    assert partner_of(key) == partner
    if partner is not None:  # GET /api/imports?partner=… and a mapping's prefix take it as it is
        assert partner_name(partner) == partner
