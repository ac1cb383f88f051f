"""DESIGN decisions 2–4 on a real PostgreSQL: exactly-once chunks, last-write-wins, set-based writes."""

from __future__ import annotations

import json
import logging
import threading
import time
from decimal import Decimal

import psycopg
import pytest
from product_importer.db.chunks import (
    ChunkCounts,
    ImportTotals,
    next_import_number,
    read_totals,
    upsert_chunk,
    version_base,
)
from product_importer.ingest.rows import ROW_FIELDS, RowError

ALL_FIELDS = ("sku", "name", "description", "price", "currency", "quantity", "active", "brand", "category", "barcode")


def row(row_no: int, sku: str, name: str, **values: object) -> tuple:
    """A valid row tuple laid out as ROW_FIELDS (fields not given are None: 'the file lacks them')."""
    data = {"row_no": row_no, "sku_key": sku.strip().lower(), "sku": sku, "name": name, **values}
    if isinstance(data.get("attributes"), dict):
        data["attributes"] = json.dumps(data["attributes"])
    return tuple(data.get(f) for f in ROW_FIELDS)


def full(row_no: int, sku: str, name: str, price: str = "1.00", quantity: int = 1, **extra: object) -> tuple:
    return row(row_no, sku, name, description=None, price=price, currency="USD", quantity=quantity,
               active=True, brand=None, category=None, barcode=None, **extra)


def apply(conn: psycopg.Connection, import_id: str, import_no: int, chunk_no: int, rows: list[tuple],
          fields: tuple[str, ...] = ALL_FIELDS, errors: tuple[RowError, ...] = ()) -> ChunkCounts:
    return upsert_chunk(conn, import_id=import_id, import_no=import_no, chunk_no=chunk_no,
                        present_fields=fields, rows=rows, errors=errors, rows_seen=len(rows) + len(errors)).chunk


def products(conn: psycopg.Connection) -> dict[str, dict]:
    cur = conn.execute("SELECT sku_key, sku, name, price, quantity, attributes, version, last_import_id FROM products")
    cols = [c.name for c in cur.description or ()]
    return {r[0]: dict(zip(cols, r, strict=True)) for r in cur.fetchall()}


def test_a_new_chunk_creates_products_and_records_its_ledger_row(conn: psycopg.Connection) -> None:
    counts = apply(conn, "imp-1", 1, 0, [full(1, "A-1", "Alpha", "9.99"), full(2, "b-2", "Beta")],
                   errors=(RowError(3, "c-3", "price", "price must be a decimal", "abc"),))

    assert counts == ChunkCounts(rows_seen=3, rows_imported=2, rows_failed=1, products_created=2,
                                 products_updated=0, products_unchanged=0)
    stored = products(conn)
    assert stored["a-1"]["sku"] == "A-1" and stored["a-1"]["price"] == Decimal("9.99")
    assert stored["a-1"]["version"] == version_base(1) + 1
    errors = conn.execute("SELECT row_no, sku, column_name, message, value FROM row_errors").fetchall()
    assert errors == [(3, "c-3", "price", "price must be a decimal", "abc")]
    assert conn.execute("SELECT rows_imported, rows_failed FROM chunk_ledger").fetchall() == [(2, 1)]


def test_replaying_a_chunk_changes_nothing_and_returns_the_recorded_counts(conn: psycopg.Connection) -> None:
    rows = [full(1, "A-1", "Alpha"), full(2, "B-2", "Beta")]
    error = (RowError(3, None, "sku", "sku is required", ""),)
    first = apply(conn, "imp-1", 1, 0, rows, errors=error)
    before = products(conn)

    again = apply(conn, "imp-1", 1, 0, [full(1, "A-1", "Changed!")], errors=error)

    assert again.replayed and not first.replayed
    assert (again.rows_imported, again.products_created, again.rows_failed) == (2, 2, 1)
    assert products(conn) == before
    assert conn.execute("SELECT count(*) FROM row_errors").fetchone() == (1,)


def test_imports_applied_out_of_order_end_as_if_applied_in_order(databases) -> None:  # type: ignore[no-untyped-def]
    from tests.pg import fresh_database

    older = [full(1, "X-1", "old x", "1.00"), full(2, "Y-2", "old y", "2.00")]
    newer = [full(1, "x-1", "new x", "10.00"), full(2, "Z-3", "new z", "3.00")]
    states = []
    for order in (("old", "new"), ("new", "old")):
        with fresh_database(databases) as url, psycopg.connect(url) as conn:
            for which in order:
                if which == "old":
                    apply(conn, "imp-old", 1, 0, older)
                else:
                    apply(conn, "imp-new", 2, 0, newer)
            states.append({k: (v["sku"], v["name"], v["price"], v["version"]) for k, v in products(conn).items()})

    assert states[0] == states[1]
    assert states[0]["x-1"] == ("x-1", "new x", Decimal("10.00"), version_base(2) + 1)


def test_an_unchanged_row_still_takes_the_newer_version(conn: psycopg.Connection) -> None:
    # Given import 1 wrote a row and import 3 brings the identical row
    apply(conn, "imp-1", 1, 0, [full(1, "A", "same")])
    counts = apply(conn, "imp-3", 3, 0, [full(1, "A", "same")])
    assert (counts.products_unchanged, counts.products_updated) == (1, 0)

    # When import 2 (created between the two) arrives late
    apply(conn, "imp-2", 2, 0, [full(1, "A", "from import 2")])

    # Then import 3 still wins
    assert products(conn)["a"]["name"] == "same"
    assert products(conn)["a"]["version"] == version_base(3) + 1


def test_a_chunk_de_duplicates_by_sku_key_and_the_last_row_wins(conn: psycopg.Connection) -> None:
    counts = apply(conn, "imp-1", 1, 0, [full(1, "dup", "first"), full(2, "other", "o"), full(3, "DUP", "last")])

    assert products(conn)["dup"]["name"] == "last" and products(conn)["dup"]["sku"] == "DUP"
    # CONTRACT §2: a SKU on several rows is one product (created once), while every row counts as imported
    assert (counts.products_created, counts.products_unchanged, counts.rows_imported) == (2, 0, 3)


def test_a_file_without_a_column_keeps_the_stored_value(conn: psycopg.Connection) -> None:
    apply(conn, "imp-1", 1, 0, [full(1, "A", "Alpha", "5.00", quantity=7)])

    counts = apply(conn, "imp-2", 2, 0, [row(1, "A", "Alpha", price="6.50")], fields=("sku", "name", "price"))

    stored = products(conn)["a"]
    assert (stored["price"], stored["quantity"]) == (Decimal("6.50"), 7)
    assert counts.products_updated == 1


def test_attributes_merge_by_key(conn: psycopg.Connection) -> None:
    fields = (*ALL_FIELDS, "attributes")
    apply(conn, "imp-1", 1, 0, [full(1, "A", "Alpha", attributes={"color": "red", "size": "M"})], fields=fields)

    apply(conn, "imp-2", 2, 0, [full(1, "A", "Alpha", attributes={"size": "L", "material": "wool"})], fields=fields)

    assert products(conn)["a"]["attributes"] == {"color": "red", "size": "L", "material": "wool"}


def test_the_same_chunk_delivered_twice_at_once_is_written_once(database_url: str) -> None:
    rows = [full(i, f"SKU-{i}", f"n{i}") for i in range(1, 2001)]
    results: list[ChunkCounts] = []
    barrier = threading.Barrier(2)

    def deliver() -> None:
        with psycopg.connect(database_url) as conn:
            barrier.wait()
            results.append(apply(conn, "imp-1", 1, 0, rows))

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(r.replayed for r in results) == [False, True]
    assert all(r.products_created == 2000 for r in results)
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT count(*) FROM products").fetchone() == (2000,)


def test_concurrent_overlapping_chunks_do_not_deadlock_and_the_newest_version_wins(database_url: str) -> None:
    # Given 4 imports whose chunks all touch the same 3,000 SKUs, in opposite file orders
    skus = [f"sku-{i:05d}" for i in range(3000)]
    jobs = []
    for import_no in range(1, 5):
        order = skus if import_no % 2 else list(reversed(skus))
        for chunk_no in range(3):
            part = order[chunk_no * 1000:(chunk_no + 1) * 1000]
            rows = [full(chunk_no * 1000 + i + 1, s, f"imp{import_no}", f"{import_no}.00") for i, s in enumerate(part)]
            jobs.append((f"imp-{import_no}", import_no, chunk_no, rows))
    failures: list[BaseException] = []
    lock = threading.Lock()

    def worker(my_jobs: list) -> None:
        with psycopg.connect(database_url) as conn:
            for job in my_jobs:
                try:
                    apply(conn, *job)
                except BaseException as exc:
                    with lock:
                        failures.append(exc)

    # When 4 threads apply them concurrently, newest import first for half of them
    threads = [threading.Thread(target=worker, args=(jobs[i::4][::-1] if i % 2 else jobs[i::4],)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    # Then nothing escaped and every SKU holds import 4's value
    assert failures == []
    with psycopg.connect(database_url) as conn:
        names = conn.execute("SELECT name, count(*) FROM products GROUP BY name").fetchall()
        assert names == [("imp4", 3000)]
        assert conn.execute("SELECT count(*) FROM chunk_ledger").fetchone() == (12,)


def test_import_numbers_grow(conn: psycopg.Connection) -> None:
    first, second = next_import_number(conn), next_import_number(conn)
    assert second > first


def test_import_totals_add_each_chunk_once(conn: psycopg.Connection) -> None:
    apply(conn, "imp-1", 1, 0, [full(1, "A", "a"), full(2, "B", "b")])
    apply(conn, "imp-1", 1, 1, [full(3, "A", "a2")], errors=(RowError(4, None, "name", "name is required", ""),))
    apply(conn, "imp-1", 1, 1, [full(3, "A", "a2")])  # replay

    # CONTRACT §2: A is created by this import and renamed by its next chunk: one product, created
    assert read_totals(conn, "imp-1") == ImportTotals(chunks_done=2, rows_processed=4, rows_imported=3,
                                                      rows_failed=1, products_created=2, products_updated=0,
                                                      products_unchanged=0)
    assert read_totals(conn, "unknown").chunks_done == 0


def test_a_first_touch_that_waits_for_an_older_writer_records_what_that_writer_left(database_url: str) -> None:
    # Given product A written by import 1, and an older import's write of it (import 2) that holds the row,
    # uncommitted, while import 3's chunk reads A and waits for that row
    with psycopg.connect(database_url) as conn:
        apply(conn, "imp-1", 1, 0, [full(1, "A", "first", "1.00"), full(2, "B", "first")])
        apply(conn, "imp-3", 3, 0, [full(2, "B", "newer")])  # (import 3's next chunks skip the insert-only COPY)
    older = psycopg.connect(database_url)
    older.execute("UPDATE products SET price = 7.00, name = 'older', version = %s WHERE sku_key = 'a'",
                  (version_base(2) + 1,))
    results: list[ChunkCounts] = []
    newer = threading.Thread(target=lambda: results.append(
        apply(psycopg.connect(database_url), "imp-3", 3, 1, [full(1, "A", "newer", "9.00")])))
    newer.start()
    with psycopg.connect(database_url, autocommit=True) as watch:
        for _ in range(500):
            waiting = watch.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                                    " AND query LIKE '%%UPDATE products%%'").fetchone()
            if waiting and waiting[0]:
                break
            threading.Event().wait(0.01)
        else:
            raise AssertionError(watch.execute("SELECT wait_event_type, wait_event, state, left(query, 60) FROM pg_stat_activity").fetchall())
    # When the older write commits while import 3 waits
    older.commit()
    older.close()
    newer.join(timeout=30)

    # Then import 3 wins, and its change record and undo data hold the state the older write left (the state
    # just before import 3's touch), not the one import 3's statement read before it waited
    assert results and results[0].products_updated == 1
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT name, price FROM products WHERE sku_key = 'a'").fetchone() == ("newer", Decimal("9.00"))
        change = conn.execute("SELECT changes FROM changes WHERE import_no = 3 AND sku_key = 'a'").fetchone()
        assert change is not None
        assert change[0]["name"] == ["older", "newer"] and change[0]["price"] == ["7.00", "9.00"]
        undo = conn.execute("SELECT name, price, version FROM undo WHERE import_no = 3 AND sku_key = 'a'").fetchone()
        assert undo == ("older", Decimal("7.00"), version_base(2) + 1)


def test_create_records_keep_skus_that_copy_escapes(conn: psycopg.Connection) -> None:
    # A first import (the insert-only COPY path) of SKUs with a backslash, a tab and a line break in them
    skus = ["back\\slash", "tab\there", "line\nbreak", "plain"]
    counts = apply(conn, "imp-1", 1, 0, [full(i + 1, sku, f"n{i}") for i, sku in enumerate(skus)])
    assert counts.products_created == 4
    keys = conn.execute("SELECT sku_key FROM changes WHERE import_no = 1 AND action = 'c' ORDER BY sku_key").fetchall()
    assert [k for (k,) in keys] == sorted(s.lower() for s in skus)
    # and the common case, one COPY block, keeps the keys exact too
    apply(conn, "imp-2", 2, 0, [full(1, "Z-1", "z"), full(2, "z-2 x", "z")])
    keys = conn.execute("SELECT sku_key FROM changes WHERE import_no = 2 ORDER BY sku_key").fetchall()
    assert keys == [("z-1",), ("z-2 x",)]



def test_chunks_writing_the_same_new_skus_in_opposite_file_orders_never_deadlock(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    # Given two first imports (the insert-only COPY path) whose files hold the same 2,001 new SKUs in
    # opposite orders, and a transaction holding the middle SKU, so that both chunks are mid-write at once
    skus = [f"sku-{i:05d}" for i in range(2001)]
    jobs = [("imp-1", 1, 0, [full(i + 1, s, "imp1") for i, s in enumerate(skus)]),
            ("imp-2", 2, 0, [full(i + 1, s, "imp2") for i, s in enumerate(reversed(skus))])]
    holder = psycopg.connect(database_url)
    holder.execute("INSERT INTO products (sku_key, sku, name, version) VALUES ('sku-01000', 'sku-01000', 'x', 1)")
    failures: list[BaseException] = []

    def worker(job: tuple) -> None:
        try:
            with psycopg.connect(database_url) as conn:
                apply(conn, *job)
        except BaseException as exc:
            failures.append(exc)

    with caplog.at_level(logging.WARNING, logger="product_importer.db.chunks"):
        threads = [threading.Thread(target=worker, args=(job,)) for job in jobs]
        for t in threads:
            t.start()
        try:
            with psycopg.connect(database_url, autocommit=True) as watcher:
                deadline = time.monotonic() + 20
                while watcher.execute("SELECT count(*) FROM pg_locks WHERE NOT granted").fetchone() != (2,):
                    assert time.monotonic() < deadline, "the chunks never both waited"
                    time.sleep(0.02)
        finally:
            # When the middle SKU is released
            holder.rollback()
            holder.close()
            for t in threads:
                t.join(60)

    # Then rows are written in SKU-key order whatever the file order (DESIGN decision 3): one chunk waits
    # for the other instead of deadlocking with it (a deadlock is retried, so only the log shows it)
    assert failures == []
    assert not [r.getMessage() for r in caplog.records if "DeadlockDetected" in r.getMessage()]
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT name, count(*) FROM products GROUP BY name").fetchall() == [("imp2", 2001)]


TRICKY = 'say "hi" \\ back\tslash\n é 😀 \u2028 end'


@pytest.mark.parametrize("second_touch", [False, True], ids=["first touch", "a later chunk of the import"])
def test_a_change_record_holds_every_field_before_and_after_as_json(conn: psycopg.Connection,
                                                                     second_touch: bool) -> None:
    """Every kind of value (null both ways, text with quotes, backslashes, control and astral characters,
    decimal strings, integers, booleans, attribute keys) comes out of the change record as it was stored. The
    first touch of a product is written by the fast statement, a later chunk of the same import by the
    general one, which merges its record into the first."""
    fields = (*ALL_FIELDS, "attributes")
    before = {"name": "plain", "description": None, "price": "1.50", "currency": "USD", "quantity": 7,
              "active": True, "brand": TRICKY, "category": "Tools", "barcode": None,
              "attributes": {"color": "red", "size": "M"}}
    after = {"name": 'n"ame', "description": TRICKY, "price": "12.5", "currency": "EUR", "quantity": 0,
             "active": False, "brand": None, "category": None, "barcode": "0042",
             "attributes": {"color": 'bl"ue\\', "size": "M", "fit": "slim"}}
    apply(conn, "imp-1", 1, 0, [row(1, "A-1", **before)], fields)
    if second_touch:
        middle = {**before, "name": "middle", "price": "3", "attributes": {"color": "green", "size": "M", "fit": "x"}}
        apply(conn, "imp-2", 2, 0, [row(1, "A-1", **middle)], fields)
        apply(conn, "imp-2", 2, 1, [row(2, "a-1", **after)], fields)
    else:
        apply(conn, "imp-2", 2, 0, [row(1, "a-1", **after)], fields)

    stored = conn.execute("SELECT action, changes FROM changes WHERE import_no = 2").fetchone()
    assert stored is not None
    assert stored[0] == "u"
    assert stored[1] == {
        "sku": ["A-1", "a-1"], "name": ["plain", 'n"ame'], "description": [None, TRICKY], "price": ["1.50", "12.5"],
        "currency": ["USD", "EUR"], "quantity": [7, 0], "active": [True, False], "brand": [TRICKY, None],
        "category": ["Tools", None], "barcode": [None, "0042"],
        "attributes": {"color": ["red", 'bl"ue\\'], "fit": [None, "slim"]},
    }


def test_a_re_import_goes_straight_to_the_staged_statements_without_a_failed_copy(
        conn: psycopg.Connection, monkeypatch: pytest.MonkeyPatch) -> None:
    # The insert-only COPY that meets an existing SKU fails, and PostgreSQL logs that failure as an ERROR:
    # a re-import must not try it (the ends of the chunk exist), a first import must still use it.
    from product_importer.db import chunks

    tried: list[str] = []
    copy = chunks._copy_new_products
    monkeypatch.setattr(chunks, "_copy_new_products",
                        lambda c, present, rows, params: (tried.append(params["import_id"]), copy(c, present, rows, params)))
    monkeypatch.setattr(chunks, "_imports_with_existing_rows", set())
    first = apply(conn, "imp-1", 1, 0, [full(1, "A", "a"), full(2, "M", "m"), full(3, "Z", "z")])
    assert (first.products_created, tried) == (3, ["imp-1"])

    again = apply(conn, "imp-2", 2, 0, [full(1, "A", "a2"), full(2, "Z", "z2")])
    assert (again.products_updated, tried) == (2, ["imp-1"])

    # new ends, an existing SKU inside: the COPY is tried, fails on it, and the staged statements take the chunk
    mixed = apply(conn, "imp-3", 3, 0, [full(1, "0-new", "n"), full(2, "M", "m3"), full(3, "zz-new", "n")])
    assert (mixed.products_created, mixed.products_updated, tried) == (2, 1, ["imp-1", "imp-3"])
    assert {k: v["name"] for k, v in products(conn).items()} == {"a": "a2", "m": "m3", "z": "z2", "0-new": "n",
                                                                 "zz-new": "n"}
