"""CONTRACT §4: a drop's partner is the first folder under ``incoming/`` (null directly under it)."""

from __future__ import annotations

import pytest
from product_importer.models import partner_name
from product_importer.pipeline.splitter import declared_encoding, partner_of


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


@pytest.mark.parametrize(("content_type", "encoding"), [
    (None, None),
    ("text/csv", None),
    ("binary/octet-stream", None),
    ("text/csv; charset=windows-1252", "windows-1252"),
    ('text/csv;charset="ISO-8859-1"', "windows-1252"),  # WHATWG: ISO-8859-1 is read as Windows-1252
    ("text/csv; charset=cp1252", "windows-1252"),
    ("text/csv; charset=UTF-16", None),  # Excel's UTF-16 has a BOM the detection reads; a mislabel would be garbage
    ("text/csv; charset=utf-8", None),  # the default: the Windows-1252 detection stays for a mislabelled file
    ("text/csv; charset=koi8-r", None),  # not one we read: detected as usual
    ("garbage;;;charset", None),
])
def test_a_drops_content_type_charset_is_its_encoding_override(content_type: str | None,
                                                               encoding: str | None) -> None:
    assert declared_encoding(content_type) == encoding
