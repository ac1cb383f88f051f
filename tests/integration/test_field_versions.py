"""Issue 10 item 0: the catalog ends as the one-by-one replay in creation order, field by field, whatever
order the chunks of imports with different column sets are processed or redelivered in."""

from __future__ import annotations

import itertools
import json
import random
from collections.abc import Iterator
from decimal import Decimal

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from product_importer.db.chunks import next_import_number

from tests.integration.catalog_model import (
    apply_chunk,
    catalog_of,
    expected_of,
    make_row,
    random_file,
    replay,
    shuffled_deliveries,
)
from tests.pg import fresh_database

_examples = itertools.count()


@pytest.fixture(scope="module")
def shared_url(databases) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """One database for every example of a property (each example uses its own SKUs)."""
    with fresh_database(databases) as url:
        yield url


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1), imports=st.integers(2, 4))
def test_any_chunk_order_ends_as_the_replay_in_creation_order(shared_url: str, seed: int, imports: int) -> None:
    rng = random.Random(seed)
    n = next(_examples)
    prefix = f"e{n}-"
    skus = [f"{prefix}s{i}" for i in range(4)]
    with psycopg.connect(shared_url) as conn:
        files = [random_file(rng, f"ord-{n}-{i}", next_import_number(conn), skus) for i in range(imports)]
        for index, chunk_no in shuffled_deliveries(rng, files):
            apply_chunk(conn, files[index], chunk_no)
        assert catalog_of(conn, prefix) == expected_of(replay(files))


def test_an_older_full_catalog_processed_after_a_newer_price_feed_still_sets_its_other_fields(
    conn: psycopg.Connection,
) -> None:
    from tests.integration.catalog_model import ImportFile

    full = ImportFile("full", next_import_number(conn), ("description", "price", "quantity"), ("color",))
    feed = ImportFile("feed", next_import_number(conn), ("price",), ())
    full.rows = [make_row(1, "A", "catalog name", {"description": "long text", "price": "5.00", "quantity": 9},
                          {"color": "red"})]
    feed.rows = [make_row(1, "a", "feed name", {"price": "4.00"}, None)]
    full.chunks, feed.chunks = [full.rows], [feed.rows]

    apply_chunk(conn, feed, 0)  # the newer feed is processed first
    apply_chunk(conn, full, 0)

    product = catalog_of(conn)["a"]
    assert (product["name"], product["price"]) == ("feed name", Decimal("4"))
    assert (product["description"], product["quantity"], product["attributes"]) == ("long text", 9, {"color": "red"})
    counts = conn.execute("SELECT import_no, action FROM changes ORDER BY import_no").fetchall()
    assert counts == [(full.import_no, "u"), (feed.import_no, "c")]


def test_attribute_keys_have_their_own_versions(conn: psycopg.Connection) -> None:
    from tests.integration.catalog_model import ImportFile

    older = ImportFile("older", next_import_number(conn), (), ("color", "size"))
    newer = ImportFile("newer", next_import_number(conn), (), ("size",))
    older.rows = [make_row(1, "A", "a", {}, {"color": "red", "size": "S"})]
    newer.rows = [make_row(1, "A", "a", {}, {"size": "XL"})]
    older.chunks, newer.chunks = [older.rows], [newer.rows]

    apply_chunk(conn, newer, 0)
    apply_chunk(conn, older, 0)

    assert catalog_of(conn)["a"]["attributes"] == {"color": "red", "size": "XL"}
    stored = conn.execute("SELECT attr_versions, v_attributes, version FROM products").fetchone()
    assert stored is not None and json.dumps(stored[0], sort_keys=True)  # the older key's version is explicit


def test_a_newer_import_keeps_the_version_of_a_key_an_edit_removed(conn: psycopg.Connection) -> None:
    """The fast statement (a row newer than every field) drops only its own keys' explicit versions: a key
    removed by an edit keeps the edit's version, so an older import processed late cannot bring it back."""
    from product_importer.products.repository import patch_product

    from tests.integration.catalog_model import ImportFile

    first = ImportFile("first", next_import_number(conn), (), ("color", "size"))
    older = ImportFile("older", next_import_number(conn), (), ("color",))
    first.rows = [make_row(1, "A", "a", {}, {"color": "red", "size": "S"})]
    older.rows = [make_row(1, "A", "a", {}, {"color": "blue"})]
    first.chunks, older.chunks = [first.rows], [older.rows]
    apply_chunk(conn, first, 0)
    patch_product(conn, "A", {"attributes": {"color": None}})  # an edit after `older` was created
    newer = ImportFile("newer", next_import_number(conn), (), ("size",))
    newer.rows = [make_row(1, "A", "a", {}, {"size": "XL"})]
    newer.chunks = [newer.rows]
    apply_chunk(conn, newer, 0)
    apply_chunk(conn, older, 0)  # processed last: its color is older than the edit that removed it

    assert catalog_of(conn)["a"]["attributes"] == {"size": "XL"}
