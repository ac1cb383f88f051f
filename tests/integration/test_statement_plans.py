"""A chunk's statements read what the chunk touches, never a whole catalog-sized table.

A chunk of an import, a preview or a revert works on a few thousand products: a statement the planner
answers with a sequential scan of ``products``, ``changes``, ``undo`` or ``product_search`` costs time in
proportion to the catalog at every chunk, so an import or a revert of a large catalog gets slower the larger
the catalog (quadratic as a whole). The revert's creator recomputation did exactly that (no index on
``created_by_no``: 33-71 ms of a ~120 ms chunk at 100k products, measured). Every statement the chunk
functions run is EXPLAINed here, in its own session at the point it runs, against a 20,000-product
catalog with statistics, and chunks of 100 rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from product_importer.db import changes
from product_importer.db.chunks import next_import_number
from product_importer.db.registry import register_import
from product_importer.db.replace import deactivate_missing
from product_importer.db.revert import revert_conflicts
from product_importer.products import repository
from product_importer.products.search import refresh_for_import
from psycopg import sql

from tests.integration.catalog_model import ImportFile, apply_chunk, make_row, revert
from tests.pg import EmbeddedDatabases, fresh_database

CATALOG = 20_000
LARGE = ("products", "changes", "product_search", "preview_products", "undo",  # (partitions: undo_p…)
         "import_registry",  # one row per import, preview and edit for good: 20,000 here
         "import_events", "webhook_deliveries")
PAST_IMPORTS = 20_000
FULL = ("description", "price", "quantity")


class Explaining(psycopg.Connection):
    """A connection that EXPLAINs every query it runs first and keeps the sequential scans of large tables."""

    phase = ""
    scans: list[tuple[str, str, str]]
    explained: dict[str, int]

    def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:  # type: ignore[override]
        text = query.as_string(self) if isinstance(query, sql.Composable) else str(query)
        verb = text.split(None, 1)[0].upper() if text.strip() else ""
        if verb in ("SELECT", "INSERT", "UPDATE", "DELETE", "WITH"):
            with self.transaction():  # a savepoint: an EXPLAIN that fails leaves the transaction as it was
                found = super().execute("EXPLAIN (FORMAT JSON) " + text, params).fetchone()
            assert found is not None
            self.explained[self.phase] = self.explained.get(self.phase, 0) + 1
            self._walk(found[0][0]["Plan"], text)
        return super().execute(query, params, **kwargs)

    def _walk(self, node: dict[str, Any], text: str) -> None:
        relation = node.get("Relation Name", "")
        if node["Node Type"] == "Seq Scan" and relation.startswith(LARGE) and not relation.startswith("undo_lost"):
            self.scans.append((self.phase, relation, " ".join(text.split())[:160]))
        for child in node.get("Plans", []):
            self._walk(child, text)


@pytest.fixture
def conn(databases: EmbeddedDatabases) -> Iterator[Explaining]:
    with fresh_database(databases) as url, Explaining.connect(url) as connection:
        connection.scans, connection.explained = [], {}
        yield connection


def row(n: int, price: str = "1.00", description: str | None = None) -> tuple:
    return make_row(n, f"sku-{n:06d}", f"product {n}", {"description": description, "price": price, "quantity": 1},
                    None)


def imported(conn: Explaining, import_id: str, rows: list[tuple], *, fields: tuple[str, ...] = FULL,
             chunk: int = 100, mode: str = "import", order: list[int] | None = None, **registered: Any) -> ImportFile:
    file = ImportFile(import_id, next_import_number(conn), fields, (), rows,
                      [rows[i:i + chunk] for i in range(0, len(rows), chunk)])
    register_import(conn, import_id, import_no=file.import_no, mode=mode, **registered)  # type: ignore[arg-type]
    conn.commit()
    for chunk_no in range(len(file.chunks)) if order is None else order:
        apply_chunk(conn, file, chunk_no, mode=mode)
    conn.commit()
    return file


@pytest.mark.parametrize("statistics", [True, False], ids=["analysed", "right after bulk writes"])
def test_no_chunk_statement_reads_a_catalog_sized_table_whole(conn: Explaining, statistics: bool) -> None:
    # the catalog, its search rows, a newer import of every product (undo data for all), statistics or none
    # (autovacuum has not analysed the tables yet)
    if not statistics:
        for table in ("products", "changes", "product_search"):  # (undo: its partitions are made as needed)
            conn.execute(f"ALTER TABLE {table} SET (autovacuum_enabled = false)")
    conn.execute("INSERT INTO import_registry (import_id, import_no, status, finished_at)"
                 " SELECT 'past-' || g, nextval('import_number_seq'), 'completed', now()"
                 " FROM generate_series(1, %s) g", (PAST_IMPORTS,))
    conn.execute("ANALYZE import_registry")  # (a long-lived table that autovacuum analyses all the time)
    imported(conn, "catalog", [row(n) for n in range(1, CATALOG + 1)], chunk=5000)
    refresh_for_import(conn, "catalog")
    imported(conn, "everything", [row(n, "1.50") for n in range(1, CATALOG + 1)], chunk=5000)
    if statistics:
        conn.execute("ANALYZE")
    conn.commit()
    conn.scans.clear()

    phases: list[str] = []

    def phase(name: str) -> None:
        conn.phase = name
        phases.append(name)

    phase("an update (the fast statement)")
    imported(conn, "update", [row(n, "2.00") for n in range(1001, 1201)])
    phase("new and existing SKUs (the insert and general statements)")
    imported(conn, "mixed", [row(n, "3.00") for n in range(CATALOG - 99, CATALOG + 101)])
    phase("an older import's chunk after a newer one's (rows that lose)")
    older = ImportFile("older", next_import_number(conn), FULL, (), [row(n, "4.00", "old") for n in range(5001, 5101)])
    older.chunks = [older.rows]
    register_import(conn, "older", import_no=older.import_no)
    conn.commit()
    imported(conn, "newer", [row(n, "5.00") for n in range(5001, 5101)], fields=("price",))
    apply_chunk(conn, older, 0)
    conn.commit()
    phase("a preview")
    imported(conn, "preview", [row(n, "6.00") for n in range(3001, 3201)], mode="preview")
    imported(conn, "preview 2", [row(n, "6.00") for n in range(CATALOG - 49, CATALOG + 51)], mode="preview")
    phase("a partner's replace in steps, then an older import's late chunk in its scope")
    imported(conn, "acme 1", [row(n) for n in range(40_001, 40_301)], partner="acme")
    late = imported(conn, "late", [row(n, "8.00") for n in range(40_281, 40_321)], order=[])
    imported(conn, "acme 2", [row(n, "8.50") for n in range(40_001, 40_151)], partner="acme", replace_scope="partner")
    after: str | None = None
    while True:
        step = deactivate_missing(conn, "acme 2", scope="partner", partner="acme", after=after, limit=100)
        if (after := step.next_after) is None:
            break
    apply_chunk(conn, late, 0)
    conn.commit()
    assert psycopg.Connection.execute(conn, "SELECT count(*) FROM products WHERE NOT active").fetchone() == (150,)
    conn.rollback()
    phase("a preview of a replace of the whole catalog, in steps")
    imported(conn, "sweep", [row(n) for n in range(1, 101)], mode="preview", replace_scope="all")
    after = None
    while True:
        step = deactivate_missing(conn, "sweep", scope="all", after=after, limit=5000)
        if (after := step.next_after) is None:
            break
    phase("edits of one product")
    repository.put_product(conn, "sku-000777", {"name": "edited", "price": "2.00"})
    repository.patch_product(conn, "sku-001105", {"price": "7.00", "attributes": {"colour": "red"}})
    repository.delete_product(conn, "sku-002222")
    conn.commit()
    for import_id in ("update", "mixed", "older", "newer"):
        phase(f"the revert of {import_id}")
        assert revert(conn, import_id).done
    phase("pages of changes, conflicts and a product's history")
    page, cursor = changes.list_changes(conn, "everything", limit=50)
    assert len(page) == 50 and cursor is not None
    changes.list_changes(conn, "everything", cursor=cursor, action="update", sku_prefix="SKU-01")
    changes.product_history(conn, "sku-001105")
    changes.product_history(conn, "sku-005050", limit=1)
    revert_conflicts(conn, "update")
    repository.get_product(conn, "sku-001105")
    conn.rollback()

    assert conn.scans == [], "\n".join(map(str, conn.scans))
    assert all(conn.explained.get(name, 0) >= 5 for name in phases), conn.explained  # (the check ran)


def test_the_webhooks_worker_reads_recent_events_not_the_whole_log(conn: Explaining) -> None:
    """Every import's events stay for good (and their deliveries): the webhooks worker's questions at each run
    (events not fanned out yet, deliveries still owed) read the recent ones, not every event ever recorded
    (each holds the whole Import JSON: a year of imports is hundreds of MB, read at every run)."""
    from datetime import UTC, datetime, timedelta

    from product_importer.webhooks.store import WebhookStore

    store = WebhookStore(conn)
    hook = store.create(url="https://h.example/", events=["import.completed"], secret=None, max_webhooks=10)
    conn.execute(
        "INSERT INTO import_events (id, import_id, type, body, created_at, fanned_out_at)"
        " SELECT 'ev-' || g, 'imp-' || g, 'import.completed', repeat('x', 1500), now() - interval '30 days',"
        " now() - interval '30 days' FROM generate_series(1, %s) g", (PAST_IMPORTS,))
    conn.execute("INSERT INTO webhook_deliveries (webhook_id, event_id, event, attempt, ok, created_at)"
                 " SELECT %s, 'ev-' || g, 'import.completed', 1, true, now() - interval '30 days'"
                 " FROM generate_series(1, %s) g", (hook.id, PAST_IMPORTS))
    conn.execute("ANALYZE")
    conn.commit()
    conn.phase = "the webhooks worker's run"

    since = datetime.now(UTC) - timedelta(hours=1)
    assert store.unfanned_events(since) == []
    assert store.undelivered(since, 5) == []

    assert conn.scans == [], "\n".join(map(str, conn.scans))
    assert conn.explained.get(conn.phase, 0) >= 2


class Measuring(psycopg.Connection):
    """A connection that runs every read once under EXPLAIN ANALYZE first and keeps how many rows each read
    took from the large tables (rows returned plus rows a filter removed: rows read)."""

    reads: list[tuple[float, str]]

    def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:  # type: ignore[override]
        text = query.as_string(self) if isinstance(query, sql.Composable) else str(query)
        if text.lstrip().upper().startswith(("SELECT", "WITH")) and " FOR UPDATE" not in text.upper():
            found = super().execute("EXPLAIN (ANALYZE, FORMAT JSON) " + text, params).fetchone()
            assert found is not None
            self.reads.append((self._rows(found[0][0]["Plan"]), " ".join(text.split())[:160]))
        return super().execute(query, params, **kwargs)

    def _rows(self, node: dict[str, Any]) -> float:
        own = 0.0
        if node.get("Relation Name", "").startswith(LARGE):
            own = (node.get("Actual Rows", 0) + node.get("Rows Removed by Filter", 0)) * node.get("Actual Loops", 1)
        return own + sum(self._rows(child) for child in node.get("Plans", []))


def test_a_page_deep_in_a_long_list_reads_the_page_not_what_comes_before_it(databases: EmbeddedDatabases) -> None:
    """Pages of an import's changes, of a revert's conflicts and of products, asked for three quarters of the
    way through: a page reads about as many rows as it shows. A page of changes merged the page with products
    from the catalog's first key (0.27 s a page at 900k, 294 s to page through 1M changes), a page of
    conflicts sorted all of them (0.2 s a page at 1M): found at scale."""
    from product_importer.db.changes import encode_cursor

    with fresh_database(databases) as url, Explaining.connect(url) as setup:
        setup.scans, setup.explained = [], {}
        imported(setup, "catalog", [row(n) for n in range(1, CATALOG + 1)], chunk=5000)
        imported(setup, "everything", [row(n, "1.50") for n in range(1, CATALOG + 1)], chunk=5000)
        assert revert(setup, "catalog").conflicts == CATALOG  # every product changed since: a conflict each
        setup.execute("ANALYZE")
        setup.commit()
        with Measuring.connect(url) as conn:
            conn.reads = []
            deep = encode_cursor(f"sku-{CATALOG * 3 // 4:06d}")
            page, _ = changes.list_changes(conn, "everything", cursor=deep, limit=50)
            assert len(page) == 50
            changes.list_changes(conn, "everything", cursor=deep, action="update", limit=50)
            conflicts, _ = revert_conflicts(conn, "catalog", cursor=deep, limit=50)
            assert len(conflicts) == 50 and conflicts[0]["changed_by"] == {"import_id": "everything"}
            products, _ = repository.list_products(conn, repository.ProductFilter(), limit=50,
                                                   after=f"sku-{CATALOG * 3 // 4:06d}")
            assert len(products) == 50
            repository.list_products(conn, repository.ProductFilter(active=True), limit=50,
                                     after=f"sku-{CATALOG * 3 // 4:06d}")

            assert conn.reads and all(rows <= 5 * 51 for rows, _ in conn.reads), conn.reads
