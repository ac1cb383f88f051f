"""Issue 14: revert an import exactly (CONTRACT §2 "Revert"), at the database layer."""

from __future__ import annotations

import itertools
import json
import random
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from product_importer.db.chunks import next_import_number
from product_importer.db.registry import register_import
from product_importer.db.revert import (
    AlreadyRevertedError,
    NotRevertableError,
    UndoExpiredError,
    plan_revert,
    purge_undo,
    revert_chunk,
    revert_conflicts,
)
from product_importer.ingest.rows import ROW_FIELDS
from product_importer.products import repository
from product_importer.products.search import refresh_for_import

from tests.integration.catalog_model import (
    ImportFile,
    apply_chunk,
    assert_runs_agree,
    catalog_of,
    conflicts_of,
    expected_of,
    make_row,
    random_file,
    replay,
    revert,
    run_of,
    shuffled_deliveries,
    without,
)
from tests.pg import fresh_database

FULL = ("description", "price", "quantity")
_examples = itertools.count()


def file_of(conn: psycopg.Connection, import_id: str, rows: list[tuple], fields: tuple[str, ...] = FULL,
            keys: tuple[str, ...] = ()) -> ImportFile:
    file = ImportFile(import_id, next_import_number(conn), fields, keys, rows, [rows])
    register_import(conn, import_id, import_no=file.import_no)
    return file


def r(row_no: int, sku: str, name: str, price: str = "1.00", quantity: int = 1, description: str | None = None,
      **attributes: str) -> tuple:
    return make_row(row_no, sku, name, {"description": description, "price": price, "quantity": quantity},
                    attributes or None)


def run(conn: psycopg.Connection, *files: ImportFile) -> None:
    for file in files:
        for chunk_no in range(len(file.chunks)):
            apply_chunk(conn, file, chunk_no)


def test_reverting_an_update_gives_the_previous_values_back_and_a_create_is_deleted(conn: psycopg.Connection) -> None:
    first = file_of(conn, "first", [r(1, "A", "alpha", "1.00"), r(2, "B", "beta", "2.00")])
    second = file_of(conn, "second", [r(1, "a", "alpha 2", "1.50"), r(2, "C", "gamma", "3.00"),
                                      r(3, "B", "beta", "2.00")])
    run(conn, first, second)

    totals = revert(conn, "second")

    assert (totals.restored, totals.deleted, totals.conflicts, totals.done) == (1, 1, 0, True)
    assert catalog_of(conn) == expected_of(replay([first]))
    stored = conn.execute("SELECT sku_key, version, deleted FROM products ORDER BY sku_key").fetchall()
    assert [(k, d) for k, _v, d in stored] == [("a", False), ("b", False), ("c", True)]
    # b was left unchanged by the reverted import: it gets its previous version back
    assert stored[1][1] == (first.import_no << 32) + 2
    assert repository.list_products(conn, repository.ProductFilter(), limit=10)[0][-1]["sku"] == "B"
    assert conn.execute("SELECT status, revert_state FROM import_registry WHERE import_id = 'second'").fetchone() == (
        "reverted", "done")


def test_deleted_counts_only_the_products_the_reverted_import_created(conn: psycopg.Connection) -> None:
    """CONTRACT §2: ``deleted`` are the products the import had created. Found by a tester: with its creator
    reverted first, the revert of an import that only updated a product counted it as deleted."""
    first = file_of(conn, "first", [r(1, "RV3", "created")])
    second = file_of(conn, "second", [r(1, "RV3", "updated")])
    run(conn, first, second)
    assert revert(conn, "first").conflicts == 1  # second wrote it since

    totals = revert(conn, "second")

    assert (totals.restored, totals.deleted, totals.conflicts) == (1, 0, 0)
    assert catalog_of(conn) == {}  # as if neither had run


def test_search_finds_what_a_revert_restored_and_not_what_it_deleted(conn: psycopg.Connection) -> None:
    first = file_of(conn, "first", [r(1, "A", "amber lamp")])
    second = file_of(conn, "second", [r(1, "A", "crimson lamp"), r(2, "N", "violet chair")])
    run(conn, first)
    refresh_for_import(conn, "first")
    run(conn, second)
    refresh_for_import(conn, "second")

    revert(conn, "second")

    def found(words: str) -> list[str]:
        return [p["sku"] for p in repository.list_products(conn, repository.ProductFilter(q=words), limit=10)[0]]

    assert found("violet") == []  # a product the revert deleted leaves word search with the revert's chunk
    refresh_for_import(conn, "second")  # what the finisher runs when the revert is done

    assert (found("amber"), found("crimson"), found("violet")) == (["A"], [], [])
    refresh_for_import(conn, "first")  # a late refresh of the restored writer changes nothing
    assert (found("amber"), found("lamp")) == (["A"], ["A"])


def test_a_product_changed_since_by_a_later_import_or_an_edit_is_a_conflict(conn: psycopg.Connection) -> None:
    first = file_of(conn, "first", [r(1, "A", "a1"), r(2, "B", "b1"), r(3, "C", "c1")])
    later = file_of(conn, "later", [r(1, "A", "a2", "5.00")])
    run(conn, first, later)
    repository.patch_product(conn, "B", {"price": "9.00"})

    totals = revert(conn, "first")

    assert (totals.deleted, totals.conflicts) == (1, 2)
    assert set(catalog_of(conn)) == {"a", "b"}
    items, cursor = revert_conflicts(conn, "first")
    assert cursor is None
    assert [(i["sku"], i["changed_by"]) for i in items] == [("A", {"import_id": "later"}), ("B", {"edit": True})]
    assert all(i["at"] for i in items)


def test_a_later_import_that_left_the_product_unchanged_is_no_conflict(conn: psycopg.Connection) -> None:
    """CONTRACT §2: a conflict is a product *changed* since. Found by a tester: a later feed re-sending the
    same name (recorded ``unchanged``) made every product it touched a conflict, so the price the reverted
    import set stayed."""
    base = file_of(conn, "base", [r(1, "A", "a", "1.00"), r(2, "B", "b", "1.00")])
    update = file_of(conn, "update", [r(1, "A", "a", "9.99"), r(2, "B", "b", "9.99")])
    same = file_of(conn, "same", [r(1, "A", "a")], fields=())  # sku,name: the name A already has
    run(conn, base, update, same)
    assert conn.execute("SELECT action FROM changes c JOIN import_registry r USING (import_no)"
                        " WHERE r.import_id = 'same'").fetchall() == [("n",)]

    totals = revert(conn, "update")

    assert (totals.restored, totals.conflicts) == (2, 0)
    assert catalog_of(conn) == expected_of(replay([base, same]))
    assert revert_conflicts(conn, "update") == ([], None)


def test_a_product_the_import_left_unchanged_is_no_conflict_whatever_changed_it_since(
        conn: psycopg.Connection) -> None:
    """CONTRACT §2: products changed since are kept and reported, but one the reverted import did not change
    is already as if it never ran. Found by a tester: an edit after an unchanged row made a conflict."""
    base = file_of(conn, "base", [r(1, "U", "u", "1.00"), r(2, "V", "v", "1.00")])
    same = file_of(conn, "same", [r(1, "U", "u", "1.00"), r(2, "V", "v", "2.00")])
    run(conn, base, same)
    repository.patch_product(conn, "U", {"quantity": 7})
    repository.patch_product(conn, "V", {"quantity": 7})

    totals = revert(conn, "same")

    # V: changed by the import, then edited: a conflict, kept; U: unchanged by it, no conflict, the edit stays
    assert [i["sku"] for i in revert_conflicts(conn, "same")[0]] == ["V"]
    assert (totals.restored, totals.deleted, totals.conflicts) == (0, 0, 1)
    catalog = catalog_of(conn)
    assert (catalog["u"]["quantity"], catalog["u"]["price"]) == (7, Decimal("1.00"))
    assert (catalog["v"]["quantity"], catalog["v"]["price"]) == (7, Decimal("2.00"))


def test_a_conflict_names_the_import_that_changed_the_product_not_a_later_unchanged_one(
        conn: psycopg.Connection) -> None:
    base = file_of(conn, "base", [r(1, "A", "a", "1.00")])
    update = file_of(conn, "update", [r(1, "A", "a", "9.99")])
    rename = file_of(conn, "rename", [r(1, "A", "a2")], fields=())
    same = file_of(conn, "same", [r(1, "A", "a2")], fields=())
    run(conn, base, update, rename, same)

    totals = revert(conn, "update")

    assert totals.conflicts == 1
    assert [(i["sku"], i["changed_by"]) for i in revert_conflicts(conn, "update")[0]] == [
        ("A", {"import_id": "rename"})]
    assert catalog_of(conn) == expected_of(replay([base, update, rename, same]))  # left as it is


def test_rows_that_lost_to_the_reverted_import_come_back(conn: psycopg.Connection) -> None:
    # Given an older full catalog whose rows were processed after a newer import of the same SKUs
    older = file_of(conn, "older", [r(1, "A", "old name", "1.00", 5, "desc", color="red")],
                    keys=("color",))
    newer = file_of(conn, "newer", [r(1, "A", "new name", "2.00", 7, "new desc", color="blue")], keys=("color",))
    run(conn, newer, older)
    assert catalog_of(conn)["a"]["name"] == "new name"

    # When the newer import is reverted
    revert(conn, "newer")

    # Then the older import's values are there, as if the newer one had never run
    assert catalog_of(conn) == expected_of(replay([older]))


def test_two_reverts_in_either_order_give_the_catalog_before_both(databases) -> None:  # type: ignore[no-untyped-def]
    states = []
    for order in (("one", "two"), ("two", "one")):
        with fresh_database(databases) as url, psycopg.connect(url) as conn:
            base = file_of(conn, "base", [r(1, "A", "base", "1.00", 1, "d0"), r(2, "B", "base b")])
            one = file_of(conn, "one", [r(1, "A", "one", "2.00", 2, "d1"), r(2, "C", "one c")])
            two = file_of(conn, "two", [make_row(1, "a", "two", {"price": "3.00"}, None)], fields=("price",))
            run(conn, base, one, two)
            for import_id in order:
                revert(conn, import_id)
            states.append(catalog_of(conn))
            assert catalog_of(conn) == expected_of(replay([base]))
    assert states[0] == states[1]


def test_a_product_an_earlier_revert_left_alone_keeps_that_imports_values_when_a_later_import_is_reverted(
        conn: psycopg.Connection) -> None:
    # Given B's revert left S alone (an edit changed its price since B) and put T back
    a = file_of(conn, "a", [r(1, "S", "Alpha", "10.00"), r(2, "T", "Tee", "1.00")])
    b = file_of(conn, "b", [r(1, "S", "Alpha v2", "11.00"), r(2, "T", "Tee v2", "2.00")])
    run(conn, a, b)
    repository.patch_product(conn, "S", {"price": "99.99"})
    assert revert(conn, "b").conflicts == 1
    # When C changes both prices and is reverted
    c = file_of(conn, "c", [r(1, "S", "Alpha v2", "5.00"), r(2, "T", "Tee", "5.00")])
    run(conn, c)
    totals = revert(conn, "c")

    # Then S is as B's revert left it (B's name stands for it: the user was told S was left alone, and its
    # history still shows B's change), and T as before B and C
    assert (totals.restored, totals.conflicts) == (2, 0)
    catalog = catalog_of(conn)
    assert (catalog["s"]["name"], catalog["s"]["price"]) == ("Alpha v2", Decimal("99.99"))
    assert (catalog["t"]["name"], catalog["t"]["price"]) == ("Tee", Decimal("1.00"))


def test_a_conflict_whose_cause_is_reverted_later_no_longer_keeps_the_first_imports_values(
        conn: psycopg.Connection) -> None:
    # B's revert left S alone because C changed it; reverting C undoes what made it a conflict: before both
    a = file_of(conn, "a", [r(1, "S", "Alpha", "10.00")])
    b = file_of(conn, "b", [r(1, "S", "Beta", "11.00")])
    c = file_of(conn, "c", [r(1, "S", "Gamma", "12.00")])
    run(conn, a, b, c)
    assert revert(conn, "b").conflicts == 1

    revert(conn, "c")

    assert (catalog_of(conn)["s"]["name"], catalog_of(conn)["s"]["price"]) == ("Alpha", Decimal("10.00"))


def test_a_revert_chunk_delivered_again_changes_nothing(conn: psycopg.Connection) -> None:
    first = file_of(conn, "first", [r(i, f"S{i}", "n") for i in range(1, 6)])
    run(conn, first)
    total = plan_revert(conn, "first", chunk_products=2)
    assert total == 3
    results = [revert_chunk(conn, import_id="first", chunk_no=c) for c in (0, 1, 0, 2, 1)]
    assert [x.replayed for x in results] == [False, False, True, False, True]
    assert results[-1].totals.deleted == 5 and results[-1].totals.done
    assert catalog_of(conn) == {}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(skus=st.sets(st.text(alphabet="aAbZ09-_éß€", min_size=1, max_size=4), min_size=1, max_size=30),
       size=st.integers(1, 7), max_chunks=st.integers(1, 9))
def test_the_plan_cuts_the_touched_skus_into_consecutive_ranges_of_at_most_max_chunks(
        conn: psycopg.Connection, skus: set[str], size: int, max_chunks: int) -> None:
    """The plan's ranges are the import's SKU keys in order, ``size`` at a time (more per range when
    there would be more than ``max_chunks``: each range is a message the API sends while the user waits),
    and reverting every range reverts every product."""
    import_id = f"plan{next(_examples)}"
    file = file_of(conn, import_id, [r(i, f"{import_id}-{sku}", "n") for i, sku in enumerate(sorted(skus), 1)])
    run(conn, file)
    keys = sorted(k for (k,) in conn.execute("SELECT sku_key FROM changes WHERE import_no = %s", (file.import_no,)))
    per_range = max(size, -(-len(keys) // max_chunks))

    total = plan_revert(conn, import_id, chunk_products=size, max_chunks=max_chunks)

    expected = [(n, part[0], part[-1]) for n, part in
                enumerate(keys[i:i + per_range] for i in range(0, len(keys), per_range))]
    assert conn.execute("SELECT chunk_no, first_key, last_key FROM revert_plan WHERE import_no = %s"
                        " ORDER BY chunk_no", (file.import_no,)).fetchall() == expected
    assert total == len(expected) <= max_chunks
    results = [revert_chunk(conn, import_id=import_id, chunk_no=n) for n in range(total)]
    assert results[-1].totals.done and results[-1].totals.deleted == len(keys)
    assert conn.execute("SELECT count(*) FROM products WHERE sku_key LIKE %s AND NOT deleted",
                        (f"{import_id}-%",)).fetchone() == (0,)


def test_a_revert_is_refused_twice_for_a_preview_and_after_the_undo_expired(conn: psycopg.Connection) -> None:
    run(conn, file_of(conn, "first", [r(1, "A", "a")]))
    revert(conn, "first")
    with pytest.raises(AlreadyRevertedError):
        plan_revert(conn, "first")
    register_import(conn, "preview", import_no=next_import_number(conn), mode="preview")
    with pytest.raises(NotRevertableError):
        plan_revert(conn, "preview")
    with pytest.raises(NotRevertableError):
        plan_revert(conn, "unknown")
    old = file_of(conn, "old", [r(1, "O", "o")])
    run(conn, old)
    conn.execute("UPDATE import_registry SET created_at = now() - interval '31 days' WHERE import_id = 'old'")
    conn.commit()
    with pytest.raises(UndoExpiredError):
        plan_revert(conn, "old")


def test_purge_drops_old_undo_partitions_and_expires_their_imports(conn: psycopg.Connection) -> None:
    first = file_of(conn, "first", [r(1, "A", "a")])
    second = file_of(conn, "second", [r(1, "A", "a2")])
    run(conn, first, second)
    assert conn.execute("SELECT count(*) FROM undo").fetchone() == (1,)

    dropped = purge_undo(conn, datetime.now(UTC) + timedelta(days=40), retention_days=30)

    assert dropped == 2  # undo and undo_lost of today
    assert conn.execute("SELECT count(*) FROM undo").fetchone() == (0,)
    with pytest.raises(UndoExpiredError):
        plan_revert(conn, "second")
    assert conn.execute("SELECT count(*) FROM changes").fetchone() == (2,)  # change records stay


def test_chunks_of_an_import_being_reverted_write_nothing(conn: psycopg.Connection) -> None:
    file = file_of(conn, "late", [r(1, "A", "a")])
    file.chunks = [[r(1, "A", "a")], [r(2, "B", "b")]]
    apply_chunk(conn, file, 0)
    revert(conn, "late")
    result = apply_chunk(conn, file, 1)
    assert not result.written
    assert catalog_of(conn) == {}


def test_a_revert_racing_a_later_import_keeps_the_later_values_and_counts_exactly(database_url: str) -> None:
    skus = [f"R-{i:04d}" for i in range(600)]
    with psycopg.connect(database_url) as conn:
        first = file_of(conn, "first", [r(i + 1, s, "first", "1.00") for i, s in enumerate(skus)])
        run(conn, first)
        later = file_of(conn, "later", [r(i + 1, s, "later", "2.00") for i, s in enumerate(reversed(skus))])
        later.chunks = [later.rows[i:i + 100] for i in range(0, 600, 100)]
        total = plan_revert(conn, "first", chunk_products=100)
    barrier = threading.Barrier(2)
    failures: list[BaseException] = []

    def reverting() -> None:
        with psycopg.connect(database_url) as conn:
            barrier.wait()
            try:
                for chunk_no in range(total):
                    revert_chunk(conn, import_id="first", chunk_no=chunk_no)
            except BaseException as exc:  # pragma: no cover - reported below
                failures.append(exc)

    def importing() -> None:
        with psycopg.connect(database_url) as conn:
            barrier.wait()
            try:
                run(conn, later)
            except BaseException as exc:  # pragma: no cover
                failures.append(exc)

    threads = [threading.Thread(target=reverting), threading.Thread(target=importing)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    with psycopg.connect(database_url) as conn:
        catalog = catalog_of(conn)
        assert len(catalog) == 600 and {p["name"] for p in catalog.values()} == {"later"}
        assert all(p["price"] == Decimal("2") for p in catalog.values())
        conflicts = conflicts_of(conn, "first")
        deleted = conn.execute("SELECT revert_deleted, revert_conflicts FROM import_registry"
                               " WHERE import_id = 'first'").fetchone()
        assert deleted is not None and deleted[0] + deleted[1] == 600 and deleted[1] == len(conflicts)
        counts = conn.execute("SELECT products_created, products_updated FROM import_totals"
                              " WHERE import_id = 'later'").fetchone()
        assert counts is not None and counts[0] + counts[1] == 600 and counts[0] == deleted[0]


# -- properties ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def shared_url(databases) -> Iterator[str]:  # type: ignore[no-untyped-def]
    with fresh_database(databases) as url:
        yield url


def _scenario(conn: psycopg.Connection, seed: int, prefix: str, imports: int) -> tuple[random.Random, list[ImportFile]]:
    rng = random.Random(seed)
    skus = [f"{prefix}s{i}" for i in range(4)]
    files = []
    for i in range(imports):
        file = random_file(rng, f"{prefix}{i}", next_import_number(conn), skus, tag=i)
        register_import(conn, file.import_id, import_no=file.import_no)
        files.append(file)
    for index, chunk_no in shuffled_deliveries(rng, files):
        apply_chunk(conn, files[index], chunk_no)
    return rng, files


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1), imports=st.integers(2, 4))
def test_reverting_any_import_equals_the_replay_without_it(shared_url: str, seed: int, imports: int) -> None:
    prefix = f"r{next(_examples)}-"
    with psycopg.connect(shared_url) as conn:
        rng, files = _scenario(conn, seed, prefix, imports)
        victim = rng.choice(files)
        revert(conn, victim.import_id, rng)
        conflicts = conflicts_of(conn, victim.import_id)
        expected = expected_of(replay(files, skip={victim.import_id}))
        assert without(catalog_of(conn, prefix), conflicts) == without(expected, conflicts)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1), imports=st.integers(2, 4))
def test_two_reverts_in_either_order_equal_the_replay_without_both(shared_url: str, seed: int, imports: int) -> None:
    """Every product that met no conflict equals the replay without both, whichever was reverted first
    (a product can only differ between the orders where an import between the two, not reverted, made a
    conflict for the older one)."""
    n = next(_examples)
    runs = []
    with psycopg.connect(shared_url) as conn:
        for order in (0, 1):
            prefix = f"t{n}-{order}-"
            rng, files = _scenario(conn, seed, prefix, imports)
            pair = random.Random(seed).sample(files, 2)
            for file in (pair if order == 0 else pair[::-1]):
                revert(conn, file.import_id, rng)
            conflicts = conflicts_of(conn, pair[0].import_id) | conflicts_of(conn, pair[1].import_id)
            expected = expected_of(replay(files, skip={f.import_id for f in pair}))
            catalog = catalog_of(conn, prefix)
            assert without(catalog, conflicts) == without(expected, conflicts)
            runs.append(run_of(catalog, expected, conflicts))
    assert_runs_agree(*runs)



def test_reverting_an_import_that_recreated_a_deleted_product_gives_back_the_delete(conn: psycopg.Connection) -> None:
    """The product comes back deleted as of the delete, not as "never existed": a late chunk of an import
    created before the delete still loses to it (the revert restores the tombstone's snapshot)."""
    every = {"description": "d", "price": "1.00", "currency": "EUR", "quantity": 1, "active": True, "brand": "b",
             "category": "c", "barcode": "123"}
    fields, keys = tuple(every), ("color",)  # a file with every field: the re-creation owns them all
    first = file_of(conn, "first", [make_row(1, "A", "amber", every, {"color": "red"})], fields, keys)
    late = file_of(conn, "late", [r(1, "A", "late name", "7.00")])  # created before the delete, processed last
    run(conn, first)
    repository.delete_product(conn, "A")
    again = file_of(conn, "again", [make_row(1, "A", "again", every, {"color": "blue"})], fields, keys)
    run(conn, again)

    revert(conn, "again")
    run(conn, late)

    assert catalog_of(conn) == {}


def test_a_revert_tombstone_keeps_no_brand_or_category_for_what_recreates_the_product(conn: psycopg.Connection) -> None:
    """A revert's tombstone leaves brand and category in the row (its update stays HOT); whatever reads the
    product's old state takes them as absent: a newer file without those columns recreates it without them."""
    first = file_of(conn, "branded", [make_row(1, "A", "alpha", {"brand": "Acme", "category": "Tools"}, None)],
                    fields=("brand", "category"))
    run(conn, first)
    assert revert(conn, "branded").deleted == 1
    stored = conn.execute("SELECT deleted, brand FROM products WHERE sku_key = 'a'").fetchone()
    assert stored == (True, "Acme")  # (kept in the tombstone: nothing changed an indexed column)

    bare = file_of(conn, "bare", [make_row(1, "A", "alpha again", {"price": "2.00"}, None)], fields=("price",))
    run(conn, bare)

    assert catalog_of(conn)["a"]["brand"] is None and catalog_of(conn)["a"]["category"] is None
    assert catalog_of(conn) == expected_of(replay([bare]))
    undo = conn.execute("SELECT brand FROM undo WHERE sku_key = 'a' AND import_no = %s", (bare.import_no,)).fetchone()
    assert undo in (None, (None,))  # the state before the recreating import: absent


def test_the_revert_plan_walks_the_primary_key_even_without_statistics(conn: psycopg.Connection) -> None:
    """Right after a bulk import autovacuum may not have analysed ``changes``: the planner then sorted the
    import's remaining records at every step of the plan (2.6 s for 500k records, quadratic; 0.06 s
    walking the key), measured in the revert benchmark. The plan must not sort, statistics or not."""
    from product_importer.db.revert import cut_ranges

    conn.execute("ALTER TABLE changes SET (autovacuum_enabled = false)")
    conn.execute("INSERT INTO changes (import_no, sku_key, action)"
                 " SELECT 1, 'sku-' || lpad(g::text, 6, '0'), 'c' FROM generate_series(1, 20000) g")
    conn.commit()

    with conn.transaction():
        plan = "\n".join(cut_ranges(conn, 1, 5000, explain=True))
        assert "Sort" not in plan, plan
        assert conn.execute("SHOW enable_sort").fetchone() == ("on",)  # for the rest of the transaction
        cut_ranges(conn, 1, 5000)
    assert conn.execute("SELECT first_key, last_key FROM revert_plan WHERE import_no = 1 ORDER BY chunk_no").fetchall() == [
        (f"sku-{n * 5000 + 1:06d}", f"sku-{n * 5000 + 5000:06d}") for n in range(4)]


def test_a_revert_chunk_reads_the_products_of_its_range_not_the_catalog(conn: psycopg.Connection) -> None:
    """Every statement of a revert chunk is driven by the chunk's range. The creator recomputation (replace
    scope ``partner``) was joined to ``products`` by the planner, which read the whole catalog at every chunk
    (there is no index on ``created_by_no``): 33-71 ms a chunk at 100k products, linear in the catalog,
    measured in the revert benchmark."""
    from product_importer.db import revert as revert_module

    catalog = file_of(conn, "catalog", [r(n, f"sku-{n:06d}", f"product {n}") for n in range(1, 20_001)])
    update = file_of(conn, "update", [r(n, f"sku-{n:06d}", f"product {n}", "9.99") for n in range(101, 151)])
    run(conn, catalog, update)
    conn.execute("ANALYZE products")
    conn.commit()
    plans: list[dict] = []
    execute = conn.execute

    def explaining(query, params=None, **kwargs):  # type: ignore[no-untyped-def]
        if query is revert_module._CREATORS:
            plan = execute("EXPLAIN (ANALYZE, FORMAT JSON) " + query, params).fetchone()
            assert plan is not None
            plans.append(plan[0][0]["Plan"])
        return execute(query, params, **kwargs)

    conn.execute = explaining  # type: ignore[method-assign]
    try:
        totals = revert(conn, "update")
    finally:
        del conn.execute
    assert (totals.restored, totals.conflicts, totals.done) == (50, 0, True)

    def product_reads(node: dict) -> list[tuple[str, float]]:
        own = [(node["Node Type"], node["Actual Rows"] * node["Actual Loops"])] if node.get(
            "Relation Name") == "products" else []
        return own + [read for child in node.get("Plans", []) for read in product_reads(child)]

    assert plans, "the revert never recomputed creators"
    for plan in plans:
        reads = product_reads(plan)
        assert all(kind != "Seq Scan" for kind, _ in reads), reads
        assert sum(rows for _, rows in reads) <= 2 * 50, reads


def _files(conn: psycopg.Connection, seed: int, prefix: str, imports: int) -> tuple[random.Random, list[ImportFile]]:
    """Random files where a later file's row often repeats an earlier file's row of the same SKU in the columns
    both have (a feed re-sending what a catalog said): a later write that changes nothing in creation order."""
    rng = random.Random(seed)
    skus = [f"{prefix}s{i}" for i in range(4)]
    files: list[ImportFile] = []
    name_at, attributes_at = ROW_FIELDS.index("name"), ROW_FIELDS.index("attributes")
    for i in range(imports):
        file = random_file(rng, f"{prefix}{i}", next_import_number(conn), skus, tag=i)
        earlier = {row[1]: (f, row) for f in files for row in f.rows}
        echoed = {}
        for row in file.rows:
            if row[1] in earlier and rng.random() < 0.6:
                source, old = earlier[row[1]]
                new = list(row)
                new[name_at] = old[name_at]
                for name in set(file.fields) & set(source.fields):
                    new[ROW_FIELDS.index(name)] = old[ROW_FIELDS.index(name)]
                if file.attribute_keys and source.attribute_keys:
                    mine, theirs = json.loads(row[attributes_at]), json.loads(old[attributes_at])
                    new[attributes_at] = json.dumps({k: theirs.get(k, v) for k, v in mine.items()})
                echoed[id(row)] = tuple(new)
        file.rows = [echoed.get(id(row), row) for row in file.rows]
        file.chunks = [[echoed.get(id(row), row) for row in chunk] for chunk in file.chunks]
        register_import(conn, file.import_id, import_no=file.import_no)
        files.append(file)
    return rng, files


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1), imports=st.just(2))
def test_a_revert_does_not_depend_on_the_order_the_chunks_ran_in(shared_url: str, seed: int, imports: int) -> None:
    """CONTRACT §2: the revert is exact "also where the import's rows were processed out of order with older
    imports' rows", so the same imports processed in creation order or shuffled (redeliveries included) revert
    to the same catalog, with the same conflicts (found by a tester: a newer file processed first made a
    conflict of a product whose values it left as the older import had them). Two imports: with three
    interleaved out of order, a rare case still decides the conflict differently (docs/changes-and-undo.md,
    "Conflicts when chunks ran out of order"; 4 of 300 such scenarios, measured)."""
    n = next(_examples)
    runs = []
    with psycopg.connect(shared_url) as conn:
        for shuffled in (False, True):
            prefix = f"o{n}-{int(shuffled)}-"
            rng, files = _files(conn, seed, prefix, imports)
            order = shuffled_deliveries(rng, files) if shuffled else [
                (i, c) for i, f in enumerate(files) for c in range(len(f.chunks))]
            for index, chunk_no in order:
                apply_chunk(conn, files[index], chunk_no)
            victim = files[random.Random(seed).randrange(len(files))]
            revert(conn, victim.import_id, rng)
            conflicts = conflicts_of(conn, victim.import_id)
            catalog, _ = run_of(catalog_of(conn, prefix), {}, set())
            runs.append((catalog, {k.split("-", 2)[-1] for k in conflicts}))
    assert runs[0][1] == runs[1][1], "the conflicts depend on the processing order"
    assert runs[0][0] == runs[1][0], "the catalog after the revert depends on the processing order"

def test_a_newer_file_processed_first_that_left_an_older_imports_values_is_no_conflict_of_its_revert(
        conn: psycopg.Connection) -> None:
    """Found by a tester (the same two files in either order, then the older reverted): O2's row in the newer
    file B equals A's in B's columns, so in creation order B left O2 as A had it (no conflict, A's quantity
    and brand go); O1's row differs (a conflict, kept whole). Processed B first, O2 was a conflict too."""
    outs = []
    for order in ("AB", "BA"):
        p = order + "-"
        a = file_of(conn, p + "A", [r(1, p + "O1", "a1", "11.00", 11, "d", color="red"),
                                    r(2, p + "O2", "a2", "12.00", 12, "d", color="red")], keys=("color",))
        b = file_of(conn, p + "B", [r(1, p + "O1", "b1", "21.00", color="blue"),
                                    r(2, p + "O2", "a2", "12.00", color="red")], fields=("price",), keys=("color",))
        run(conn, *((a, b) if order == "AB" else (b, a)))

        revert(conn, p + "A")

        catalog, _ = run_of(catalog_of(conn, p.lower()), {}, set())
        outs.append((catalog, {k.split("-", 1)[1] for k in conflicts_of(conn, p + "A")}))
    assert outs[0][1] == outs[1][1] == {"o1"}
    assert outs[0][0] == outs[1][0]
    assert (outs[1][0]["o2"]["quantity"], outs[1][0]["o2"]["description"]) == (0, None)  # as B alone left it
