"""The products API on a real PostgreSQL: paging, search (and its plans), CRUD, versions, delete-all."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from product_importer.db.chunks import next_import_number, version_base
from product_importer.products.search import refresh_for_import


def generate_products(
    conn: psycopg.Connection, count: int, *, import_id: str = "gen", start: int = 1
) -> None:
    """``count`` products in one set-based INSERT (SKUs in mixed case; names/descriptions with words)."""
    import_no = next_import_number(conn)
    conn.execute(
        """
        INSERT INTO products (sku_key, sku, name, description, price, brand, category, active, version,
                              last_import_id)
        SELECT lower(s.sku), s.sku,
               (ARRAY['Steel','Cotton','Wireless','Vintage'])[1 + n %% 4] || ' ' ||
               (ARRAY['lamp','chair','kettle','desk','mug'])[1 + n %% 5] || ' ' || n,
               'item number ' || n || CASE WHEN n %% 1000 = 0 THEN ' rarewordzebra' ELSE '' END,
               round((n %% 10000) / 100.0, 2), 'Brand ' || (n %% 20), 'Category ' || (n %% 10), n %% 10 <> 0,
               %(base)s::bigint + n, %(import_id)s
        FROM generate_series(%(start)s::int, %(end)s::int) AS n,
             LATERAL (SELECT CASE WHEN n %% 2 = 0 THEN 'SKU-' ELSE 'sku-' END || lpad(n::text, 8, '0') AS sku) AS s
        """,
        {"base": version_base(import_no), "import_id": import_id, "start": start, "end": start + count - 1},
    )
    record_creates(conn, import_id, import_no)
    conn.commit()
    refresh_for_import(conn, import_id)
    conn.execute("ANALYZE products")
    conn.execute("ANALYZE product_search")
    conn.commit()


def record_creates(conn: psycopg.Connection, import_id: str, import_no: int) -> None:
    """What an import's chunks write besides the products: its registration and a ``create`` record per
    product (the search refresh finds the products an import wrote by them)."""
    from product_importer.db.registry import register_import

    if conn.execute("SELECT 1 FROM import_registry WHERE import_id = %s", (import_id,)).fetchone() is None:
        register_import(conn, import_id, import_no=import_no)
    conn.execute("INSERT INTO changes (import_no, sku_key, action) SELECT %s, sku_key, 'c' FROM products"
                 " WHERE last_import_id = %s ON CONFLICT DO NOTHING", (import_no, import_id))


def all_pages(api: TestClient, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        reply = api.get("/api/products", params={**params, **({"cursor": cursor} if cursor else {})})
        assert reply.status_code == 200, reply.text
        page = reply.json()
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items


def test_paging_returns_every_product_exactly_once_in_sku_order(
    api: TestClient, conn: psycopg.Connection
) -> None:
    # given 1,234 products
    generate_products(conn, 1_234)
    # when every page of 100 is read
    items = all_pages(api, limit=100)
    # then each product comes once, ordered by its case-insensitive SKU
    keys = [i["sku"].lower() for i in items]
    assert len(keys) == 1_234 and len(set(keys)) == 1_234
    assert keys == sorted(keys)
    assert api.get("/api/products").json()["items"].__len__() == 50  # the default limit
    assert api.get("/api/products", params={"limit": 501}).status_code == 422


def test_q_matches_a_sku_prefix_or_all_words_of_name_and_description(
    api: TestClient, conn: psycopg.Connection
) -> None:
    generate_products(conn, 3_000)
    # a SKU prefix, whatever its case
    by_prefix = all_pages(api, q="SKU-0000012", limit=7)
    assert [p["sku"].lower() for p in by_prefix] == [f"sku-{n:08d}" for n in range(120, 130)]
    # words, in any case and order, from name and description together
    by_words = all_pages(api, q="KETTLE steel")  # name words: n % 4 == 0 and n % 5 == 2
    assert {int(p["sku"][4:]) for p in by_words} == {n for n in range(1, 3_001) if n % 4 == 0 and n % 5 == 2}
    assert [p["sku"] for p in all_pages(api, q="rarewordzebra")] == [
        "SKU-00001000",
        "SKU-00002000",
        "SKU-00003000",
    ]
    # combined with filters
    filtered = all_pages(api, q="lamp", active="false", brand="brand 0", category="CATEGORY 0")
    assert filtered and all(not p["active"] and p["brand"] == "Brand 0" for p in filtered)
    assert all_pages(api, q="nothing-like-this") == []


def test_search_uses_indexes_at_200k_products(conn: psycopg.Connection) -> None:
    """EXPLAIN the statements ``list_products`` runs: no sequential scan of products or product_search."""
    from product_importer.products import repository

    generate_products(conn, 200_000)
    statements: list[str] = []

    class Explaining(psycopg.Cursor):  # type: ignore[type-arg]
        def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:  # type: ignore[override]
            text = query.as_string(conn) if hasattr(query, "as_string") else str(query)
            if text.lstrip().upper().startswith("SELECT") and "products" in text:
                plan = conn.execute("EXPLAIN " + text, params).fetchall()
                statements.append("\n".join(r[0] for r in plan))
            return super().execute(query, params, **kwargs)

    conn.cursor_factory = Explaining
    for q in ("sku-0012", "steel lamp", "rarewordzebra", "Kettle"):
        for f in (repository.ProductFilter(q=q), repository.ProductFilter(q=q, brand="Brand 3")):
            repository.list_products(conn, f, limit=50)
    repository.list_products(conn, repository.ProductFilter(brand="Brand 3"), limit=50)
    assert statements
    for plan in statements:
        assert "Seq Scan" not in plan, plan


def test_put_creates_then_replaces_and_get_is_case_insensitive(api: TestClient) -> None:
    # when a product is created
    created = api.put(
        "/api/products/AB-1",
        json={"name": " Lamp ", "price": "12.50", "quantity": 3, "attributes": {"color": "red"}},
    )
    assert created.status_code == 201, created.text
    assert created.json()["name"] == "Lamp" and created.json()["price"] == "12.50"
    # then it is found whatever the case, and a PUT replaces every field
    assert api.get("/api/products/ab-1").json()["sku"] == "AB-1"
    replaced = api.put("/api/products/ab-1", json={"sku": "ab-1", "name": "Desk"})
    assert replaced.status_code == 200
    body = replaced.json()
    assert (
        body["sku"],
        body["name"],
        body["price"],
        body["quantity"],
        body["currency"],
        body["attributes"],
    ) == ("ab-1", "Desk", None, 0, "USD", {})
    assert api.get("/api/products", params={"q": "desk"}).json()["items"][0]["sku"] == "ab-1"


def test_patch_changes_only_what_it_names(api: TestClient) -> None:
    api.put(
        "/api/products/P-1",
        json={"name": "Chair", "price": 5, "brand": "Acme", "attributes": {"a": "1", "b": "2"}},
    )
    reply = api.patch("/api/products/p-1", json={"price": "7.25", "attributes": {"b": None, "c": "3"}})
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert (body["name"], body["price"], body["brand"], body["attributes"]) == (
        "Chair",
        "7.25",
        "Acme",
        {"a": "1", "c": "3"},
    )
    assert api.patch("/api/products/nope", json={"price": "1"}).status_code == 404


def test_an_empty_patch_is_a_no_op_not_a_conflict(api: TestClient) -> None:
    """PATCH {} (or an empty attributes object) changes nothing: 200 with the product, no false 409."""
    created = api.put("/api/products/E-1", json={"name": "Lamp", "price": "3"}).json()
    for body in ({}, {"attributes": {}}):
        reply = api.patch("/api/products/e-1", json=body)
        assert reply.status_code == 200, reply.text
        assert reply.json() == created
    assert api.patch("/api/products/nope", json={}).status_code == 404


def test_validation_errors_are_422_with_field_detail(api: TestClient) -> None:
    reply = api.put(
        "/api/products/X-1", json={"name": "", "price": "-1", "currency": "usdollar", "quantity": -2}
    )
    assert reply.status_code == 422
    fields = {d["loc"][-1]: d["msg"] for d in reply.json()["detail"]}
    assert set(fields) == {"name", "price", "currency", "quantity"}
    assert "required" in fields["name"]
    too_long = api.put("/api/products/" + "x" * 65, json={"name": "ok"})
    assert too_long.status_code == 422 and too_long.json()["detail"][0]["loc"] == ["body", "sku"]
    mismatch = api.put("/api/products/A", json={"sku": "B", "name": "n"})
    assert mismatch.status_code == 422


def test_delete_one_and_delete_all_with_its_guard(api: TestClient, conn: psycopg.Connection) -> None:
    generate_products(conn, 120)
    assert api.delete("/api/products/SKU-00000001").status_code == 204
    assert api.get("/api/products/sku-00000001").status_code == 404
    assert api.delete("/api/products/sku-00000001").status_code == 404
    # delete-all refuses without confirm=true
    assert api.delete("/api/products").status_code == 400
    assert api.delete("/api/products", params={"confirm": "false"}).status_code == 400
    for word in ("yes", "1", "on", "y", "maybe", ""):  # a bool query parameter took the first four as true
        refused = api.delete("/api/products", params={"confirm": word})
        assert refused.status_code == 400 and "confirm=true" in refused.json()["detail"], (word, refused.text)
    assert api.get("/api/products").json()["items"]
    reply = api.delete("/api/products", params={"confirm": "true"})
    assert reply.status_code == 200 and reply.json() == {"deleted": 119}
    assert api.get("/api/products").json() == {"items": [], "next_cursor": None}
    assert conn.execute("SELECT count(*) FROM product_search").fetchone() == (0,)


def test_a_manual_edit_is_newer_than_earlier_imports_and_older_than_later_ones(
    api: TestClient, conn: psycopg.Connection
) -> None:
    # given an import created before the edit
    earlier = next_import_number(conn)
    api.put("/api/products/V-1", json={"name": "manual"})
    stored = conn.execute("SELECT version FROM products WHERE sku_key = 'v-1'").fetchone()
    assert stored is not None and stored[0] > version_base(earlier) + 2**32 - 1
    # when an import created later writes the product
    later = next_import_number(conn)
    conn.execute(
        "UPDATE products SET version = %s, name = 'import' WHERE sku_key = 'v-1'", (version_base(later) + 1,)
    )
    conn.commit()
    # then the edit prepared before it (an older number) is refused with 409, not silently lost
    from product_importer.products import repository

    with pytest.raises(repository.NewerImportError):
        repository._write(
            conn,
            {
                "sku_key": "v-1",
                "sku": "V-1",
                "name": "stale",
                "description": None,
                "price": None,
                "currency": "USD",
                "quantity": 0,
                "active": True,
                "brand": None,
                "category": None,
                "barcode": None,
                "attributes": {},
            },
            version=version_base(later - 1),
        )
    # and a fresh edit (a newer number) wins again
    assert api.patch("/api/products/v-1", json={"name": "edited"}).json()["name"] == "edited"


@pytest.mark.parametrize("cursor", ["%%%", "eyJ4IjoxfQ==", "bm90LWpzb24", "x" * 3000])
def test_a_cursor_the_api_did_not_make_is_a_400(api: TestClient, cursor: str) -> None:
    """A garbled cursor answered 200 with page 1 (or an empty page), where every other list answers 400."""
    reply = api.get("/api/products", params={"cursor": cursor})
    assert reply.status_code == 400 and reply.json()["detail"] == "invalid cursor", reply.text


@pytest.mark.parametrize("sku", [".", ".."])
def test_a_sku_of_dots_is_reached_with_a_trailing_space_the_path_keeps(api: TestClient, sku: str) -> None:
    """Browsers fold "." and ".." path segments (``%2E`` too), so the UI sends such a SKU with an encoded
    trailing space (``..%20``), which the API trims like any SKU. This test pins that trim."""
    path = f"/api/products/{sku.replace('.', '%2E')}%20"

    assert api.put(path, json={"name": "Dots"}).status_code == 201
    assert api.get(path).json()["sku"] == sku
    assert api.patch(path, json={"name": "Dotted"}).json()["name"] == "Dotted"
    assert api.get(f"{path}/history").status_code == 200
    assert api.delete(path).status_code == 204
    assert api.get(path).status_code == 404


def test_concurrent_edits_of_one_sku_never_refuse_each_other(database_url: str) -> None:
    """Eight parallel PUTs (and PATCHes, DELETEs) of one SKU answered 409 "written by an import created
    after this edit" to some of them: an edit took its version before the row lock, so a later edit could
    write first. Edits of one SKU now take their versions in the order they write: none refuses another,
    and the product holds one of them."""
    import threading

    from product_importer.products import repository

    barrier = threading.Barrier(8)
    outcomes: list[str] = []

    def edit(n: int) -> None:
        with psycopg.connect(database_url) as conn:
            barrier.wait()
            try:
                if n % 4 == 3:
                    repository.patch_product(conn, "race-1", {"name": f"patch {n}"})
                else:
                    repository.put_product(conn, "RACE-1", {"name": f"put {n}"})
                outcomes.append("ok")
            except repository.ProductNotFoundError:
                outcomes.append("not yet")  # a PATCH that came before the first PUT
            except Exception as exc:  # any other outcome fails the test below
                outcomes.append(repr(exc))

    for _ in range(5):
        outcomes.clear()
        threads = [threading.Thread(target=edit, args=(n,)) for n in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert set(outcomes) <= {"ok", "not yet"}, outcomes
    with psycopg.connect(database_url) as conn:
        assert repository.get_product(conn, "race-1")["name"].startswith(("put", "patch"))


def test_the_product_get_returns_can_be_sent_back_with_put_or_patch(api: TestClient) -> None:
    """A client that PUT back the object GET gave it got 422 (created_at, updated_at, last_import_id are
    not inputs). They are ignored; an unknown field is still refused."""
    assert api.put("/api/products/RT-1", json={"name": "Round", "price": "2.50"}).status_code == 201
    product = api.get("/api/products/RT-1").json()

    put = api.put("/api/products/RT-1", json={**product, "name": "Round trip", "created_at": "1999-01-01T00:00:00Z"})
    patch = api.patch("/api/products/RT-1", json={**product, "price": "3.00"})

    assert put.status_code == 200, put.text
    assert put.json()["name"] == "Round trip" and put.json()["created_at"] == product["created_at"]
    assert patch.status_code == 200 and patch.json()["price"] == "3.00", patch.text
    assert api.put("/api/products/RT-1", json={"name": "x", "colour": "red"}).status_code == 422
    renamed = api.patch("/api/products/RT-1", json={"sku": "RT-2", "name": "x"})
    assert renamed.status_code == 422 and renamed.json()["detail"][0]["loc"] == ["body", "sku"], renamed.text


def test_the_search_refresh_of_a_small_import_reads_no_whole_catalog(conn: psycopg.Connection) -> None:
    """A finished import's search refresh scanned every product (by last_import_id, which has no index):
    1.5-6.5 s per import on a 3.6M-product catalog, before its webhook. It now starts from the import's
    change records."""
    from product_importer.products import search

    generate_products(conn, 100_000)
    generate_products(conn, 10, import_id="small", start=200_001)
    no = conn.execute("SELECT import_no FROM import_registry WHERE import_id = 'small'").fetchone()[0]

    [[analyzed]] = conn.execute(  # runs the batch (its documents are built already: nothing changes)
        "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + search._REFRESH_BATCH,
        {"import_id": "small", "no": no, "after": "", "limit": 1000}).fetchone()
    conn.rollback()
    top = analyzed["Plan"]
    pages = top["Shared Hit Blocks"] + top["Shared Read Blocks"]

    assert pages < 500, (pages, analyzed)  # the whole catalog is ~4,000 pages
    assert search.refresh_for_import(conn, "small").documents_written == 0  # built once already: unchanged
    assert conn.execute("SELECT count(*) FROM product_search WHERE sku_key >= 'sku-00200001'").fetchone() == (10,)
