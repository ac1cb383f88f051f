"""Mixed histories at the database layer (CONTRACT §1–§2): imports whose chunks land late, out of order and
again, interleaved with manual edits (PUT, PATCH, DELETE), delete-all, reverts (their chunks shuffled and
redelivered) and re-imports of a file, in any order. After any such history:

- every product that no revert left alone equals the one-by-one replay, in creation order, of the imports
  and edits without the reverted imports;
- a revert only reports a conflict for a product that a newer write, not itself reverted before, had
  touched when the revert ran (a spurious conflict leaves the reverted import's values in the catalog).

Also: a preview after any history plans what its apply does; replaces of partners (held, confirmed later,
run before older imports' late chunks) mixed with reverts end as the replay; two reverts agree in either
order; chunks, a revert and edits on three connections at once; every import's counts match its records.

Hypothesis draws the sequence of steps (so a failure shrinks to the fewest steps), a seed the rest. The
examples per test are few (CI time); runs of a few hundred examples each found the faults fixed here.
"""

from __future__ import annotations

import itertools
import random
import threading
import time
from collections.abc import Callable, Iterator
from copy import deepcopy
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from product_importer.db.changes import changes_summary, list_changes
from product_importer.db.chunks import next_import_number, read_totals
from product_importer.db.fields import OPTIONAL_FIELDS
from product_importer.db.registry import finish_import, register_import
from product_importer.db.replace import deactivate_missing
from product_importer.db.revert import plan_revert, revert_chunk
from product_importer.ingest.rows import ROW_FIELDS
from product_importer.products import repository

from tests.integration.catalog_model import (
    VALUES,
    ImportFile,
    apply_chunk,
    apply_edit,
    apply_file,
    catalog_of,
    conflicts_of,
    expected_of,
    make_row,
    random_file,
    revert,
    shuffled_deliveries,
)
from tests.pg import fresh_database

EDIT_KEYS = ("color", "size", "k")  # "k": a key no import file has
_examples = itertools.count()


@dataclass
class Write:
    """A write that took effect, in creation order: an import (whatever its chunks did later), an edit or
    a delete-all."""

    kind: str  # import, put, patch, delete, delete_all
    file: ImportFile | None = None
    sku: str = ""
    body: dict[str, Any] = field(default_factory=dict)
    number: int = 0  # the order of its version among the history's writes


@dataclass
class History:
    conn: psycopg.Connection
    rng: random.Random
    prefix: str
    skus: list[str]
    writes: list[Write] = field(default_factory=list)
    files: list[ImportFile] = field(default_factory=list)
    pending: list[tuple[ImportFile, int]] = field(default_factory=list)
    delivered: list[tuple[ImportFile, int]] = field(default_factory=list)
    reverted: list[str] = field(default_factory=list)
    conflicts: set[str] = field(default_factory=set)
    # sku key -> the writes that reached it so far (imports: a delivered chunk with the SKU), by number
    landed: dict[str, set[int]] = field(default_factory=dict)
    delete_alls: list[int] = field(default_factory=list)

    def number(self) -> int:
        return len(self.writes)

    # -- steps ----------------------------------------------------------------------------------------

    def new_import(self, again: bool) -> None:
        tag = len(self.files)
        import_id = f"{self.prefix}{tag}"
        no = next_import_number(self.conn)
        if again and self.files:  # the same file imported again (after a revert, say)
            old = self.rng.choice(self.files)
            file = ImportFile(import_id, no, old.fields, old.attribute_keys, list(old.rows),
                              [list(c) for c in old.chunks])
        else:
            file = random_file(self.rng, import_id, no, self.skus, max_rows=4, max_chunks=2, tag=tag)
        register_import(self.conn, import_id, import_no=no)
        self.conn.commit()
        self.files.append(file)
        self.writes.append(Write("import", file=file, number=self.number()))
        self.pending += [(file, c) for c in range(len(file.chunks))]

    def deliver(self, count: int) -> None:
        for _ in range(count):
            if self.pending and (not self.delivered or self.rng.random() < 0.8):
                job = self.pending.pop(self.rng.randrange(len(self.pending)))
                self.delivered.append(job)
            elif self.delivered:
                job = self.rng.choice(self.delivered)  # delivered again
            else:
                return
            file, chunk_no = job
            apply_chunk(self.conn, file, chunk_no)
            self.conn.commit()
            number = next(w.number for w in self.writes if w.file is file)
            for row in file.chunks[chunk_no]:
                self.landed.setdefault(dict(zip(ROW_FIELDS, row, strict=True))["sku_key"], set()).add(number)

    def edit(self) -> None:
        rng = self.rng
        kind = rng.choice(("put", "patch", "patch", "delete"))
        sku = rng.choice(self.skus)
        tag = self.number()
        fields = {f: rng.choice([v for v in VALUES[f] if v is not None]) for f in OPTIONAL_FIELDS
                  if rng.random() < 0.3}
        if kind == "put":
            body: dict[str, Any] = {"sku": sku, "name": f"e{tag}", **fields,
                                    "attributes": {k: rng.choice(("0", "1")) for k in EDIT_KEYS if rng.random() < 0.5}}
        elif kind == "patch":
            body = {**({"name": f"p{tag}"} if rng.random() < 0.4 else {}), **fields,
                    "attributes": {k: rng.choice(("0", "1", None)) for k in EDIT_KEYS if rng.random() < 0.4}}
        else:
            body = {}
        try:
            if kind == "put":
                repository.put_product(self.conn, sku, body)
            elif kind == "patch":
                repository.patch_product(self.conn, sku, body)
            else:
                repository.delete_product(self.conn, sku)
        except repository.ProductNotFoundError:
            self.conn.rollback()
            return
        self.conn.commit()
        write = Write(kind, sku=sku, body=body, number=self.number())
        self.writes.append(write)
        self.landed.setdefault(sku.lower(), set()).add(write.number)

    def delete_all(self) -> None:
        repository.delete_all_products(self.conn, confirm=True)
        self.conn.commit()
        write = Write("delete_all", number=self.number())
        self.writes.append(write)
        self.delete_alls.append(write.number)

    def revert_one(self, victim: ImportFile | None = None) -> None:
        """Revert ``victim`` (default: one of the imports with every chunk delivered, not reverted yet)."""
        if victim is None:
            done = [f for f in self.files if f.import_id not in self.reverted
                    and all((f, c) not in self.pending for c in range(len(f.chunks)))]
            if not done:
                return
            victim = self.rng.choice(done)
        number = next(w.number for w in self.writes if w.file is victim)
        reverted = {w.number for w in self.writes if w.file is not None and w.file.import_id in self.reverted}
        # a conflict needs a newer write, not reverted before, that reached the product
        newer = {k for k, ns in self.landed.items() if any(n > number and n not in reverted for n in ns)}
        if any(n > number for n in self.delete_alls):
            newer |= {s.lower() for s in self.skus}
        before = catalog_of(self.conn, self.prefix)
        revert(self.conn, victim.import_id, self.rng)
        self.reverted.append(victim.import_id)
        conflicts = conflicts_of(self.conn, victim.import_id)
        assert conflicts <= newer, (victim.import_id, conflicts - newer)
        after = catalog_of(self.conn, self.prefix)  # a conflict is left as it is
        assert {k: after.get(k) for k in conflicts} == {k: before.get(k) for k in conflicts}
        self.conflicts |= conflicts

    def step(self, step: str) -> None:
        if step in "iI":
            self.new_import(again=step == "I")
        elif step == "d":
            self.deliver(self.rng.randint(1, 3))
        elif step == "e":
            self.edit()
        elif step == "x":
            self.delete_all()
        else:
            self.revert_one()

    def finish(self) -> None:
        self.rng.shuffle(self.pending)
        while self.pending:
            self.deliver(1)

    # -- the reference --------------------------------------------------------------------------------

    def replay(self) -> dict[str, dict[str, Any]]:
        catalog: dict[str, dict[str, Any]] = {}
        for write in self.writes:
            if write.kind == "import":
                assert write.file is not None
                if write.file.import_id not in self.reverted:
                    apply_file(catalog, write.file)
            elif write.kind == "delete_all":
                catalog.clear()
            else:
                apply_edit(catalog, write)
        return catalog


def _without(catalog: dict[str, dict[str, Any]], skip: set[str]) -> dict[str, dict[str, Any]]:
    """The products not in ``skip``, the SKU as its key: a PATCH of the name stores the name's group at the
    edit's version, with the SKU as written then, so an older import's late row no longer sets its casing
    (a known limit: identity is case-insensitive)."""
    return {k: {**v, "sku": k} for k, v in catalog.items() if k not in skip}


@pytest.fixture(scope="module")
def shared_url(databases) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """One database for every example (each uses its own SKUs; a delete-all only empties finished ones)."""
    with fresh_database(databases) as url:
        yield url


def build_history(conn: psycopg.Connection, seed: int, steps: list[str]) -> History:
    """i: a new import, I: a file imported again, d: deliver chunks, e: an edit, x: delete-all, r: a revert;
    then every chunk still pending is delivered."""
    n = next(_examples)
    history = History(conn, random.Random(seed), f"m{n}-", [f"m{n}-s{i}" for i in range(3)])
    for step in steps:
        history.step(step)
    history.finish()
    return history


def check(history: History) -> None:
    catalog = catalog_of(history.conn, history.prefix)
    expected = expected_of(history.replay())
    assert _without(catalog, history.conflicts) == _without(expected, history.conflicts)
    for file in history.files:  # counts are exact: one change record per product, whatever was redelivered
        totals = read_totals(history.conn, file.import_id)
        records: dict[str, int] = dict(history.conn.execute("SELECT action, count(*) FROM changes WHERE import_no = %s"
                                            " GROUP BY action", (file.import_no,)).fetchall())
        history.conn.rollback()
        assert (totals.products_created, totals.products_updated, totals.products_unchanged,
                totals.products_deactivated) == tuple(records.get(a, 0) for a in "cund"), file.import_id


def run_history(url: str, seed: int, steps: list[str]) -> History:
    with psycopg.connect(url) as conn:
        history = build_history(conn, seed, steps)
        check(history)
    return history


_STEPS = st.lists(st.sampled_from("iiIddddeerrx"), min_size=2, max_size=14)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1), steps=_STEPS)
def test_any_mix_of_late_chunks_edits_delete_all_and_reverts_ends_as_the_replay(shared_url: str, seed: int,
                                                                                 steps: list[str]) -> None:
    run_history(shared_url, seed, steps)


# -- preview = import ----------------------------------------------------------------------------------

def _value(name: str, value: Any) -> Any:
    if name == "price" and value is not None:
        return Decimal(str(value)).normalize()
    return value


def _records(conn: psycopg.Connection, import_id: str) -> dict[str, tuple[str, dict[str, Any]]]:
    """The import's change records by SKU key: (action, {field: (from, to)}, attribute keys as "@key")."""
    items, cursor = list_changes(conn, import_id, limit=500)
    assert cursor is None
    conn.rollback()
    out: dict[str, tuple[str, dict[str, Any]]] = {}
    for item in items:
        changes: dict[str, Any] = {}
        for name, pair in item["changes"].items():
            if name == "attributes":
                for key in pair["from"].keys() | pair["to"].keys():
                    changes[f"@{key}"] = (pair["from"].get(key), pair["to"].get(key))
            else:
                changes[name] = (_value(name, pair["from"]), _value(name, pair["to"]))
        out[item["sku"].lower()] = (item["action"], changes)
    return out


def _expected_records(before: dict[str, dict[str, Any]], after: dict[str, dict[str, Any]],
                      keys: set[str]) -> dict[str, tuple[str, dict[str, Any]]]:
    """What an import that touched ``keys`` records, from the visible catalog before and after it."""
    out: dict[str, tuple[str, dict[str, Any]]] = {}
    for key in keys:
        old, new = before.get(key), after[key]
        if old is None:
            out[key] = ("create", {})
            continue
        changes = {name: (_value(name, old[name]), _value(name, new[name])) for name in ("sku", "name", *OPTIONAL_FIELDS)
                   if _value(name, old[name]) != _value(name, new[name])}
        for attr in old["attributes"].keys() | new["attributes"].keys():
            if old["attributes"].get(attr, _ABSENT) != new["attributes"].get(attr, _ABSENT):
                changes[f"@{attr}"] = (old["attributes"].get(attr), new["attributes"].get(attr))
        out[key] = ("update" if changes else "unchanged", changes)
    return out


_ABSENT = object()


def _counts(conn: psycopg.Connection, import_id: str) -> tuple[int, int, int]:
    totals = read_totals(conn, import_id)
    conn.rollback()
    return totals.products_created, totals.products_updated, totals.products_unchanged


def _by_action(records: dict[str, tuple[str, dict[str, Any]]]) -> tuple[int, int, int]:
    actions = [a for a, _c in records.values()]
    return actions.count("create"), actions.count("update"), actions.count("unchanged")


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1), steps=st.lists(st.sampled_from("iIddeerx"), max_size=10),
       meanwhile=st.sampled_from(["", "", "e", "id", "x", "r", "ee"]))
def test_a_preview_plans_what_applying_it_does_and_the_apply_records_what_it_did(
        shared_url: str, seed: int, steps: list[str], meanwhile: str) -> None:
    """After any history: a preview's change records and counts are the difference between the catalog and
    the catalog with its file imported; applied with nothing changed meanwhile, the import records and
    counts exactly that; with an edit, an import, a delete-all or a revert meanwhile, the applied import
    records what it really changed; the catalog stays the replay."""
    with psycopg.connect(shared_url) as conn:
        history = build_history(conn, seed, steps)
        rng, prefix = history.rng, history.prefix
        before = catalog_of(conn, prefix)
        file = random_file(rng, f"{prefix}p", 0, history.skus, max_rows=6, max_chunks=3, tag="p")
        keys = {dict(zip(ROW_FIELDS, row, strict=True))["sku_key"] for row in file.rows}
        preview = ImportFile(f"{prefix}preview", next_import_number(conn), file.fields, file.attribute_keys,
                             file.rows, file.chunks)
        register_import(conn, preview.import_id, import_no=preview.import_no, mode="preview")
        for _index, chunk_no in shuffled_deliveries(rng, [preview]):
            apply_chunk(conn, preview, chunk_no, mode="preview")
        finish_import(conn, preview.import_id, "previewed")
        model = deepcopy(before)
        apply_file(model, file)
        planned = _records(conn, preview.import_id)
        assert planned == _expected_records(before, expected_of(model), keys)
        assert _counts(conn, preview.import_id) == _by_action(planned)
        assert catalog_of(conn, prefix) == before  # a preview writes nothing

        for step in meanwhile:
            history.step(step)
        history.finish()
        before_apply = catalog_of(conn, prefix)
        applied = ImportFile(f"{prefix}applied", next_import_number(conn), file.fields, file.attribute_keys,
                             file.rows, file.chunks)
        register_import(conn, applied.import_id, import_no=applied.import_no, preview_of=preview.import_id)
        conn.commit()
        history.files.append(applied)
        history.writes.append(Write("import", file=applied, number=history.number()))
        history.pending += [(applied, c) for c in range(len(applied.chunks))]
        history.finish()

        done = _records(conn, applied.import_id)
        assert done == _expected_records(before_apply, catalog_of(conn, prefix), keys)
        assert _counts(conn, applied.import_id) == _by_action(done)
        if not meanwhile:
            assert done == planned
            assert changes_summary(conn, applied.import_id) == changes_summary(conn, preview.import_id)
        check(history)


# -- replace (scope all / partner, held and confirmed later) with reverts ---------------------------------

PARTNERS = ("a", "b", "a", "b", None)


@dataclass
class Replace:
    file: ImportFile
    scope: str  # all, partner
    partner: str | None
    ran: bool = False


@dataclass
class ReplaceHistory(History):
    partners: dict[str, str | None] = field(default_factory=dict)  # import id -> partner
    replaces: dict[str, Replace] = field(default_factory=dict)

    def new_import(self, again: bool) -> None:
        super().new_import(again)
        file = self.files[-1]
        partner = self.rng.choice(PARTNERS)
        scope = self.rng.choice((None, "all", "partner" if partner else None, "partner" if partner else "all"))
        self.conn.execute("UPDATE import_registry SET partner = %s, replace_scope = %s WHERE import_id = %s",
                          (partner, scope, file.import_id))
        self.conn.commit()
        self.partners[file.import_id] = partner
        if scope is not None:
            self.replaces[file.import_id] = Replace(file, scope, partner)

    def step(self, step: str) -> None:
        if step == "p":
            self.run_replaces()
        else:
            super().step(step)

    def run_replaces(self) -> None:
        """Run (or confirm, when held) the replaces whose import has all its rows in (older imports' chunks
        may still be on their way)."""
        waiting = {f.import_no for f, _c in self.pending}
        for replace in self.replaces.values():
            file = replace.file
            if replace.ran or file.import_id in self.reverted or file.import_no in waiting:
                continue
            if self.rng.random() < 0.3:
                continue  # held: confirmed at a later step
            after = None
            while True:
                step = deactivate_missing(self.conn, file.import_id, scope=replace.scope,  # type: ignore[arg-type]
                                          partner=replace.partner, after=after, limit=2)
                if step.next_after is None:
                    break
                after = step.next_after
            replace.ran = True

    def replay(self) -> dict[str, dict[str, Any]]:
        catalog: dict[str, dict[str, Any]] = {}
        creator: dict[str, str | None] = {}  # sku key -> the partner of the import that created the product
        for write in self.writes:
            if write.kind == "import":
                assert write.file is not None
                file = write.file
                if file.import_id in self.reverted:
                    continue
                for row in file.rows:
                    key = dict(zip(ROW_FIELDS, row, strict=True))["sku_key"]
                    if key not in catalog:
                        creator[key] = self.partners[file.import_id]
                apply_file(catalog, file)
                replace = self.replaces.get(file.import_id)
                if replace is not None and replace.ran:
                    keys = {dict(zip(ROW_FIELDS, row, strict=True))["sku_key"] for row in file.rows}
                    for key, product in catalog.items():
                        if key not in keys and (replace.scope == "all" or creator[key] == replace.partner):
                            product["active"] = False
            elif write.kind == "delete_all":
                catalog.clear()
                creator.clear()
            else:
                if write.kind == "put" and write.sku.lower() not in catalog:
                    creator[write.sku.lower()] = None
                apply_edit(catalog, write)
                if write.kind == "delete":
                    creator.pop(write.sku.lower(), None)
        return catalog


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1), steps=st.lists(st.sampled_from("iiIdddeerrppx"), min_size=2, max_size=14))
def test_replaces_of_partners_mixed_with_reverts_and_edits_end_as_the_replay(shared_url: str, seed: int,
                                                                             steps: list[str]) -> None:
    """Imports of partners a and b (and of nobody), some replacing (scope all or partner; some held and
    confirmed later), their chunks late and out of order, with edits and reverts (a replacing import's
    too): every product no revert left alone is the replay, where a replace deactivates, after its rows,
    the products in scope its file lacks (scope partner: created by an import of its partner)."""
    n = next(_examples)
    with psycopg.connect(shared_url) as conn:
        history = ReplaceHistory(conn, random.Random(seed), f"q{n}-", [f"q{n}-s{i}" for i in range(3)])
        for step in steps:
            history.step(step)
        history.finish()
        history.run_replaces()
        check(history)


def _partner_import(conn: psycopg.Connection, import_id: str, partner: str, skus: list[str],
                    replace: str | None = None) -> ImportFile:
    rows = [make_row(i + 1, sku, f"name {sku}", {}, None) for i, sku in enumerate(skus)]
    file = ImportFile(import_id, next_import_number(conn), (), (), rows, [rows])
    register_import(conn, import_id, import_no=file.import_no, partner=partner, replace_scope=replace)  # type: ignore[arg-type]
    return file


def _replace(conn: psycopg.Connection, import_id: str, partner: str) -> int:
    step = deactivate_missing(conn, import_id, scope="partner", partner=partner)
    assert step.next_after is None
    return step.deactivated


def test_a_partners_replace_leaves_a_product_another_partners_older_import_created_though_it_ran_late(
        conn: psycopg.Connection) -> None:
    """Partner a's import is created first, partner b's second, both with P; b's chunk runs first. In
    creation order a created P: b's partner replace may not deactivate it (it did: created_by_no stayed b's)."""
    older = _partner_import(conn, "a-1", "a", ["P"])
    newer = _partner_import(conn, "b-1", "b", ["P"])
    apply_chunk(conn, newer, 0)
    apply_chunk(conn, older, 0)  # late
    replacing = _partner_import(conn, "b-2", "b", ["Q"], replace="partner")
    apply_chunk(conn, replacing, 0)

    assert _replace(conn, "b-2", "b") == 0
    assert catalog_of(conn)["p"]["active"] is True


def test_a_partners_replace_leaves_a_product_whose_creating_import_of_that_partner_was_reverted(
        conn: psycopg.Connection) -> None:
    """a's import creates P, b's later one sends P again unchanged, a's is reverted: P stays (b's), and in
    the replay without a's import b created it, so a's partner replace may not deactivate it (it did)."""
    run = [_partner_import(conn, "a-1", "a", ["P"]), _partner_import(conn, "b-1", "b", ["P"])]
    for file in run:
        apply_chunk(conn, file, 0)
    assert revert(conn, "a-1").conflicts == 0
    replacing = _partner_import(conn, "a-2", "a", ["Q"], replace="partner")
    apply_chunk(conn, replacing, 0)

    assert _replace(conn, "a-2", "a") == 0
    assert catalog_of(conn)["p"]["active"] is True


# -- the same at once: chunks, a revert and edits on three connections --------------------------------------

def _concurrently(*jobs: Callable[[], None]) -> None:
    barrier = threading.Barrier(len(jobs))
    failures: list[BaseException] = []

    def run(job: Callable[[], None]) -> None:
        try:
            barrier.wait()
            job()
        except BaseException as exc:  # reported below
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures, failures


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1), imports=st.integers(2, 5), edits=st.integers(0, 4),
       delete_all=st.booleans())
def test_chunks_a_revert_and_edits_at_once_end_as_the_replay(shared_url: str, seed: int, imports: int, edits: int,
                                                            delete_all: bool) -> None:
    """Imports created first; some delivered whole; then at once: one connection delivers every other chunk
    (shuffled, some again, older imports' late ones too), one reverts a delivered import (its chunks shuffled
    and redelivered), one makes edits (and maybe a delete-all). Every product no revert left alone is the
    replay: the imports in creation order without the reverted one, then the edits in their order."""
    rng = random.Random(seed)
    n = next(_examples)
    with psycopg.connect(shared_url) as conn:
        history = History(conn, rng, f"c{n}-", [f"c{n}-s{i}" for i in range(3)])
        for _ in range(imports):
            history.new_import(again=False)
        whole = rng.sample(history.files, rng.randint(1, imports - 1))
        for file in whole:
            for chunk_no in range(len(file.chunks)):
                history.pending.remove((file, chunk_no))
                apply_chunk(conn, file, chunk_no)
        victim = rng.choice(whole)
        deliveries = list(history.pending)
        rng.shuffle(deliveries)
        deliveries += [d for d in deliveries if rng.random() < 0.3]
        history.pending.clear()
        plans = [rng.random() for _ in range(edits)]
        edit_seed = rng.randrange(2**32)
        revert_seed = rng.randrange(2**32)

    def deliver() -> None:
        with psycopg.connect(shared_url) as mine:
            for file, chunk_no in deliveries:
                apply_chunk(mine, file, chunk_no)

    def reverting() -> None:
        with psycopg.connect(shared_url) as mine:
            revert(mine, victim.import_id, random.Random(revert_seed))

    edit_writes: list[Write] = []

    def editing() -> None:
        with psycopg.connect(shared_url) as mine:
            edit_history = History(mine, random.Random(edit_seed), history.prefix, history.skus)
            for plan in plans:
                if delete_all and plan < 0.15:
                    edit_history.delete_all()
                else:
                    edit_history.edit()
            edit_writes.extend(edit_history.writes)

    _concurrently(deliver, reverting, editing)

    with psycopg.connect(shared_url) as conn:
        history.conn = conn
        history.reverted.append(victim.import_id)
        history.writes += edit_writes  # every edit is newer than every import (all created before)
        history.conflicts = conflicts_of(conn, victim.import_id)
        check(history)


def test_a_partners_replace_deactivates_a_product_its_older_import_created_before_a_put_though_it_ran_late(
        conn: psycopg.Connection) -> None:
    """a's import is created, a PUT creates P before a's chunk runs, then a's chunk runs (its P loses to the
    PUT on every field). In creation order a created P and the PUT replaced it: a's next partner replace
    without P deactivates it (it did not: P stayed made by hand, out of every partner's scope)."""
    older = _partner_import(conn, "a-1", "a", ["P"])
    repository.put_product(conn, "P", {"sku": "P", "name": "by hand"})
    conn.commit()
    apply_chunk(conn, older, 0)  # late
    replacing = _partner_import(conn, "a-2", "a", ["Q"], replace="partner")
    apply_chunk(conn, replacing, 0)

    assert _replace(conn, "a-2", "a") == 1
    assert catalog_of(conn)["p"]["active"] is False


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1), steps=st.lists(st.sampled_from("iiIddeerx"), min_size=3, max_size=10))
def test_two_reverts_after_any_history_agree_in_either_order(shared_url: str, seed: int, steps: list[str]) -> None:
    """The same history twice (late chunks, edits, delete-all, reverts), then two more imports reverted, in
    one order and in the other: each run is the replay without its reverted imports (outside conflicts),
    and the two agree on every product clean in both."""
    runs = []
    for order in (0, 1):
        with psycopg.connect(shared_url) as conn:
            history = build_history(conn, seed, steps)
            left = [f for f in history.files if f.import_id not in history.reverted]
            if len(left) < 2:
                return
            pair = random.Random(seed).sample(left, 2)
            for file in pair if order == 0 else pair[::-1]:
                history.revert_one(file)
            check(history)
            catalog = catalog_of(conn, history.prefix)
            plain = {k.split("-", 1)[1]: {**v, "sku": k.split("-", 1)[1]} for k, v in catalog.items()}
            clean = {k.split("-", 1)[1] for k in expected_of(history.replay())} - {
                k.split("-", 1)[1] for k in history.conflicts}
            runs.append((plain, clean))
    both = runs[0][1] & runs[1][1]
    assert {k: v for k, v in runs[0][0].items() if k in both} == {k: v for k, v in runs[1][0].items() if k in both}


def test_an_older_imports_chunk_landing_after_a_newer_replace_is_deactivated_as_the_replace_would_have(
        conn: psycopg.Connection) -> None:
    """a's big import is created first, a's replacing import second; the replacing one finishes and replaces
    before the big one's chunk with P lands. In creation order the replace ran after P was created and
    deactivated it (P stayed active); a revert of the replacing import reactivates it."""
    older = _partner_import(conn, "a-1", "a", ["P"])
    replacing = _partner_import(conn, "a-2", "a", ["Q"], replace="partner")
    apply_chunk(conn, replacing, 0)
    assert _replace(conn, "a-2", "a") == 0
    apply_chunk(conn, older, 0)  # late

    assert catalog_of(conn)["p"]["active"] is False
    assert read_totals(conn, "a-2").products_deactivated == 1
    assert revert(conn, "a-2").restored == 1
    assert catalog_of(conn)["p"]["active"] is True


def test_an_older_imports_row_losing_to_the_reverted_import_while_its_revert_waits_comes_back(database_url: str) -> None:
    """I0 is created, then I1; I1's chunk creates P; I1's revert and I0's late chunk with P run at once. I0's
    row loses every field to I1 (kept as a lost row) and commits while the revert's first statement waits
    for P: the revert, deciding on its older snapshot that P was I1's alone, made P a tombstone and I0's row
    was lost (P gone; in the replay without I1, I0 created it). Found by the three-connection property."""
    with psycopg.connect(database_url) as conn:
        older = _partner_import(conn, "i0", "a", ["P"])
        newer = _partner_import(conn, "i1", "a", ["P"])
        apply_chunk(conn, newer, 0)
        plan_revert(conn, "i1", chunk_products=10)
        conn.commit()
    with psycopg.connect(database_url) as holder:
        holder.execute("SELECT 1 FROM products WHERE sku_key = 'p' FOR UPDATE")  # P held: both will queue
        waits = ("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                 " AND datname = current_database()")

        watcher = psycopg.connect(database_url, autocommit=True)  # (a transaction sees one stats snapshot)

        def queued(count: int) -> None:
            for _ in range(200):
                row = watcher.execute(waits).fetchone()
                if row is not None and row[0] >= count:
                    return
                time.sleep(0.02)
            raise AssertionError("not queued")

        failures: list[BaseException] = []

        def late_chunk() -> None:
            try:
                with psycopg.connect(database_url) as mine:
                    apply_chunk(mine, older, 0)
            except BaseException as exc:
                failures.append(exc)

        def reverting() -> None:
            try:
                with psycopg.connect(database_url) as mine:
                    revert_chunk(mine, import_id="i1", chunk_no=0)
            except BaseException as exc:
                failures.append(exc)

        first = threading.Thread(target=late_chunk)
        first.start()
        queued(1)  # the chunk waits for P first ...
        second = threading.Thread(target=reverting)
        second.start()
        queued(2)  # ... then the revert, with its snapshot taken before the chunk commits
        holder.commit()
        first.join()
        second.join()
        watcher.close()
        assert not failures, failures
    with psycopg.connect(database_url) as conn:
        assert catalog_of(conn)["p"]["name"] == "name P"
