"""Previews (issue 13), chunks of ended imports, max_errors, the row-error cap, tombstones and delete-all
(issue 10 items 3 and 7), at the database layer."""

from __future__ import annotations

import itertools
import json
import random
import threading
import time
from collections.abc import Iterator

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from product_importer.db import chunks
from product_importer.db.changes import changes_summary, list_changes, product_history
from product_importer.db.chunks import next_import_number, read_totals, upsert_chunk
from product_importer.db.registry import fail_import, finish_import, register_import
from product_importer.ingest.rows import RowError
from product_importer.products import repository
from product_importer.progress import CursorError

from tests.integration.catalog_model import (
    ImportFile,
    apply_chunk,
    catalog_of,
    make_row,
    random_file,
    shuffled_deliveries,
)
from tests.pg import fresh_database

_examples = itertools.count()


def _rows(*skus: str, price: str = "1.00", start: int = 1) -> list[tuple]:
    return [make_row(start + i, sku, f"name {sku}", {"price": price}, None) for i, sku in enumerate(skus)]


def _write(conn: psycopg.Connection, import_id: str, no: int, chunk_no: int, rows: list[tuple],
           errors: tuple[RowError, ...] = (), **kw: object) -> chunks.ChunkResult:
    return upsert_chunk(conn, import_id=import_id, import_no=no, chunk_no=chunk_no, present_fields={"price"},
                        rows=rows, errors=errors, rows_seen=len(rows) + len(errors), **kw)  # type: ignore[arg-type]


def _product_rows(conn: psycopg.Connection) -> list[tuple]:
    rows = conn.execute("SELECT * FROM products ORDER BY sku_key").fetchall()
    conn.rollback()
    return rows


# -- previews ---------------------------------------------------------------------------------------------

def test_a_preview_writes_no_product_and_records_what_an_import_would_do(conn: psycopg.Connection) -> None:
    _write(conn, "base", next_import_number(conn), 0, _rows("A", "B", price="1.00"))
    before = _product_rows(conn)
    no = next_import_number(conn)
    register_import(conn, "pre", import_no=no, mode="preview")

    # B on two rows in two chunks, delivered out of order: one product, updated
    first = _write(conn, "pre", no, 1, [*_rows("B", price="3.00", start=3), *_rows("C", start=4)], mode="preview")
    second = _write(conn, "pre", no, 0, [*_rows("A", price="1.00"), *_rows("b", price="2.00", start=2)],
                    mode="preview")

    assert _product_rows(conn) == before  # row level: nothing written, not even a version
    assert conn.execute("SELECT count(*) FROM undo").fetchone() == (0,)
    totals = second.totals
    assert (totals.products_created, totals.products_updated, totals.products_unchanged) == (1, 1, 1)
    assert first.chunk.products_created == 1
    items, cursor = list_changes(conn, "pre")
    assert cursor is None
    assert items == [
        {"sku": "A", "action": "unchanged", "changes": {}},
        {"sku": "B", "action": "update", "changes": {"price": {"from": "1.00", "to": "3.00"}}},
        {"sku": "C", "action": "create", "changes": {}},
    ]
    assert changes_summary(conn, "pre") == {"create": 1, "update": 1, "unchanged": 1, "deactivate": 0,
                                            "fields": {"price": 1}}
    finish_import(conn, "pre", "previewed")
    assert conn.execute("SELECT count(*) FROM preview_products").fetchone() == (0,)
    assert product_history(conn, "b")[0][0]["import_id"] == "base"  # previews are not history


def test_list_changes_pages_filters_and_refuses_a_bad_cursor(conn: psycopg.Connection) -> None:
    no = next_import_number(conn)
    _write(conn, "imp", no, 0, _rows(*(f"K{i:02d}" for i in range(7))))
    page, cursor = list_changes(conn, "imp", limit=3)
    assert [i["sku"] for i in page] == ["K00", "K01", "K02"] and cursor
    page, cursor = list_changes(conn, "imp", limit=3, cursor=cursor)
    assert [i["sku"] for i in page] == ["K03", "K04", "K05"]
    assert [i["sku"] for i in list_changes(conn, "imp", sku_prefix="k0")[0]][-1] == "K06"
    assert list_changes(conn, "imp", action="update")[0] == []
    assert list_changes(conn, "unknown")[0] == []
    for bad in ("%%%", "x" * 3000, "eyJrIjogMX0"):  # not base64 / too long / a number where a key is due
        with pytest.raises(CursorError):
            list_changes(conn, "imp", cursor=bad)


@pytest.fixture(scope="module")
def shared_url(databases) -> Iterator[str]:  # type: ignore[no-untyped-def]
    with fresh_database(databases) as url:
        yield url


def _changes(conn: psycopg.Connection, import_id: str) -> tuple[list, dict]:
    items, cursor = list_changes(conn, import_id, limit=500)
    while cursor is not None:
        more, cursor = list_changes(conn, import_id, limit=500, cursor=cursor)
        items += more
    summary = changes_summary(conn, import_id)
    conn.rollback()
    return [(i["sku"].lower(), i["action"], i["changes"]) for i in items], summary


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1), base_imports=st.integers(0, 3))
def test_preview_then_import_equals_a_direct_import(shared_url: str, seed: int, base_imports: int) -> None:
    n = next(_examples)
    results = []
    with psycopg.connect(shared_url) as conn:
        for variant in ("direct", "previewed"):
            rng = random.Random(seed)
            prefix = f"p{n}{variant[0]}-"
            skus = [f"{prefix}s{i}" for i in range(5)]
            catalog = [random_file(rng, f"{prefix}base{i}", next_import_number(conn), skus, tag=i)
                       for i in range(base_imports)]
            for index, chunk_no in shuffled_deliveries(rng, catalog):
                apply_chunk(conn, catalog[index], chunk_no)
            file = random_file(rng, f"{prefix}file", 0, skus, max_rows=8, tag="f")
            order = shuffled_deliveries(rng, [file])
            if variant == "previewed":
                preview = ImportFile(f"{prefix}preview", next_import_number(conn), file.fields,
                                     file.attribute_keys, file.rows, file.chunks)
                for _, chunk_no in order:
                    apply_chunk(conn, preview, chunk_no, mode="preview")
                results.append(("preview", *_strip(_changes(conn, preview.import_id), prefix), _counts(conn, preview.import_id)))
            file.import_no = next_import_number(conn)
            for _, chunk_no in order:
                apply_chunk(conn, file, chunk_no)
            results.append(("import", *_strip(_changes(conn, file.import_id), prefix), _counts(conn, file.import_id)))
    direct, preview, applied = results
    assert preview[1:] == direct[1:] == applied[1:]


def test_a_previews_chunks_run_concurrently_and_count_a_shared_sku_as_the_import_would(database_url: str) -> None:
    # Given a catalog, and a file whose 8 chunks all touch the same 400 existing and 200 new SKUs
    with psycopg.connect(database_url) as conn:
        base = ImportFile("base", next_import_number(conn), ("price",), (), [], [])
        base.chunks = [_rows(*(f"s{i:03d}" for i in range(400)), price="1.00")]
        apply_chunk(conn, base, 0)
        shared = [*(f"s{i:03d}" for i in range(400)), *(f"n{i:03d}" for i in range(200))]
        chunks_ = [_rows(*shared, price=f"{c + 2}.00", start=1 + c * len(shared)) for c in range(8)]
        rows = [r for chunk in chunks_ for r in chunk]
        preview = ImportFile("preview", next_import_number(conn), ("price",), (), rows, chunks_)
        direct = ImportFile("direct", 0, ("price",), (), rows, chunks_)

    # When 4 connections deliver the preview's chunks at once (and then a direct import, one by one)
    barrier = threading.Barrier(4)
    failures: list[BaseException] = []

    def deliver(part: list[int]) -> None:
        try:
            with psycopg.connect(database_url) as mine:
                barrier.wait()
                for chunk_no in part:
                    apply_chunk(mine, preview, chunk_no, mode="preview")
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=deliver, args=([i, i + 4],)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures, failures
    with psycopg.connect(database_url) as conn:
        direct.import_no = next_import_number(conn)
        for chunk_no in range(len(chunks_)):
            apply_chunk(conn, direct, chunk_no)

        # Then the preview planned exactly what the import did: 400 updates to the last price, 200 creates
        planned, applied = _changes(conn, "preview"), _changes(conn, "direct")
        assert planned == applied
        assert _counts(conn, "preview") == _counts(conn, "direct") == (200, 400, 0, 4800)
        updates = [c for _k, a, c in planned[0] if a == "update"]
        assert len(updates) == 400 and all(c == updates[0] for c in updates), updates[:2]
        assert "9.00" in json.dumps(updates[0]) and "1.00" in json.dumps(updates[0])


def test_a_previews_older_row_waiting_for_a_newer_one_of_the_same_sku_does_not_overwrite_it(database_url: str) -> None:
    """Two chunks of one preview touch a SKU its first chunk already touched: the chunk with the newer row
    writes first and holds the SKU until it commits; the chunk with the older row, started meanwhile, must
    compare with what the newer one left, not with the overlay it would have read before that commit."""
    with psycopg.connect(database_url) as conn:
        _write(conn, "base", next_import_number(conn), 0, _rows("A", price="1.00"))
        no = next_import_number(conn)
        register_import(conn, "pre", import_no=no, mode="preview")
        _write(conn, "pre", no, 0, _rows("A", price="2.00", start=1), mode="preview")  # the first touch
    holder = psycopg.connect(database_url)
    holder.execute("SELECT 1 FROM import_totals WHERE import_id = 'pre' FOR UPDATE")  # keeps the newer chunk open
    failures: list[BaseException] = []

    def deliver(chunk_no: int, price: str, row_no: int) -> None:
        try:
            with psycopg.connect(database_url) as mine:
                _write(mine, "pre", no, chunk_no, _rows("A", price=price, start=row_no), mode="preview")
        except BaseException as exc:
            failures.append(exc)

    newer = threading.Thread(target=deliver, args=(2, "9.00", 9))
    older = threading.Thread(target=deliver, args=(1, "5.00", 5))
    try:
        with psycopg.connect(database_url, autocommit=True) as watcher:
            newer.start()
            _wait_for_lock_waits(watcher, 1)  # the newer chunk wrote its overlay and waits to commit
            older.start()
            _wait_for_lock_waits(watcher, 2)  # the older chunk waits for the newer one
    finally:
        holder.rollback()
        holder.close()
        newer.join(30)
        older.join(30)
    assert not failures, failures
    with psycopg.connect(database_url) as conn:
        items, _ = list_changes(conn, "pre")
        assert items == [{"sku": "A", "action": "update", "changes": {"price": {"from": "1.00", "to": "9.00"}}}]
        assert _counts(conn, "pre") == (0, 1, 0, 3)


def _wait_for_lock_waits(conn: psycopg.Connection, count: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while conn.execute("SELECT count(*) FROM pg_locks WHERE NOT granted").fetchone() != (count,):
        assert time.monotonic() < deadline, f"never {count} lock waits"
        time.sleep(0.02)


def _strip(result: tuple[list, dict], prefix: str) -> tuple:
    items, summary = result

    def plain(changes: dict) -> dict:
        return json.loads(json.dumps(changes).replace(prefix, "").replace(prefix.upper(), ""))

    return ([(k.removeprefix(prefix), a, plain(c)) for k, a, c in items], summary)


def _counts(conn: psycopg.Connection, import_id: str) -> tuple[int, ...]:
    totals = read_totals(conn, import_id)
    conn.rollback()
    return totals.products_created, totals.products_updated, totals.products_unchanged, totals.rows_imported


# -- ended imports, max_errors, the error cap ----------------------------------------------------------

def test_a_chunk_committing_after_the_import_failed_writes_nothing(conn: psycopg.Connection) -> None:
    no = next_import_number(conn)
    _write(conn, "imp", no, 0, _rows("A"))
    assert fail_import(conn, "imp", "the file could not be read")
    result = _write(conn, "imp", no, 1, _rows("B", start=2))
    assert (result.written, result.import_failed, result.error) == (False, True, "the file could not be read")
    assert set(catalog_of(conn)) == {"a"}
    assert read_totals(conn, "imp").chunks_done == 1
    assert not fail_import(conn, "imp", "again")  # once


def test_fail_import_waits_for_a_chunk_in_flight(database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        no = next_import_number(conn)
        register_import(conn, "imp", import_no=no)
    holder = psycopg.connect(database_url)
    holder.execute("SELECT 1 FROM import_totals WHERE import_id = 'imp' FOR UPDATE")  # a chunk committing
    done = threading.Event()

    def failing() -> None:
        with psycopg.connect(database_url) as conn:
            fail_import(conn, "imp", "dead letter")
            done.set()

    thread = threading.Thread(target=failing)
    thread.start()
    assert not done.wait(0.5)  # blocked behind the chunk's lock
    holder.rollback()
    thread.join()
    holder.close()
    assert done.is_set()


def _wait_for_a_lock_wait(conn: psycopg.Connection, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        waiting = conn.execute("SELECT count(*) FROM pg_locks WHERE NOT granted").fetchone()
        conn.rollback()
        if waiting and waiting[0]:
            return
        time.sleep(0.02)
    raise AssertionError("the chunk never waited for the import's totals-row lock")


def test_a_chunk_that_was_writing_when_the_import_failed_rolls_back(database_url: str) -> None:
    """The chunk passes the start check while the import is still processing, then fail_import commits
    while the chunk waits for the totals-row lock: the re-check under that lock must roll the chunk back."""
    with psycopg.connect(database_url) as conn:
        no = next_import_number(conn)
        _write(conn, "imp", no, 0, _rows("A"))
    failer = psycopg.connect(database_url)
    failer.execute("SELECT 1 FROM import_totals WHERE import_id = 'imp' FOR UPDATE")  # fail_import in flight
    failer.execute("UPDATE import_registry SET status = 'failed', error = 'dead letter' WHERE import_id = 'imp'")
    results: list[chunks.ChunkResult] = []

    def chunk() -> None:
        with psycopg.connect(database_url) as conn:
            results.append(_write(conn, "imp", no, 1, _rows("B", start=2)))

    thread = threading.Thread(target=chunk)
    thread.start()
    try:
        with psycopg.connect(database_url) as watcher:
            _wait_for_a_lock_wait(watcher)
    finally:
        failer.commit()
        thread.join(30)
        failer.close()
    [result] = results
    assert (result.written, result.import_failed, result.error) == (False, True, "dead letter")
    with psycopg.connect(database_url) as conn:
        assert set(catalog_of(conn)) == {"a"}
        assert read_totals(conn, "imp").chunks_done == 1
        assert conn.execute("SELECT count(*) FROM chunk_ledger WHERE import_id = 'imp'").fetchone() == (1,)


def test_max_errors_fails_the_import_in_the_chunk_that_passes_it(conn: psycopg.Connection) -> None:
    no = next_import_number(conn)
    bad = tuple(RowError(10 + i, f"E{i}", "price", "price must be a decimal", "x") for i in range(3))
    ok = _write(conn, "imp", no, 0, _rows("A"), bad[:2], max_errors=2)
    assert not ok.import_failed
    tripped = _write(conn, "imp", no, 1, _rows("B", start=2), bad[2:], max_errors=2)
    assert (tripped.import_failed, tripped.error, tripped.written) == (True, chunks.TOO_MANY_ERRORS, True)
    assert tripped.totals.rows_failed == 3
    late = _write(conn, "imp", no, 2, _rows("C", start=3), max_errors=2)
    assert not late.written and late.import_failed
    assert set(catalog_of(conn)) == {"a", "b"}  # what was committed stays


def test_at_most_the_cap_of_row_errors_is_stored_and_rows_failed_stays_exact(
    conn: psycopg.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(chunks, "MAX_STORED_ERRORS", 5)
    no = next_import_number(conn)
    for chunk_no in range(3):
        errors = tuple(RowError(chunk_no * 10 + i, None, "sku", "sku is required", "") for i in range(3))
        _write(conn, "imp", no, chunk_no, [], errors)
    totals = read_totals(conn, "imp")
    assert totals.rows_failed == 9 and totals.rows_processed == 9
    assert conn.execute("SELECT count(*) FROM row_errors").fetchone() == (5,)


def test_rows_skipped_are_counted(conn: psycopg.Connection) -> None:
    result = _write(conn, "imp", next_import_number(conn), 0, _rows("A"), rows_skipped=4)
    assert (result.totals.rows_skipped, result.totals.rows_processed, result.totals.rows_imported) == (4, 5, 1)
    assert _write(conn, "imp", 1, 0, _rows("A"), rows_skipped=4).chunk.rows_skipped == 4  # replayed


# -- tombstones and delete-all ------------------------------------------------------------------------------

def test_a_late_chunk_of_an_older_import_does_not_bring_a_deleted_product_back(conn: psycopg.Connection) -> None:
    older = next_import_number(conn)
    _write(conn, "older", older, 0, _rows("A", "B"))
    repository.delete_product(conn, "a")
    assert set(catalog_of(conn)) == {"b"}
    with pytest.raises(repository.ProductNotFoundError):
        repository.get_product(conn, "A")

    _write(conn, "older", older, 1, _rows("A", price="5.00", start=3))  # a late chunk of the older import

    assert set(catalog_of(conn)) == {"b"}
    assert [p["sku"] for p in repository.list_products(conn, repository.ProductFilter(q="a"), limit=10)[0]] == []

    # a newer import recreates it; a field its file lacks starts from its default
    newer = next_import_number(conn)
    upsert_chunk(conn, import_id="newer", import_no=newer, chunk_no=0, present_fields=set(),
                 rows=[make_row(1, "A", "again", {}, None)], errors=(), rows_seen=1)
    again = repository.get_product(conn, "a")
    assert (again["name"], again["price"]) == ("again", None)
    # and an import older than the delete still cannot set that field
    _write(conn, "older", older, 2, _rows("A", price="7.00", start=4))
    assert repository.get_product(conn, "a")["price"] is None
    history = product_history(conn, "A")[0]
    assert [(h["import_id"], h["action"]) for h in history] == [("newer", "create"), (None, "delete"),
                                                               ("older", "create")]


def test_delete_all_records_one_watermark_and_older_rows_write_nothing(conn: psycopg.Connection) -> None:
    older = next_import_number(conn)
    _write(conn, "older", older, 0, _rows("A", "B"))
    assert repository.delete_all_products(conn, confirm=True) == 2
    _write(conn, "older", older, 1, _rows("C", "A", start=3))
    assert catalog_of(conn) == {}
    newer = next_import_number(conn)
    _write(conn, "newer", newer, 0, _rows("A"))
    assert set(catalog_of(conn)) == {"a"}
    assert conn.execute("SELECT count(*) FROM products").fetchone() == (1,)  # no tombstone per product


def test_a_products_history_shows_the_delete_all_where_it_falls(conn: psycopg.Connection) -> None:
    """A delete-all records no change per product (one watermark); found by a chaos test: the history of a
    product it deleted ended with an update, and GET of the product answered 404."""
    first = next_import_number(conn)
    _write(conn, "first", first, 0, _rows("A", "B"))
    repository.delete_all_products(conn, confirm=True)
    later = next_import_number(conn)
    _write(conn, "later", later, 0, _rows("A"))  # A comes back; B stays deleted

    a_items, _ = product_history(conn, "A")
    b_items, _ = product_history(conn, "B")
    never, _ = product_history(conn, "C")

    assert [(i["import_id"], i["action"]) for i in a_items] == [("later", "create"), (None, "delete"),
                                                                ("first", "create")]
    assert [(i["import_id"], i["action"]) for i in b_items] == [(None, "delete"), ("first", "create")]
    assert never == []
    pages, cursor = [], None
    for _ in range(4):  # one item per page, the delete-all included: a page never holds more than its limit
        items, cursor = product_history(conn, "A", cursor=cursor, limit=1)
        pages.append([(i["import_id"], i["action"]) for i in items])
        if cursor is None:
            break
    assert pages == [[("later", "create")], [(None, "delete")], [("first", "create")]]


def test_every_delete_all_stays_in_a_products_history(conn: psycopg.Connection) -> None:
    """The history showed only the newest delete-all (the watermark keeps one): create, delete-all, create,
    delete-all read as delete, create, update… with the first delete gone. A delete-all that found the
    product already gone shows nowhere."""
    first = next_import_number(conn)
    _write(conn, "first", first, 0, _rows("A"))
    repository.delete_all_products(conn, confirm=True)
    repository.delete_all_products(conn, confirm=True)  # A was gone already: not in its history
    second = next_import_number(conn)
    _write(conn, "second", second, 0, _rows("A"))
    repository.delete_all_products(conn, confirm=True)

    items, cursor = product_history(conn, "A")

    assert [(i["import_id"], i["action"]) for i in items] == [
        (None, "delete"), ("second", "create"), (None, "delete"), ("first", "create")]
    assert cursor is None
    assert product_history(conn, "B")[0] == []
