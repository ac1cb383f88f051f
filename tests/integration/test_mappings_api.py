"""Saved mappings (/api/mappings) on PostgreSQL: CRUD, one mapping per header set and per prefix (names
folded as CONTRACT §1 says), the splitter's lookup, who may save what, and suggest."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from product_importer.mappings.repository import find_mapping_for

from tests.integration.api_harness import ApiHarness, api_harness


@pytest.fixture
def api(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[ApiHarness]:
    with api_harness(database_url, monkeypatch) as harness:
        yield harness


def save(api: ApiHarness, **body: Any) -> dict[str, Any]:
    response = api.client.post("/api/mappings", json={"name": "m", "mapping": {}, **body})
    assert response.status_code == 201, response.text
    return response.json()


def test_a_mapping_is_saved_read_listed_replaced_and_deleted(api: ApiHarness) -> None:
    # given a saved mapping
    created = save(api, name=" Supplier A ", mapping={"Artikel": "SKU", "Bezeichnung": "name", "Lager": "Attribute"},
                   profile="Generic", headers=["Artikel", "Bezeichnung", "Lager"])
    assert created["name"] == "Supplier A" and created["profile"] == "generic"
    assert created["mapping"] == {"Artikel": "sku", "Bezeichnung": "name", "Lager": "attribute"}
    assert created["headers"] == ["Artikel", "Bezeichnung", "Lager"] and created["prefix"] is None
    # then it reads back, and lists
    assert api.client.get(f"/api/mappings/{created['id']}").json() == created
    assert [m["id"] for m in api.client.get("/api/mappings").json()["items"]] == [created["id"]]
    # when it is replaced (PUT: every field)
    replaced = api.client.put(f"/api/mappings/{created['id']}", json={"name": "Supplier A v2",
                                                                      "mapping": {"Artikel": "sku"}})
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["headers"] is None and replaced.json()["mapping"] == {"Artikel": "sku"}
    # and deleted
    assert api.client.delete(f"/api/mappings/{created['id']}").status_code == 204
    for method in ("GET", "DELETE"):
        assert api.client.request(method, f"/api/mappings/{created['id']}").status_code == 404
    assert api.client.put(f"/api/mappings/{created['id']}", json={"name": "x"}).status_code == 404


def test_mappings_page_with_a_cursor(api: ApiHarness) -> None:
    ids = [save(api, name=f"m{i}", headers=[f"col{i}", "sku"])["id"] for i in range(7)]

    seen, cursor = [], None
    for _ in range(10):
        page = api.client.get("/api/mappings", params={"limit": 3, **({"cursor": cursor} if cursor else {})}).json()
        seen += [m["id"] for m in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert seen == ids
    assert api.client.get("/api/mappings", params={"cursor": "nonsense"}).status_code == 400


@pytest.mark.parametrize("same", [
    ["sku", "product name", "price"],
    ["Price", "SKU", "Product Name"],
    ["  sku ", "product_name", "PRICE *"],
    ["Product-Name", "sku #", "price", "SKU"],
    ["sku", "product\u00a0name", "price"],
])
def test_a_second_mapping_of_the_same_header_set_is_409(api: ApiHarness, same: list[str]) -> None:
    first = save(api, name="first", headers=["SKU", "Product Name", "Price"])

    response = api.client.post("/api/mappings", json={"name": "second", "mapping": {}, "headers": same})

    assert response.status_code == 409, response.text
    assert first["id"] in response.json()["detail"]


def test_another_header_set_is_another_mapping(api: ApiHarness) -> None:
    save(api, name="first", headers=["SKU", "Product Name", "Price"])

    save(api, name="second", headers=["SKU", "Product Name", "Price", "Stock"])
    save(api, name="third", headers=["SKU", "Product Name"])
    save(api, name="a partner's", headers=["SKU", "Product Name", "Price"], prefix="incoming/acme/")


def test_a_second_mapping_of_the_same_prefix_is_409_and_a_replace_cannot_take_it(api: ApiHarness) -> None:
    acme = save(api, name="acme", prefix="incoming/acme")  # the trailing slash is added
    other = save(api, name="other", prefix="incoming/other/")
    assert acme["prefix"] == "incoming/acme/"

    again = api.client.post("/api/mappings", json={"name": "acme 2", "mapping": {}, "prefix": "incoming/acme/"})
    taken = api.client.put(f"/api/mappings/{other['id']}", json={"name": "other", "prefix": "incoming/acme/"})
    same = api.client.put(f"/api/mappings/{acme['id']}", json={"name": "acme", "prefix": "incoming/acme/"})

    assert again.status_code == 409 and acme["id"] in again.json()["detail"]
    assert taken.status_code == 409
    assert same.status_code == 200
    assert api.client.get(f"/api/mappings/{other['id']}").json()["prefix"] == "incoming/other/"


@pytest.mark.parametrize(("body", "where"), [
    ({"name": "x", "prefix": "uploads/acme/"}, "prefix"),
    ({"name": "x", "prefix": "incoming/"}, "prefix"),
    ({"name": "x", "prefix": "incoming/../etc/"}, "prefix"),
    ({"name": "x", "prefix": "incoming/a\u0001b/"}, "prefix"),
    ({"name": "x", "prefix": "incoming/ /"}, "prefix"),
    ({"name": "x", "prefix": "incoming/acme/./"}, "prefix"),
    ({"name": "x", "prefix": "incoming/" + "a" * 256 + "/"}, "prefix"),
    ({"name": "x", "prefix": "incoming//"}, "prefix"),
    ({"name": "x", "prefix": "incoming/acme//"}, "prefix"),  # an empty folder: only keys with '//' would match
    ({"name": "x", "prefix": "incoming/acme//daily/"}, "prefix"),
    ({"name": "x", "mapping": {"A": "colour"}}, "mapping"),
    ({"name": "x", "mapping": {"": "sku"}}, "mapping"),
    ({"name": "x", "profile": "prestashop"}, "profile"),
    ({"name": "x", "headers": []}, "headers"),
    ({"name": "x", "headers": ["  ", ""]}, "headers"),
    ({"name": "x", "headers": ["a" * 65_537]}, "headers"),  # longer than a header line may be
    ({"name": "", "mapping": {}}, "name"),
    ({"name": "x", "replace": {"scope": "all"}}, "prefix"),
    ({"name": "x", "prefix": "incoming/acme/", "replace": {"max_deactivate_percent": 200}}, "max_deactivate_percent"),
    ({"name": "x", "partner": "acme"}, "partner"),  # unknown fields: they were ignored and the mapping saved
    ({"name": "x", "header": ["Artikel"]}, "header"),
])
def test_bad_mappings_are_422(api: ApiHarness, body: dict[str, Any], where: str) -> None:
    response = api.client.post("/api/mappings", json=body)

    assert response.status_code == 422, response.text
    assert where in str(response.json()["detail"])
    assert api.client.get("/api/mappings").json()["items"] == []


def test_a_mapping_as_get_gives_it_can_be_put_back(api: ApiHarness) -> None:
    """Unknown fields are refused, but not what GET adds to a mapping's fields (id, created_at, updated_at)."""
    saved = save(api, name="a", headers=["Artikel", "Name"], mapping={"Artikel": "sku"})

    replaced = api.client.put(f"/api/mappings/{saved['id']}", json={**saved, "name": "b"})

    assert replaced.status_code == 200, replaced.text
    assert replaced.json() | {"updated_at": None} == saved | {"name": "b", "updated_at": None}


def test_a_partner_mapping_may_carry_replace(api: ApiHarness) -> None:
    saved = save(api, name="acme", prefix="incoming/acme/", replace={"scope": "partner"})

    assert saved["replace"] == {"scope": "partner", "max_deactivate_percent": 20}


def test_the_splitter_finds_the_mapping_by_header_set_or_longest_prefix(api: ApiHarness) -> None:
    by_header = save(api, name="header", headers=["Artikel", "Bezeichnung"])
    acme = save(api, name="acme", prefix="incoming/acme/")
    acme_eu = save(api, name="acme eu", prefix="incoming/acme/eu/")
    save(api, name="acmeish", prefix="incoming/acme-b/")

    with api.connect() as conn:
        def found(**what: Any) -> str | None:
            mapping = find_mapping_for(conn, **what)
            return mapping.id if mapping else None

        assert found(headers=["bezeichnung ", "ARTIKEL"]) == by_header["id"]
        assert found(headers=["Artikel", "Bezeichnung", "Preis"]) is None
        assert found(headers=[]) is None
        assert found(key="incoming/acme/eu/2026/feed.csv") == acme_eu["id"]
        assert found(key="incoming/acme/us/feed.csv") == acme["id"]
        assert found(key="incoming/acme/feed.csv") == acme["id"]
        assert found(key="incoming/acme") is None
        assert found(key="incoming/other/feed.csv") is None
        assert found(key="uploads/acme/eu/feed.csv") is None
        candidate = find_mapping_for(conn, key="incoming/acme/eu/x.csv")
        assert candidate is not None and candidate.candidate() == {"id": acme_eu["id"], "name": "acme eu",
                                                                   "mapping": {}, "prefix": "incoming/acme/eu/"}


def test_a_partner_folder_with_spaces_or_accents_has_its_mapping_whatever_the_normal_form(api: ApiHarness) -> None:
    """CONTRACT §4: the partner is whatever first folder a partner system writes. Folders like "ACME Corp"
    or "Müller GmbH" were drops without a partner mapping (a prefix had to be letters, digits, '.', '_',
    '-'), and a folder made on a Mac arrives decomposed (u + U+0308)."""
    spaced = save(api, name="acme", prefix="incoming/ACME Corp/")
    accented = save(api, name="müller", prefix="incoming/Mu\u0308ller GmbH/")  # typed decomposed

    assert accented["prefix"] == "incoming/M\u00fcller GmbH/"  # kept NFC
    with api.connect() as conn:
        def found(key: str) -> str | None:
            mapping = find_mapping_for(conn, key=key)
            return mapping.id if mapping else None

        assert found("incoming/ACME Corp/feed.csv") == spaced["id"]
        assert found("incoming/M\u00fcller GmbH/feed.csv") == accented["id"]
        assert found("incoming/Mu\u0308ller GmbH/2026/feed.csv") == accented["id"]
        assert found("incoming/ACME/feed.csv") is None
    again = api.client.post("/api/mappings", json={"name": "again", "prefix": "incoming/M\u00fcller GmbH"})
    assert again.status_code == 409  # the same prefix, whatever the normal form


def test_an_admin_imports_for_a_partner_named_like_its_folder(api: ApiHarness) -> None:
    created = api.client.post("/api/imports", json={"filename": "a.csv", "partner": "Mu\u0308ller GmbH"})
    assert created.status_code == 201, created.text
    assert created.json()["import"]["partner"] == "M\u00fcller GmbH"
    for bad in ("a/b", "..", " ", "a\u0000b", "a\u0085b", "x" * 256):
        refused = api.client.post("/api/imports", json={"filename": "a.csv", "partner": bad})
        assert refused.status_code == 422 and "partner" in str(refused.json()["detail"]), (bad, refused.text)


def test_importers_save_header_mappings_admins_also_prefix_mappings(api: ApiHarness) -> None:
    partner = save(api, name="acme", prefix="incoming/acme/")
    api.as_group("importer")

    refused = api.client.post("/api/mappings", json={"name": "x", "mapping": {}, "prefix": "incoming/x/"})
    mine = api.client.post("/api/mappings", json={"name": "mine", "mapping": {}, "headers": ["a", "sku"]})

    assert refused.status_code == 403 and "admin" in refused.json()["detail"]
    assert mine.status_code == 201
    assert api.client.put(f"/api/mappings/{partner['id']}", json={"name": "no"}).status_code == 403
    assert api.client.delete(f"/api/mappings/{partner['id']}").status_code == 403
    assert api.client.put(f"/api/mappings/{mine.json()['id']}", json={"name": "prefix now",
                                                                      "prefix": "incoming/me/"}).status_code == 403
    assert api.client.delete(f"/api/mappings/{mine.json()['id']}").status_code == 204
    api.as_group("viewer")
    assert api.client.post("/api/mappings", json={"name": "v", "mapping": {}}).status_code == 403
    assert api.client.get("/api/mappings").status_code == 200


def test_partner_on_an_import_needs_admin(api: ApiHarness) -> None:
    api.as_group("importer")

    refused = api.client.post("/api/imports", json={"filename": "a.csv", "partner": "acme"})

    assert refused.status_code == 403 and "admin" in refused.json()["detail"]
    assert api.client.post("/api/imports", json={"filename": "a.csv"}).status_code == 201


# -- suggest -------------------------------------------------------------------------------------------------


def suggest(api: ApiHarness, head: bytes, **params: str) -> Any:
    return api.client.post("/api/mappings/suggest", content=head, params=params,
                           headers={"content-type": "application/octet-stream"})


def test_suggest_reads_the_head_as_the_import_will(api: ApiHarness) -> None:
    head = "Artikelnummer;Bezeichnung;Preis;Farbe\r\nA-1;Stuhl;12,50;rot\r\nA-2;Tisch;99,00;blau\r\n".encode("cp1252")

    response = suggest(api, head)

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["delimiter"], body["profile"]) == (";", "generic")
    columns = {c["header"]: c for c in body["columns"]}
    assert columns["Preis"]["samples"] == ["12,50", "99,00"]
    assert columns["Farbe"]["field"] == "attribute"
    assert set(body["missing"]) == {"sku", "name"}
    # what the failed import's error would name, for the mapping step to offer
    assert body["likeliest"] == {"sku": ["Artikelnummer"], "name": ["Bezeichnung"]}
    assert body["mapping_id"] is None


def test_suggest_applies_the_saved_mapping_of_the_same_header_set(api: ApiHarness) -> None:
    saved = save(api, name="de", headers=["Artikelnummer", "Bezeichnung", "Preis"],
                 mapping={"Artikelnummer": "sku", "Bezeichnung": "name", "Preis": "price"})

    body = suggest(api, b"artikelnummer,BEZEICHNUNG,Preis\nA-1,Stuhl,12.50\n").json()

    assert body["mapping_id"] == saved["id"]
    assert [c["field"] for c in body["columns"]] == ["sku", "name", "price"]
    assert body["missing"] == [] and body["likeliest"] == {}


def test_suggest_takes_the_users_overrides(api: ApiHarness) -> None:
    head = "sku,name\nA-1,Caf\u00e9\n".encode("cp1252")

    body = suggest(api, head, encoding="UTF8", profile="shopify").json()
    assert body["encoding"] == "utf-8" and body["profile"] == "shopify"
    assert suggest(api, head, encoding="ebcdic").status_code == 400


def test_suggest_takes_at_most_64_kb(api: ApiHarness) -> None:
    row = b"A-1,chair,12.50\n"
    fits = b"sku,name,price\n" + row * ((64 * 1024 - 15) // len(row))
    assert len(fits) <= 64 * 1024

    assert suggest(api, fits).status_code == 200
    too_big = suggest(api, fits + row * 10)
    assert too_big.status_code == 413 and "64" in too_big.json()["detail"]


@pytest.mark.parametrize("head", [b"", b"\xef\xbb\xbf\r\n\r\n", b"sku,na\x00me\n1,2\n"])
def test_suggest_explains_an_unreadable_head_with_422(api: ApiHarness, head: bytes) -> None:
    response = suggest(api, head)

    assert response.status_code == 422, response.text
    assert isinstance(response.json()["detail"], str) and response.json()["detail"]
