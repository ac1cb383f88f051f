"""A plain reference for the catalog semantics of CONTRACT §1: imports replayed one by one in creation
order, each file's rows in file order, a row setting exactly the fields its file has (attributes merge by
key). The database must end equal to this whatever order and concurrency its chunks ran in."""

from __future__ import annotations

import itertools
import json
import random
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

import psycopg
from product_importer.db.chunks import upsert_chunk
from product_importer.db.fields import DEFAULTS, OPTIONAL_FIELDS
from product_importer.ingest.rows import ROW_FIELDS

ATTRIBUTE_KEYS = ("color", "size", "material")
VALUES: dict[str, tuple[Any, ...]] = {
    "description": (None, "plain", "fancy"),
    "price": (None, "1.00", "2.50", "9.99"),
    "currency": ("USD", "EUR"),
    "quantity": (0, 3, 7),
    "active": (True, False),
    "brand": (None, "Acme", "Globex"),
    "category": (None, "Tools", "Toys"),
    "barcode": (None, "111", "222"),
}


@dataclass
class ImportFile:
    """One import: its number, columns and rows (file order), cut into chunks."""

    import_id: str
    import_no: int
    fields: tuple[str, ...]  # optional fields the file has
    attribute_keys: tuple[str, ...]
    rows: list[tuple] = field(default_factory=list)
    chunks: list[list[tuple]] = field(default_factory=list)

    @property
    def present(self) -> set[str]:
        return {"sku", "name", *self.fields, *(["attributes"] if self.attribute_keys else [])}


def make_row(row_no: int, sku: str, name: str, values: dict[str, Any], attributes: dict[str, str] | None) -> tuple:
    data: dict[str, Any] = {"row_no": row_no, "sku_key": sku.strip().lower(), "sku": sku, "name": name, **values}
    if attributes is not None:
        data["attributes"] = json.dumps(attributes)
    return tuple(data.get(f) for f in ROW_FIELDS)


def random_file(rng: random.Random, import_id: str, import_no: int, skus: list[str], *, max_rows: int = 6,
                max_chunks: int = 3, tag: object = None) -> ImportFile:
    fields = tuple(f for f in OPTIONAL_FIELDS if rng.random() < 0.5)
    keys = tuple(k for k in ATTRIBUTE_KEYS if rng.random() < 0.4)
    file = ImportFile(import_id, import_no, fields, keys)
    for row_no in range(1, rng.randint(1, max_rows) + 1):
        sku = rng.choice(skus)
        sku = sku.upper() if rng.random() < 0.3 else sku
        values = {f: rng.choice(VALUES[f]) for f in fields}
        attributes = {k: rng.choice(("red", "blue", "", "L")) for k in keys} if keys else None
        # a third of the names are shared by every import: a later row can then leave a product unchanged
        suffix = "" if rng.random() < 0.3 else f"-{import_no if tag is None else tag}"
        file.rows.append(make_row(row_no, sku, rng.choice(("n1", "n2", "n3")) + suffix, values, attributes))
    cuts = sorted(rng.sample(range(1, len(file.rows)), min(len(file.rows) - 1, rng.randint(0, max_chunks - 1))))
    bounds = [0, *cuts, len(file.rows)]
    file.chunks = [file.rows[a:b] for a, b in itertools.pairwise(bounds)]
    return file


def apply_chunk(conn: psycopg.Connection, file: ImportFile, chunk_no: int, *, mode: str = "import") -> Any:
    rows = file.chunks[chunk_no]
    return upsert_chunk(conn, import_id=file.import_id, import_no=file.import_no, chunk_no=chunk_no,
                        present_fields=file.present, rows=rows, errors=(), rows_seen=len(rows), mode=mode)  # type: ignore[arg-type]


def shuffled_deliveries(rng: random.Random, files: list[ImportFile], redeliver: float = 0.3) -> list[tuple[int, int]]:
    """Every (file index, chunk no) once, in random order, some delivered again later."""
    jobs = [(i, c) for i, f in enumerate(files) for c in range(len(f.chunks))]
    rng.shuffle(jobs)
    out = list(jobs)
    for job in jobs:
        if rng.random() < redeliver:
            out.insert(rng.randint(out.index(job) + 1, len(out)), job)
    return out


def replay(files: list[ImportFile], skip: set[str] = frozenset()) -> dict[str, dict[str, Any]]:  # type: ignore[assignment]
    """The catalog after importing ``files`` one by one in creation (import number) order."""
    catalog: dict[str, dict[str, Any]] = {}
    for file in sorted(files, key=lambda f: f.import_no):
        if file.import_id in skip:
            continue
        apply_file(catalog, file)
    return catalog


def apply_file(catalog: dict[str, dict[str, Any]], file: ImportFile) -> None:
    for row in file.rows:
        data = dict(zip(ROW_FIELDS, row, strict=True))
        product = catalog.setdefault(data["sku_key"], {**DEFAULTS, "attributes": {}})
        product["sku"], product["name"] = data["sku"], data["name"]
        for f in file.fields:
            product[f] = data[f]
        if file.attribute_keys:
            product["attributes"] = {**product["attributes"], **json.loads(data["attributes"])}


class EditLike(Protocol):
    kind: str  # put, patch, delete
    sku: str
    body: dict[str, Any]  # the fields sent; attributes by key, None removes the key (a PATCH)


def apply_edit(catalog: dict[str, dict[str, Any]], edit: EditLike) -> None:
    """An API edit replayed on the reference: PUT replaces, PATCH merges (attribute keys one by one), DELETE
    removes. A PATCH of a product the replay does not hold is left out (the product was there only thanks to
    an import the replay skips: the API's PATCH of it is a conflict or would 404)."""
    key = edit.sku.lower()
    if edit.kind == "delete":
        catalog.pop(key, None)
    elif edit.kind == "put":
        catalog[key] = {**DEFAULTS, **{k: v for k, v in edit.body.items() if k != "attributes"},
                        "attributes": dict(edit.body["attributes"])}
    elif key in catalog:
        product = catalog[key]
        product.update({k: v for k, v in edit.body.items() if k != "attributes"})
        for name, value in edit.body["attributes"].items():
            if value is None:
                product["attributes"].pop(name, None)
            else:
                product["attributes"][name] = value


def normalise(product: dict[str, Any]) -> dict[str, Any]:
    out = {k: product[k] for k in ("sku", "name", *OPTIONAL_FIELDS, "attributes")}
    out["price"] = None if out["price"] is None else Decimal(str(out["price"])).normalize()
    return out


def catalog_of(conn: psycopg.Connection, prefix: str = "") -> dict[str, dict[str, Any]]:
    """The visible products (not tombstones) whose SKU key starts with ``prefix``."""
    cols = ("sku_key", "sku", "name", *OPTIONAL_FIELDS, "attributes")
    rows = conn.execute(
        f"SELECT {', '.join(cols)} FROM products WHERE NOT deleted AND sku_key LIKE %s", (prefix + "%",)
    ).fetchall()
    conn.rollback()
    return {r[0]: normalise(dict(zip(cols[1:], r[1:], strict=True))) for r in rows}


def expected_of(catalog: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {k: normalise(v) for k, v in catalog.items()}


def revert(conn: psycopg.Connection, import_id: str, rng: random.Random | None = None) -> Any:
    """Plan and run a whole revert, its chunks in random order with some redelivered; the final totals."""
    from product_importer.db.revert import plan_revert, revert_chunk, revert_totals

    total = plan_revert(conn, import_id, chunk_products=2)
    order = list(range(total))
    if rng is not None:
        rng.shuffle(order)
        order += [c for c in order if rng.random() < 0.3]
    for chunk_no in order:
        revert_chunk(conn, import_id=import_id, chunk_no=chunk_no)
    totals = revert_totals(conn, import_id)
    conn.commit()
    return totals


def conflicts_of(conn: psycopg.Connection, import_id: str) -> set[str]:
    rows = conn.execute(
        "SELECT rc.sku_key FROM revert_conflicts rc JOIN import_registry r ON r.import_no = rc.import_no"
        " WHERE r.import_id = %s", (import_id,)).fetchall()
    conn.rollback()
    return {r[0] for r in rows}


def without(catalog: dict[str, dict[str, Any]], conflicts: set[str]) -> dict[str, dict[str, Any]]:
    """The catalog without the products a revert left alone."""
    return {k: v for k, v in catalog.items() if k not in conflicts}


def _plain(key: str) -> str:
    return key.split("-", 2)[-1]  # "<prefix>-<n>-SKU": the scenario's own SKU


def run_of(catalog: dict[str, dict[str, Any]], expected: dict[str, dict[str, Any]],
           conflicts: set[str]) -> tuple[dict[str, dict[str, Any]], set[str]]:
    """One run of a scenario (its SKUs prefixed) as (catalog, SKUs without a conflict), prefix taken off, so
    that two runs of the same scenario compare."""
    catalog = {_plain(k): {**v, "sku": _plain(v["sku"])} for k, v in catalog.items()}
    return catalog, {_plain(k) for k in expected} - {_plain(k) for k in conflicts}


def assert_runs_agree(first: tuple[dict[str, Any], set[str]], second: tuple[dict[str, Any], set[str]]) -> None:
    """Two runs (reverts in either order) agree on every product clean in both."""
    both = first[1] & second[1]
    assert {k: v for k, v in first[0].items() if k in both} == {k: v for k, v in second[0].items() if k in both}
