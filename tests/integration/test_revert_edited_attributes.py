"""Reverting imports over attributes a manual edit wrote (CONTRACT §2 "Revert": the catalog as if the
imports had never run, whatever order they are reverted in).

A PUT stores its keys compactly (``v_attributes`` = ``attr_floor`` = the edit's version): the key's value
and the reset that removed every other key share one version. A revert must take the edit's value of a key
from the undo snapshot, not "absent" from the product's reset at that same version.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from product_importer.db.chunks import next_import_number
from product_importer.db.fields import OPTIONAL_FIELDS, STATE_COLUMNS
from product_importer.db.registry import register_import
from product_importer.ingest.rows import ROW_FIELDS
from product_importer.products import repository

from tests.integration.catalog_model import (
    ATTRIBUTE_KEYS,
    VALUES,
    ImportFile,
    apply_chunk,
    apply_edit,
    apply_file,
    assert_runs_agree,
    catalog_of,
    conflicts_of,
    expected_of,
    make_row,
    random_file,
    revert,
    run_of,
    shuffled_deliveries,
    without,
)
from tests.pg import fresh_database


def _file(conn: psycopg.Connection, import_id: str, rows: list[tuple], keys: tuple[str, ...]) -> ImportFile:
    file = ImportFile(import_id, next_import_number(conn), (), keys, rows, [rows])
    register_import(conn, import_id, import_no=file.import_no)
    return file


def _import(conn: psycopg.Connection, import_id: str, sku: str, name: str, attributes: dict[str, str]) -> ImportFile:
    file = _file(conn, import_id, [make_row(1, sku, name, {}, attributes or None)], tuple(attributes))
    apply_chunk(conn, file, 0)
    return file


def _product(conn: psycopg.Connection, sku: str) -> tuple[str, dict[str, str]] | None:
    row = conn.execute("SELECT name, attributes FROM products WHERE sku_key = %s AND NOT deleted",
                       (sku.lower(),)).fetchone()
    conn.rollback()
    return None if row is None else (row[0], row[1])


def _stored(conn: psycopg.Connection, sku: str) -> tuple[Any, ...]:
    row = conn.execute(f"SELECT {', '.join(STATE_COLUMNS)} FROM products WHERE sku_key = %s", (sku.lower(),)).fetchone()
    conn.rollback()
    assert row is not None
    return tuple(row)


def test_reverting_the_import_over_a_put_gives_back_the_put_as_stored(conn: psycopg.Connection) -> None:
    repository.put_product(conn, "AT7", {"sku": "AT7", "name": "orig", "attributes": {"a": "0", "k": "keep"}})
    put = _stored(conn, "AT7")
    _import(conn, "A", "AT7", "A", {"a": "aa"})

    revert(conn, "A")

    assert _product(conn, "AT7") == ("orig", {"a": "0", "k": "keep"})
    assert _stored(conn, "AT7") == put  # the same versions too (keys at one version stay compact)


@pytest.mark.parametrize("order", ["newer first", "older first"])
@pytest.mark.parametrize("later_keys", [{"a": "bb"}, {"x": "xx"}, {"a": "bb", "x": "xx"}])
def test_two_reverts_over_a_put_give_back_the_put_attributes(conn: psycopg.Connection, order: str,
                                                             later_keys: dict[str, str]) -> None:
    repository.put_product(conn, "AT7", {"sku": "AT7", "name": "orig", "attributes": {"a": "0", "k": "keep"}})
    _import(conn, "A", "AT7", "A", {"a": "aa"})
    _import(conn, "B", "AT7", "B", later_keys)

    for import_id in ("B", "A") if order == "newer first" else ("A", "B"):
        revert(conn, import_id)

    assert _product(conn, "AT7") == ("orig", {"a": "0", "k": "keep"})


def test_reverting_the_newer_import_first_keeps_the_older_imports_key(conn: psycopg.Connection) -> None:
    repository.put_product(conn, "AT7", {"sku": "AT7", "name": "orig", "attributes": {"a": "0", "k": "keep"}})
    _import(conn, "A", "AT7", "A", {"a": "aa"})
    _import(conn, "B", "AT7", "B", {"a": "bb"})

    revert(conn, "B")

    assert _product(conn, "AT7") == ("A", {"a": "aa", "k": "keep"})


def test_three_imports_over_a_put_reverted_in_any_order(conn: psycopg.Connection) -> None:
    for n, order in enumerate(itertools.permutations("ABC")):
        sku = f"P3-{n}"
        repository.put_product(conn, sku, {"sku": sku, "name": "orig", "attributes": {"a": "0", "b": "1", "k": "keep"}})
        _import(conn, f"{n}A", sku, "A", {"a": "aa"})
        _import(conn, f"{n}B", sku, "B", {"b": "bb", "a": "ab"})
        _import(conn, f"{n}C", sku, "C", {"a": "ac", "y": "yy"})

        for name in order:
            revert(conn, f"{n}{name}")

        assert _product(conn, sku) == ("orig", {"a": "0", "b": "1", "k": "keep"}), order


def test_two_reverts_over_a_patch_give_back_the_patched_key(conn: psycopg.Connection) -> None:
    _import(conn, "base", "PT", "base", {"a": "0"})
    repository.patch_product(conn, "PT", {"attributes": {"a": "1", "k": "keep"}})
    _import(conn, "A", "PT", "A", {"a": "aa"})
    _import(conn, "B", "PT", "B", {"a": "bb", "x": "xx"})

    revert(conn, "A")
    revert(conn, "B")

    assert _product(conn, "PT") == ("base", {"a": "1", "k": "keep"})


def test_two_reverts_over_a_delete_and_recreating_put(conn: psycopg.Connection) -> None:
    _import(conn, "base", "DR", "base", {"a": "0", "z": "gone"})
    repository.delete_product(conn, "DR")
    repository.put_product(conn, "DR", {"sku": "DR", "name": "again", "attributes": {"a": "1"}})
    _import(conn, "A", "DR", "A", {"a": "aa", "z": "za"})
    _import(conn, "B", "DR", "B", {"a": "bb"})

    revert(conn, "B")
    revert(conn, "A")

    assert _product(conn, "DR") == ("again", {"a": "1"})


# -- property: imports and manual edits (PUT, PATCH, DELETE with attributes), one or two reverts -----------

EDIT_KEYS = (*ATTRIBUTE_KEYS[:2], "k")  # "k": a key no import file has
_examples = itertools.count()


@dataclass
class Edit:
    """A manual edit that took effect, with the version order of its number."""

    number: int
    kind: str  # put, patch, delete
    sku: str
    body: dict[str, Any]


def _random_edit(rng: random.Random, skus: list[str], tag: int) -> tuple[str, str, dict[str, Any]]:
    kind = rng.choice(("put", "put", "patch", "delete"))
    sku = rng.choice(skus)
    fields = {f: rng.choice([v for v in VALUES[f] if v is not None]) for f in OPTIONAL_FIELDS if rng.random() < 0.3}
    if kind == "put":
        put = {k: rng.choice(("0", "1", "keep")) for k in EDIT_KEYS if rng.random() < 0.6}
        return kind, sku, {"sku": sku, "name": f"e{tag}", **fields, "attributes": put}
    if kind == "patch":
        patch = {k: rng.choice(("0", "1", None)) for k in EDIT_KEYS if rng.random() < 0.5}  # None: remove
        name = {"name": f"p{tag}"} if rng.random() < 0.3 else {}
        return kind, sku, {**name, **fields, "attributes": patch}
    return kind, sku, {}


def _edit(conn: psycopg.Connection, kind: str, sku: str, body: dict[str, Any]) -> bool:
    try:
        if kind == "put":
            repository.put_product(conn, sku, body)
        elif kind == "patch":
            repository.patch_product(conn, sku, body)
        else:
            repository.delete_product(conn, sku)
    except repository.ProductNotFoundError:
        conn.rollback()
        return False
    conn.commit()
    return True


def _replay(writes: list[ImportFile | Edit], skip: set[str]) -> dict[str, dict[str, Any]]:
    catalog: dict[str, dict[str, Any]] = {}
    for write in writes:  # (in creation order already)
        if isinstance(write, Edit):
            apply_edit(catalog, write)
        elif write.import_id not in skip:
            apply_file(catalog, write)
    return catalog


def _random_import(rng: random.Random, import_id: str, import_no: int, skus: list[str], tag: int) -> ImportFile:
    """As ``random_file``, with attribute columns more often (most of them among the edits' keys), so that
    imports overwrite some of an edit's keys and leave others."""
    file = random_file(rng, import_id, import_no, skus, max_rows=4, tag=tag)
    keys = tuple(k for k in (*EDIT_KEYS, ATTRIBUTE_KEYS[2]) if rng.random() < 0.5)
    if not keys:
        return file
    data = [dict(zip(ROW_FIELDS, row, strict=True)) for row in file.rows]
    file.attribute_keys = keys
    file.rows = [make_row(d["row_no"], d["sku"], d["name"], {f: d[f] for f in file.fields},
                          {k: rng.choice(("a", "b", "")) for k in keys}) for d in data]
    sizes = [len(c) for c in file.chunks]
    file.chunks = [file.rows[sum(sizes[:i]):sum(sizes[:i + 1])] for i in range(len(sizes))]
    return file


def _edited_scenario(conn: psycopg.Connection, seed: int, prefix: str,
                     steps: list[str]) -> tuple[random.Random, list[ImportFile], list[ImportFile | Edit]]:
    """``steps``: "i" creates one or two imports whose chunks are then delivered in a random order (some
    again), "e" makes up to three manual edits once those are done (so an edit's outcome is the replay's)."""
    rng = random.Random(seed)
    skus = [f"{prefix}s{i}" for i in range(3)]
    files: list[ImportFile] = []
    writes: list[ImportFile | Edit] = []
    for step in steps:
        if step == "i":
            batch: list[ImportFile] = []
            for _ in range(rng.randint(1, 2)):
                tag = len(files) + len(batch)
                file = _random_import(rng, f"{prefix}{tag}", next_import_number(conn), skus, tag)
                register_import(conn, file.import_id, import_no=file.import_no)
                batch.append(file)
            for index, chunk_no in shuffled_deliveries(rng, batch):
                apply_chunk(conn, batch[index], chunk_no)
            files += batch
            writes += batch
        else:
            for _ in range(rng.randint(1, 3)):
                kind, sku, body = _random_edit(rng, skus, len(writes))
                if _edit(conn, kind, sku, body):
                    writes.append(Edit(len(writes), kind, sku, body))
    return rng, files, writes


@pytest.fixture(scope="module")
def shared_url(databases) -> Iterator[str]:  # type: ignore[no-untyped-def]
    with fresh_database(databases) as url:
        yield url


# edits first (products that start with an edit's attributes), then imports and edits in any order
_STEPS = st.lists(st.sampled_from("ie"), min_size=1, max_size=4).filter(lambda s: "i" in s).map(lambda s: ["e", *s])


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1), steps=_STEPS)
def test_reverts_over_manual_edits_equal_the_replay_without_them_in_either_order(shared_url: str, seed: int,
                                                                                  steps: list[str]) -> None:
    """One or two imports reverted (both orders, each on its own copy of the scenario): every product that
    met no conflict equals the replay of the imports and edits without the reverted imports, and the two
    orders agree on the products clean in both."""
    n = next(_examples)
    runs = []
    with psycopg.connect(shared_url) as conn:
        for order in (0, 1):
            prefix = f"w{n}-{order}-"
            rng, files, writes = _edited_scenario(conn, seed, prefix, steps)
            picked = random.Random(seed).sample(files, min(2, len(files)))
            for file in picked if order == 0 else picked[::-1]:
                revert(conn, file.import_id, rng)
            conflicts = set().union(*(conflicts_of(conn, f.import_id) for f in picked))
            expected = expected_of(_replay(writes, {f.import_id for f in picked}))
            catalog = catalog_of(conn, prefix)
            assert without(catalog, conflicts) == without(expected, conflicts)
            runs.append(run_of(catalog, expected, conflicts))
    assert_runs_agree(*runs)

