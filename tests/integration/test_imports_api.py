"""/api/imports on a real PostgreSQL and moto: options on create, filters, discard, apply, revert, replace."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from product_importer.db.chunks import next_import_number
from product_importer.db.revert import revert_chunk
from product_importer.models import ImportOptions, ImportStatus, ReplaceOptions

from tests.integration.api_harness import BUCKET, ApiHarness, api_harness


@pytest.fixture
def api(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[ApiHarness]:
    with api_harness(database_url, monkeypatch) as harness:
        yield harness


def policy_of(fields: dict[str, str]) -> dict[str, Any]:
    return json.loads(base64.b64decode(fields["policy"]))


# -- create ------------------------------------------------------------------------------------------------


def test_create_stores_every_option_on_the_import_for_the_pipeline(api: ApiHarness) -> None:
    # given a preview request with every option
    body = {"filename": "feed.csv", "mode": "preview", "mapping": {"Artikel": "SKU", " Bezeichnung ": "name",
                                                                     "Notiz": "ignore", "Farbe": "Attribute"},
            "profile": "Shopify", "encoding": "CP1252", "replace": {"scope": "partner", "max_deactivate_percent": 12.5},
            "max_errors": 0, "partner": "acme-gmbh"}
    # when it is created
    response = api.client.post("/api/imports", json=body)
    # then the import shows them, and the item holds them as the splitter reads them
    assert response.status_code == 201, response.text
    imp = response.json()["import"]
    assert (imp["mode"], imp["partner"], imp["profile"], imp["encoding"]) == ("preview", "acme-gmbh", "shopify",
                                                                           "windows-1252")
    assert imp["replace"] == {"scope": "partner", "max_deactivate_percent": 12.5, "status": None}
    assert imp["mapping"] == {"Artikel": "sku", "Bezeichnung": "name", "Notiz": "ignore", "Farbe": "attribute"}
    item = api.item(imp["id"])
    assert item is not None
    assert ImportOptions.model_validate(item["options"]) == ImportOptions(
        mapping=imp["mapping"], profile="shopify", encoding="windows-1252",
        replace=ReplaceOptions(scope="partner", max_deactivate_percent=12.5), max_errors=0)
    assert item["mode"] == "preview" and item["partner"] == "acme-gmbh"
    assert api.client.get(f"/api/imports/{imp['id']}").json() == imp


def test_create_defaults_are_a_plain_import_with_no_overrides(api: ApiHarness) -> None:
    imp = api.client.post("/api/imports", json={"filename": "a.csv", "replace": {}}).json()["import"]

    assert imp["mode"] == "import" and imp["partner"] is None and imp["mapping"] is None
    assert imp["replace"] == {"scope": "all", "max_deactivate_percent": 20, "status": None}
    assert api.item(imp["id"])["options"] == {"replace": {"scope": "all", "max_deactivate_percent": 20}}


def test_the_presigned_post_lives_at_most_15_minutes_and_takes_only_its_key(api: ApiHarness) -> None:
    before = datetime.now(UTC)
    body = api.client.post("/api/imports", json={"filename": "a.csv"}).json()

    upload = body["upload"]
    policy = policy_of(upload["fields"])
    expires = datetime.fromisoformat(policy["expiration"].replace("Z", "+00:00"))
    assert upload["expires_in"] <= 900
    assert (expires - before) <= timedelta(seconds=905)
    assert {"key": f"uploads/{body['import']['id']}.csv"} in policy["conditions"]
    assert {"bucket": BUCKET} in policy["conditions"]


def test_create_numbers_and_registers_the_import_and_signs_a_post_for_its_key_only(api: ApiHarness) -> None:
    with api.connect() as conn:
        before = next_import_number(conn)

    body = api.client.post("/api/imports", json={"filename": " spring.csv ", "size": 1234, "partner": "acme",
                                                 "mode": "preview"}).json()

    imp, upload = body["import"], body["upload"]
    assert imp["filename"] == "spring.csv" and (imp["source"], imp["status"]) == ("upload", "pending")
    assert (imp["rows_total"], imp["chunks_total"], imp["chunks_done"], imp["error"]) == (None, None, 0, None)
    assert imp["created_at"].endswith("Z") and imp["finished_at"] is None
    item = api.item(imp["id"])
    assert item["import_no"] > before and item["object_key"] == f"uploads/{imp['id']}.csv"
    with api.connect() as conn:
        registered = conn.execute("SELECT import_no, mode, status, partner FROM import_registry WHERE import_id = %s",
                                  (imp["id"],)).fetchone()
    assert registered == (item["import_no"], "preview", "pending", "acme")
    conditions = policy_of(upload["fields"])["conditions"]
    assert upload["method"] == "POST" and upload["fields"]["key"] == f"uploads/{imp['id']}.csv"
    assert not any(isinstance(c, list) and c[0] == "starts-with" and c[1] == "$key" for c in conditions)
    assert ["content-length-range", 0, api.settings.max_upload_bytes] in conditions


def test_create_over_the_maximum_size_is_413_and_creates_nothing(api: ApiHarness) -> None:
    limit = api.settings.max_upload_bytes

    too_big = api.client.post("/api/imports", json={"filename": "big.csv", "size": limit + 1})

    assert too_big.status_code == 413 and "maximum" in too_big.json()["detail"]
    assert api.client.get("/api/imports").json()["items"] == []
    assert api.client.post("/api/imports", json={"filename": "edge.csv", "size": limit}).status_code == 201


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({"filename": "a.csv", "mode": "dry-run"}, "mode"),
        ({"filename": "a.csv", "profile": "prestashop"}, "profile"),
        ({"filename": "a.csv", "encoding": "ebcdic"}, "encoding"),
        ({"filename": "a.csv", "mapping": {"A": "colour"}}, "mapping"),
        ({"filename": "a.csv", "mapping": {" ": "sku"}}, "mapping"),
        ({"filename": "a.csv", "mapping": {"A": 3}}, "mapping"),
        ({"filename": "a.csv", "mapping": {"A" * 65_537: "ignore"}}, "mapping"),  # longer than a header line
        ({"filename": "a.csv", "mapping": {f"{n}" + "A" * 20_000: "ignore" for n in range(4)}}, "mapping"),
        ({"filename": "a.csv", "replace": {"scope": "partner"}}, "partner"),
        ({"filename": "a.csv", "replace": {"scope": "everything"}}, "scope"),
        ({"filename": "a.csv", "replace": {"max_deactivate_percent": 101}}, "max_deactivate_percent"),
        ({"filename": "a.csv", "replace": {"max_deactivate_percent": -1}}, "max_deactivate_percent"),
        ({"filename": "a.csv", "replace": {"scope": "all", "extra": 1}}, "extra"),
        ({"filename": "a.csv", "max_errors": -1}, "max_errors"),
        ({"filename": "a.csv", "partner": "../etc"}, "partner"),
        ({"filename": "a.csv", "partner": "acme/feeds"}, "partner"),
        ({"filename": "a.csv", "partner": ""}, "partner"),
        ({"filename": "a.csv", "partner": "a" * 256}, "partner"),  # a folder name: at most 255
        ({"filename": "a.csv", "partner": " "}, "partner"),
        ({"filename": "a.csv", "content_type": "text/csv\r\nX-Evil: 1"}, "content_type"),
        ({"filename": "catalog.xlsx"}, "filename"),
        ({"filename": "csv"}, "filename"),
        ({"filename": ""}, "filename"),
        ({"filename": "a.csv", "size": -1}, "size"),
        ({}, "filename"),
    ],
)
def test_create_refuses_bad_options_with_422_naming_the_field(api: ApiHarness, body: dict[str, Any],
                                                              where: str) -> None:
    response = api.client.post("/api/imports", json=body)

    assert response.status_code == 422, response.text
    assert where in json.dumps(response.json()["detail"])
    assert api.client.get("/api/imports").json()["items"] == []


def test_a_mapping_can_name_a_column_whose_name_is_too_long_for_an_attribute(api: ApiHarness) -> None:
    """An import whose header has a name over 255 characters fails, advising to map that column to ignore;
    the API refused such a mapping (keys were limited to 255 characters), so the advice could not be
    followed. Found by an audit of CONTRACT §1 (attribute names, mapping)."""
    note = "Notes for the team " * 20  # 380 characters, what a pasted note in a header cell is

    response = api.client.post("/api/imports", json={"filename": "a.csv", "mapping": {note: "ignore"}})

    assert response.status_code == 201, response.text
    assert response.json()["import"]["mapping"] == {note.strip(): "ignore"}
    saved = api.client.post("/api/mappings", json={"name": "noted", "mapping": {note: "ignore"},
                                                   "headers": ["sku", "name", note]})
    assert saved.status_code == 201, saved.text


@pytest.mark.parametrize("filename", ["catalog.csv", "Catalog.CSV", "unicode text.txt", "export.tsv"])
def test_a_csv_or_a_text_file_a_spreadsheet_saves_can_be_uploaded(api: ApiHarness, filename: str) -> None:
    assert api.client.post("/api/imports", json={"filename": filename}).status_code == 201


def test_a_workbook_is_refused_with_how_to_save_it_as_csv(api: ApiHarness) -> None:
    response = api.client.post("/api/imports", json={"filename": "catalog.xlsx"})
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"][-1] == "filename" and 'save the sheet as "CSV UTF-8"' in error["msg"]


@pytest.mark.parametrize("filename", ["a\u0000.csv", "a\r\nb.csv", "tab\there.csv", "c\u0085.csv"])
def test_a_filename_with_control_characters_is_refused(api: ApiHarness, filename: str) -> None:
    """POST /api/imports took NUL and line breaks in ``filename`` (every other text field refuses them);
    the name is shown in the UI, sent in webhooks and used for errors.csv."""
    response = api.client.post("/api/imports", json={"filename": filename})

    assert response.status_code == 422, response.text
    [error] = response.json()["detail"]
    assert error["loc"][-1] == "filename" and "control characters" in error["msg"]
    assert api.client.get("/api/imports").json()["items"] == []


def test_scope_partner_with_a_partner_is_accepted(api: ApiHarness) -> None:
    response = api.client.post("/api/imports", json={"filename": "a.csv", "partner": "acme",
                                                     "replace": {"scope": "partner", "max_deactivate_percent": 0}})
    assert response.status_code == 201
    assert response.json()["import"]["replace"]["max_deactivate_percent"] == 0


@pytest.mark.parametrize("unknown", [{"modee": "preview"}, {"max_error": 5}, {"dry_run": True}])
def test_an_unknown_field_on_create_is_422_and_makes_no_import(api: ApiHarness, unknown: dict[str, Any]) -> None:
    """Found by an audit: a misspelt option was ignored, so {"filename", "modee": "preview"} imported the file for
    real (every other body of the API refuses a field it does not know)."""
    response = api.client.post("/api/imports", json={"filename": "catalog.csv", **unknown})

    assert response.status_code == 422, response.text
    [problem] = response.json()["detail"]
    assert problem["loc"] == ["body", *unknown] and problem["type"] == "extra_forbidden"
    assert api.client.get("/api/imports").json()["items"] == []


# -- list ----------------------------------------------------------------------------------------------------


def test_list_filters_by_status_mode_and_partner_and_pages_through_each(api: ApiHarness) -> None:
    # given imports in several states, modes and partners (created oldest first)
    made: list[tuple[str, str, str, str | None]] = []
    for i in range(12):
        status = [ImportStatus.COMPLETED, ImportStatus.PREVIEWED, ImportStatus.FAILED][i % 3]
        mode = "preview" if status is ImportStatus.PREVIEWED else "import"
        partner = "acme" if i % 2 else None
        made.append((api.put_import(status=status, mode=mode, partner=partner,
                                    created_at=f"2026-11-28T10:00:{i:02d}.000Z"), status.value, mode, partner))

    def every(**params: Any) -> list[str]:
        seen: list[str] = []
        cursor = None
        for _ in range(20):
            page = api.client.get("/api/imports", params={**params, "limit": 2, **({"cursor": cursor} if cursor else {})})
            assert page.status_code == 200, page.text
            seen += [i["id"] for i in page.json()["items"]]
            cursor = page.json()["next_cursor"]
            if cursor is None:
                return seen
        raise AssertionError("paging did not end")

    newest_first = made[::-1]
    # then each filter returns exactly its imports, newest first, across pages
    assert every() == [m[0] for m in newest_first]
    assert every(status="completed") == [m[0] for m in newest_first if m[1] == "completed"]
    assert every(mode="preview") == [m[0] for m in newest_first if m[2] == "preview"]
    assert every(partner="acme") == [m[0] for m in newest_first if m[3] == "acme"]
    assert every(partner="acme", status="failed") == [m[0] for m in newest_first
                                                      if m[3] == "acme" and m[1] == "failed"]
    assert every(partner="nobody") == []


@pytest.mark.parametrize("params", [{}, {"status": "completed"}])
def test_a_full_last_page_of_imports_ends_the_list(api: ApiHarness, params: dict[str, Any]) -> None:
    """CONTRACT §3: ``next_cursor`` is null at the end of a list. Found by an audit: a page that took the last
    imports exactly (3 imports, ``limit=3``; or paging by 1) still carried a cursor, and the page after it was
    empty, where every other list of the API ends on its last item."""
    ids = [api.put_import(status=ImportStatus.COMPLETED, created_at=f"2026-11-28T10:00:0{i}.000Z") for i in range(3)]

    whole = api.client.get("/api/imports", params={**params, "limit": 3}).json()
    assert [i["id"] for i in whole["items"]] == ids[::-1]
    assert whole["next_cursor"] is None

    pages, cursor = [], None
    for _ in range(5):
        page = api.client.get("/api/imports", params={**params, "limit": 1, **({"cursor": cursor} if cursor else {})})
        pages.append([i["id"] for i in page.json()["items"]])
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break
    assert pages == [[ids[2]], [ids[1]], [ids[0]]]  # three pages of one, no empty fourth


def test_the_partner_filter_finds_every_partner_a_drop_can_have(api: ApiHarness) -> None:
    """CONTRACT §4: a partner is a folder name of up to 255 characters, and §3 filters the list by it. Found by
    an audit: ``?partner=`` refused more than 64 characters (422), so such a partner's imports could not be listed."""
    long_name, mueller = "p" * 255, "M\u00fcller GmbH"
    ids = {name: api.put_import(status=ImportStatus.COMPLETED, partner=name) for name in (long_name, mueller, "acme")}

    def listed(partner: str) -> list[str]:
        page = api.client.get("/api/imports", params={"partner": partner})
        assert page.status_code == 200, page.text
        return [i["id"] for i in page.json()["items"]]

    assert listed(long_name) == [ids[long_name]]
    assert listed("Mu\u0308ller GmbH") == [ids[mueller]]  # typed on a Mac (decomposed): the same folder name
    assert listed("p" * 256) == listed("a/b") == []  # no drop has such a partner
    # an empty filter is no filter (as ?brand= and ?q= on products): it listed nothing
    assert sorted(listed("")) == sorted(listed(" ")) == sorted(ids.values())


@pytest.mark.parametrize("params", [{"status": "finished"}, {"mode": "x"}, {"cursor": "bm9wZQ"},
                                    {"cursor": "e30"}, {"cursor": "%%%"}, {"limit": 0}, {"limit": 501}])
def test_list_refuses_bad_filters_and_cursors_with_4xx(api: ApiHarness, params: dict[str, Any]) -> None:
    response = api.client.get("/api/imports", params=params)

    assert response.status_code in (400, 422), response.text
    assert "detail" in response.json()


# -- discard -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [ImportStatus.PREVIEWED, ImportStatus.PENDING])
def test_a_previewed_or_pending_import_is_discarded(api: ApiHarness, status: ImportStatus) -> None:
    import_id = api.put_import(status=status, mode="preview" if status is ImportStatus.PREVIEWED else "import")

    assert api.client.delete(f"/api/imports/{import_id}").status_code == 204

    assert api.client.get(f"/api/imports/{import_id}").status_code == 404
    assert api.client.delete(f"/api/imports/{import_id}").status_code == 404


@pytest.mark.parametrize("status", [ImportStatus.PROCESSING, ImportStatus.COMPLETED, ImportStatus.FAILED,
                                    ImportStatus.REVERTING, ImportStatus.REVERTED])
def test_other_imports_are_not_discarded(api: ApiHarness, status: ImportStatus) -> None:
    import_id = api.put_import(status=status)

    response = api.client.delete(f"/api/imports/{import_id}")

    assert response.status_code == 409
    assert status.value in response.json()["detail"]
    assert api.item(import_id) is not None


def test_an_applied_preview_is_not_discarded(api: ApiHarness) -> None:
    preview = api.put_import(status=ImportStatus.PREVIEWED, mode="preview", finished_at="2099-01-01T00:00:00.000Z")
    assert api.client.post(f"/api/imports/{preview}/apply").status_code == 201

    assert api.client.delete(f"/api/imports/{preview}").status_code == 409


@pytest.mark.parametrize("fields", [{"partner": "acme"}, {"replace": {"scope": "all", "max_deactivate_percent": 20}}])
@pytest.mark.parametrize("status", [ImportStatus.PREVIEWED, ImportStatus.PENDING])
def test_an_import_with_an_admins_options_is_discarded_and_applied_only_by_an_admin(
        api: ApiHarness, status: ImportStatus, fields: dict[str, Any]) -> None:
    """CONTRACT §8: replace and partner are an admin's. Found by a tester: an importer discarded an admin's
    replace preview (204) and applied an admin's partner preview."""
    import_id = api.put_import(status=status, mode="preview" if status is ImportStatus.PREVIEWED else "import",
                               finished_at="2099-01-01T00:00:00.000Z", **fields)
    api.as_group("importer")

    refused = api.client.delete(f"/api/imports/{import_id}")
    assert refused.status_code == 403 and "admin" in refused.json()["detail"]
    if status is ImportStatus.PREVIEWED:
        applied = api.client.post(f"/api/imports/{import_id}/apply")
        assert applied.status_code == 403 and "admin" in applied.json()["detail"]
    assert api.item(import_id) is not None
    api.as_group("admin")
    assert api.client.delete(f"/api/imports/{import_id}").status_code == 204


def test_an_importer_discards_and_applies_a_plain_preview(api: ApiHarness) -> None:
    first = api.put_import(status=ImportStatus.PREVIEWED, mode="preview", finished_at="2099-01-01T00:00:00.000Z")
    second = api.put_import(status=ImportStatus.PREVIEWED, mode="preview", finished_at="2099-01-01T00:00:00.000Z")
    api.as_group("importer")
    assert api.client.delete(f"/api/imports/{first}").status_code == 204
    assert api.client.post(f"/api/imports/{second}/apply").status_code == 201


# -- apply ---------------------------------------------------------------------------------------------------


def previewed(api: ApiHarness, **fields: Any) -> str:
    options = ImportOptions(mapping={"Artikel": "sku"}, encoding="windows-1252", max_errors=5,
                            replace=ReplaceOptions(scope="all", max_deactivate_percent=30))
    return api.put_import(status=ImportStatus.PREVIEWED, mode="preview", options=options, partner="acme",
                          profile="generic", finished_at=datetime.now(UTC).isoformat(), object_version="v-123",
                          object_etag="etag-1", **fields)


def test_apply_creates_a_new_import_of_the_same_file_version_and_options(api: ApiHarness) -> None:
    # given a preview (its import number taken before)
    preview_id = previewed(api)
    preview_no = api.item(preview_id)["import_no"]
    # when it is applied
    response = api.client.post(f"/api/imports/{preview_id}/apply")
    # then a new pending import points at it, with the same options, a newer number and the same object version
    assert response.status_code == 201, response.text
    applied = response.json()["import"]
    assert applied["id"] != preview_id
    assert (applied["mode"], applied["status"], applied["preview_of"]) == ("import", "pending", preview_id)
    assert applied["partner"] == "acme" and applied["filename"] == "catalog.csv"
    item = api.item(applied["id"])
    assert item["import_no"] > preview_no
    assert (item["bucket"], item["object_key"], item["object_version"]) == (BUCKET, f"uploads/{preview_id}.csv",
                                                                           "v-123")
    assert item["options"] == {"mapping": {"Artikel": "sku"}, "profile": "generic", "encoding": "windows-1252",
                               "replace": {"scope": "all", "max_deactivate_percent": 30}, "max_errors": 5}
    assert api.client.get(f"/api/imports/{preview_id}").json()["applied_as"] == applied["id"]
    # and the splitter is asked to split that version for the new import
    assert api.messages(api.splits_url) == [{"kind": "split", "import_id": applied["id"], "bucket": BUCKET,
                                             "key": f"uploads/{preview_id}.csv", "version_id": "v-123",
                                             "etag": "etag-1"}]
    assert api.messages(api.chunks_url) == []


def test_a_preview_is_applied_once(api: ApiHarness) -> None:
    preview_id = previewed(api)
    first = api.client.post(f"/api/imports/{preview_id}/apply")

    second = api.client.post(f"/api/imports/{preview_id}/apply")

    assert second.status_code == 409
    assert first.json()["import"]["id"] in second.json()["detail"]
    assert len(api.messages(api.splits_url)) == 1


@pytest.mark.parametrize("status", [ImportStatus.PENDING, ImportStatus.PROCESSING, ImportStatus.COMPLETED,
                                    ImportStatus.FAILED, ImportStatus.REVERTED])
def test_only_a_previewed_import_is_applied(api: ApiHarness, status: ImportStatus) -> None:
    import_id = api.put_import(status=status)

    response = api.client.post(f"/api/imports/{import_id}/apply")

    assert response.status_code == 409
    assert api.messages(api.splits_url) == []


def test_a_preview_older_than_7_days_has_expired(api: ApiHarness) -> None:
    old = (datetime.now(UTC) - timedelta(days=7, minutes=1)).isoformat()
    fresh = (datetime.now(UTC) - timedelta(days=6, hours=23)).isoformat()
    expired_id = api.put_import(status=ImportStatus.PREVIEWED, mode="preview", finished_at=old)
    fresh_id = api.put_import(status=ImportStatus.PREVIEWED, mode="preview", finished_at=fresh)

    expired = api.client.post(f"/api/imports/{expired_id}/apply")

    assert expired.status_code == 409 and "preview expired" in expired.json()["detail"]
    assert api.item(expired_id).get("applied_as") is None
    assert api.client.post(f"/api/imports/{fresh_id}/apply").status_code == 201


def test_an_apply_whose_job_cannot_be_sent_leaves_the_preview_applicable(api: ApiHarness) -> None:
    preview_id = previewed(api)
    api.sqs.delete_queue(QueueUrl=api.splits_url)

    response = api.client.post(f"/api/imports/{preview_id}/apply")

    assert response.status_code == 503
    assert "unavailable" in response.json()["detail"] and "sqs" not in response.json()["detail"].lower()
    assert api.item(preview_id).get("applied_as") is None
    assert [i["id"] for i in api.client.get("/api/imports").json()["items"]] == [preview_id]


def test_unknown_imports_are_404_on_every_action(api: ApiHarness) -> None:
    for method, path in [("POST", "apply"), ("POST", "revert"), ("POST", "replace?confirm=true"),
                         ("DELETE", ""), ("GET", "errors"), ("GET", "errors.csv")]:
        response = api.client.request(method, f"/api/imports/nope/{path}".rstrip("/"))
        assert response.status_code == 404, (method, path, response.text)


# -- revert --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [ImportStatus.COMPLETED, ImportStatus.FAILED])
def test_revert_plans_the_import_and_sends_one_job_per_chunk(api: ApiHarness, status: ImportStatus) -> None:
    # given an import that created two products and updated one
    earlier = api.put_import(status=ImportStatus.COMPLETED)
    api.import_rows(earlier, [("A-1", "chair", "10.00")])
    import_id = api.put_import(status=status, finished_at="2026-11-28T10:00:00.000Z")
    api.import_rows(import_id, [("A-1", "chair", "12.00"), ("B-1", "table", "99.00"), ("C-1", "lamp", "5.00")])
    # when it is reverted
    response = api.client.post(f"/api/imports/{import_id}/revert")
    # then it is reverting, with a fresh revert object, and the consumer is sent its one planned chunk
    assert response.status_code == 202, response.text
    imp = response.json()["import"]
    assert imp["status"] == "reverting"
    revert = imp["revert"]
    assert (revert["restored"], revert["deleted"], revert["conflicts"]) == (0, 0, 0)
    assert (revert["status"], revert["previous_status"]) == ("running", status.value)
    assert revert["requested_at"].endswith("Z")
    assert api.client.get(f"/api/imports/{import_id}").json()["status"] == "reverting"
    messages = api.messages(api.chunks_url)
    assert messages == [{"kind": "revert", "import_id": import_id, "requested_at": revert["requested_at"],
                         "chunk_no": 0, "chunks_total": 1}]
    # and what the consumer does with it gives the catalog before the import back
    with api.connect() as conn:
        done = revert_chunk(conn, import_id=import_id, chunk_no=messages[0]["chunk_no"])
    assert (done.restored, done.deleted, done.conflicts, done.totals.done) == (1, 2, 0, True)
    products = api.client.get("/api/products").json()["items"]
    assert [(p["sku"], p["price"]) for p in products] == [("A-1", "10.00")]
    assert api.client.get(f"/api/imports/{import_id}/revert/conflicts").json() == {"items": [], "next_cursor": None}


def test_a_revert_is_409_while_one_runs_or_after_it_ran(api: ApiHarness) -> None:
    import_id = api.put_import(status=ImportStatus.COMPLETED)
    api.import_rows(import_id, [("A-1", "chair", "12.00")])
    assert api.client.post(f"/api/imports/{import_id}/revert").status_code == 202

    assert api.client.post(f"/api/imports/{import_id}/revert").status_code == 409
    assert len(api.messages(api.chunks_url)) == 1


def test_an_import_that_touched_nothing_is_reverted_at_once(api: ApiHarness) -> None:
    import_id = api.put_import(status=ImportStatus.COMPLETED)

    response = api.client.post(f"/api/imports/{import_id}/revert")

    assert response.status_code == 202 and response.json()["import"]["status"] == "reverting"
    imp = api.client.get(f"/api/imports/{import_id}").json()
    assert imp["status"] == "reverted" and imp["revert"]["status"] == "done" and imp["reverted_at"]
    assert api.messages(api.chunks_url) == []
    assert api.client.post(f"/api/imports/{import_id}/revert").status_code == 409


def test_a_revert_after_the_undo_retention_is_409(api: ApiHarness) -> None:
    import_id = api.put_import(status=ImportStatus.COMPLETED)
    api.import_rows(import_id, [("A-1", "chair", "12.00")])
    with api.connect() as conn:
        conn.execute("UPDATE import_registry SET created_at = now() - interval '31 days' WHERE import_id = %s",
                     (import_id,))
        conn.commit()

    response = api.client.post(f"/api/imports/{import_id}/revert")

    assert response.status_code == 409 and "undo data expired" in response.json()["detail"]
    assert api.client.get(f"/api/imports/{import_id}").json()["status"] == "completed"


@pytest.mark.parametrize(("status", "mode", "says"), [
    (ImportStatus.PENDING, "import", "finished"), (ImportStatus.PROCESSING, "import", "finished"),
    (ImportStatus.REVERTING, "import", "being reverted"), (ImportStatus.REVERTED, "import", "already reverted"),
    (ImportStatus.PREVIEWED, "preview", "preview"),
])
def test_revert_is_409_unless_the_import_is_finished(api: ApiHarness, status: ImportStatus, mode: str,
                                                     says: str) -> None:
    import_id = api.put_import(status=status, mode=mode)

    response = api.client.post(f"/api/imports/{import_id}/revert")

    assert response.status_code == 409
    assert says in response.json()["detail"]
    assert api.messages(api.chunks_url) == []


def test_a_revert_whose_jobs_cannot_be_sent_leaves_the_import_as_it_was_and_can_be_asked_again(
    api: ApiHarness
) -> None:
    import_id = api.put_import(status=ImportStatus.COMPLETED)
    api.import_rows(import_id, [("A-1", "chair", "12.00")])
    api.sqs.delete_queue(QueueUrl=api.chunks_url)

    assert api.client.post(f"/api/imports/{import_id}/revert").status_code == 503

    imp = api.client.get(f"/api/imports/{import_id}").json()
    assert imp["status"] == "completed" and imp["revert"] is None
    assert api.sqs.create_queue(QueueName=api.chunks_url.rsplit("/", 1)[1])["QueueUrl"] == api.chunks_url
    again = api.client.post(f"/api/imports/{import_id}/revert")
    assert again.status_code == 202, again.text
    assert [m["chunk_no"] for m in api.messages(api.chunks_url)] == [0]


# -- replace -------------------------------------------------------------------------------------------------


def test_a_held_replace_is_carried_out_once_confirmed(api: ApiHarness) -> None:
    import_id = api.put_import(status=ImportStatus.COMPLETED,
                               replace={"scope": "all", "max_deactivate_percent": 20, "status": "held"})

    assert api.client.post(f"/api/imports/{import_id}/replace").status_code == 400
    response = api.client.post(f"/api/imports/{import_id}/replace", params={"confirm": "true"})

    assert response.status_code == 202, response.text
    replace = response.json()["import"]["replace"]
    assert replace["status"] == "held" and replace["confirmed_at"].endswith("Z")
    assert api.messages(api.chunks_url) == [{"kind": "replace", "import_id": import_id,
                                             "requested_at": replace["confirmed_at"], "scope": "all",
                                             "partner": None, "after": None, "completing": False}]
    again = api.client.post(f"/api/imports/{import_id}/replace", params={"confirm": "true"})
    assert again.status_code == 409
    assert api.messages(api.chunks_url) == []


@pytest.mark.parametrize("replace", [None, {"scope": "all", "max_deactivate_percent": 20, "status": None},
                                     {"scope": "all", "max_deactivate_percent": 20, "status": "done"}])
def test_replace_is_409_when_nothing_is_held(api: ApiHarness, replace: dict[str, Any] | None) -> None:
    import_id = api.put_import(status=ImportStatus.COMPLETED, replace=replace)

    response = api.client.post(f"/api/imports/{import_id}/replace", params={"confirm": "true"})

    assert response.status_code == 409 and "nothing is held" in response.json()["detail"]
    assert api.messages(api.chunks_url) == []


HELD = {"scope": "all", "max_deactivate_percent": 20, "status": "held"}


@pytest.mark.parametrize(("status", "mode", "says"), [
    (ImportStatus.PREVIEWED, "preview", "a preview deactivates nothing"),
    (ImportStatus.REVERTED, "import", "was reverted"),
    (ImportStatus.REVERTING, "import", "was reverted"),
])
def test_replace_is_409_for_a_preview_and_a_reverted_import_even_with_a_held_replace(
    api: ApiHarness, status: ImportStatus, mode: str, says: str
) -> None:
    # Found by review: a held replace confirmed after its import's revert deactivated products nothing could
    # undo; on a preview it answered 202 and stayed "held" with confirmed_at for good
    import_id = api.put_import(status=status, mode=mode, replace=HELD)

    response = api.client.post(f"/api/imports/{import_id}/replace", params={"confirm": "true"})

    assert response.status_code == 409 and says in response.json()["detail"]
    assert api.client.get(f"/api/imports/{import_id}").json()["replace"].get("confirmed_at") is None
    assert api.messages(api.chunks_url) == []


def test_a_held_replace_of_a_reverted_import_reads_cancelled_and_no_longer_says_to_confirm(api: ApiHarness) -> None:
    # Found by a tester: after the revert the replace still said "held", and its warning said to POST the
    # confirm, which answers 409 "this import was reverted"
    warning = "replace held: 9 of the 10 products in scope (90.0 %) are not in the file, more than the cap of 20 %, " \
              "so none was deactivated; to deactivate them, POST /api/imports/x/replace?confirm=true"
    import_id = api.put_import(status=ImportStatus.COMPLETED, replace=HELD, warnings=[warning, "another warning"])
    api.import_rows(import_id, [("C-1", "chair", "12.00")])
    assert api.client.get(f"/api/imports/{import_id}").json()["replace"]["status"] == "held"

    assert api.client.post(f"/api/imports/{import_id}/revert").status_code == 202

    imp = api.client.get(f"/api/imports/{import_id}").json()
    assert imp["replace"]["status"] == "cancelled"
    assert imp["warnings"][0] == "another warning" and "replace?confirm" not in " ".join(imp["warnings"])
    assert "cancelled" in imp["warnings"][-1] and "nothing was deactivated" in imp["warnings"][-1]
    assert api.client.post(f"/api/imports/{import_id}/replace", params={"confirm": "true"}).status_code == 409


def test_a_revert_and_a_confirmed_replace_exclude_each_other(api: ApiHarness) -> None:
    # A confirmed replace being carried out: the revert waits for it (409)
    confirmed = api.put_import(status=ImportStatus.COMPLETED, replace=HELD)
    api.import_rows(confirmed, [("R-1", "chair", "12.00")])
    assert api.client.post(f"/api/imports/{confirmed}/replace", params={"confirm": "true"}).status_code == 202
    api.messages(api.chunks_url)
    response = api.client.post(f"/api/imports/{confirmed}/revert")
    assert response.status_code == 409 and "replace is being carried out" in response.json()["detail"]

    # A revert first: the replace can no longer be confirmed, even by a request that read the item before
    reverted = api.put_import(status=ImportStatus.COMPLETED, replace=HELD)
    api.import_rows(reverted, [("R-2", "chair", "12.00")])
    assert api.client.post(f"/api/imports/{reverted}/revert").status_code == 202
    from product_importer.imports.store import ImportRequests  # the conditional write itself

    store = ImportRequests("progress-api-test", api.dynamodb)
    assert store.confirm_replace(reverted, confirmed_at="2026-01-01T00:00:00.000Z") is None


def test_an_import_item_from_before_previews_lists_as_an_import(api: ApiHarness) -> None:
    import_id = api.put_import(status=ImportStatus.COMPLETED)
    api.dynamodb.update_item(TableName="progress-api-test", Key={"id": {"S": import_id}},
                             UpdateExpression="REMOVE #mode", ExpressionAttributeNames={"#mode": "mode"})

    imports = api.client.get("/api/imports", params={"mode": "import"}).json()["items"]
    previews = api.client.get("/api/imports", params={"mode": "preview"}).json()["items"]

    assert [i["id"] for i in imports] == [import_id] and imports[0]["mode"] == "import"
    assert previews == []
