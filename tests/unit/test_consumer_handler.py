"""The consumer handler with fake ports: a batch of chunk messages in → writes, progress and partial failures out.

Each world's file is cut by the real splitter (over the same fakes), so the chunks and the import's
stored plan are what production would give the consumer.
"""

from __future__ import annotations

import json
import os
import uuid

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

# The deployed function has these in its environment (CDK, local stack); Powertools reads them at import.
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "ProductImporterTest")
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")

from product_importer.models import ChunkMessage, ImportTotals
from product_importer.pipeline import consumer
from product_importer.pipeline.consumer import ConsumerPorts
from product_importer.pipeline.s3events import parse_notification
from product_importer.pipeline.splitter import SplitLimits, SplitterPorts, split_object
from product_importer.settings import Settings

from functions.consumer.handler import handler
from infra.local.events import LocalContext, s3_notification, sqs_event, sqs_record
from tests.unit.fakes import (
    BUCKET,
    FakeChunkLedger,
    FakeJobLedger,
    FakeObjectStore,
    FakePlanStore,
    FakeProgress,
    FakeQueue,
    pending_upload,
)

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

HEADER = "sku,name,price,color"


def rows_csv(count: int, *, bad: frozenset[int] = frozenset({2})) -> bytes:
    """Rows SKU-1…; the rows in ``bad`` have a negative price (a row error)."""
    return "".join(f"SKU-{n},Product {n},{'-1' if n in bad else f'{n}.25'},blue\n"
                   for n in range(1, count + 1)).encode()


class World:
    """One uploaded file, split by the real splitter into chunks waiting for the consumer."""

    def __init__(self, data: bytes | None = None, *, chunk_rows: int = 4, chunk_bytes: int = 8 << 20,
                 max_record_bytes: int = 1 << 20, options: dict | None = None, mode: str = "import",
                 stored_errors: int | None = None, read_block: int = 1 << 20) -> None:
        self.objects = FakeObjectStore()
        self.progress = FakeProgress()
        self.ledger = FakeChunkLedger()
        self.plans = FakePlanStore()
        self.chunks = FakeQueue()
        self.jobs = FakeJobLedger(self.ledger)
        bound = {} if stored_errors is None else {"stored_errors": stored_errors}
        self.ports = ConsumerPorts(objects=self.objects, progress=self.progress, ledger=self.ledger,
                                   plans=self.plans, jobs=self.jobs, chunks=self.chunks, read_block=read_block, **bound)
        self.import_id = uuid.uuid4().hex
        pending_upload(self.progress, self.import_id, import_no=11)
        self.progress.items[self.import_id].update(mode=mode, options=options or {})
        self.key = f"uploads/{self.import_id}.csv"
        self.data = data if data is not None else f"{HEADER}\n".encode() + rows_csv(12)
        version = self.objects.put(self.key, self.data)
        splitter = SplitterPorts(
            objects=self.objects, chunks=self.chunks, continuations=FakeQueue(), progress=self.progress,
            ledger=self.ledger, plans=self.plans, next_import_number=lambda: 99, saved_mappings=list,
            limits=SplitLimits(max_upload_bytes=1 << 30, max_drop_bytes=1 << 30, rows_per_chunk=chunk_rows,
                               bytes_per_chunk=chunk_bytes, max_record_bytes=max_record_bytes),
            jobs=self.jobs)
        [event] = parse_notification(json.dumps(s3_notification(BUCKET, self.key, size=len(self.data),
                                                                version_id=version)))
        split_object(event, splitter)
        self.messages: list[ChunkMessage] = self.chunks.messages()
        self.objects.reads.clear()

    def record(self, chunk_no: int, *, receive_count: int = 1) -> dict:
        return sqs_record(self.messages[chunk_no].model_dump_json(), receive_count=receive_count)

    def invoke(self, *records: dict) -> dict:
        return handler(sqs_event(list(records)), LocalContext("consumer"), ports=self.ports)

    def item(self) -> dict:
        item = self.progress.get_item(self.import_id)
        assert item is not None
        return item

    def call(self, chunk_no: int) -> dict:
        return next(c for c in self.ledger.calls if c["chunk_no"] == chunk_no)


def test_a_chunk_is_read_from_its_pinned_range_validated_written_and_counted() -> None:
    world = World()

    response = world.invoke(world.record(0))

    assert response == {"batchItemFailures": []}
    message = world.messages[0]
    assert world.objects.reads == [(BUCKET, world.key, "v1", message.start, message.end)]
    call = world.call(0)
    assert (call["import_id"], call["import_no"], call["chunk_no"], call["rows_seen"], call["mode"]) == (
        world.import_id, 11, 0, 4, "import")
    assert [r[0] for r in call["rows"]] == [1, 3, 4]  # row numbers; row 2 is an error
    assert [(e.row, e.column) for e in call["errors"]] == [(2, "price")]
    assert {"sku", "name", "price", "attributes"} <= call["present_fields"]
    assert "quantity" not in call["present_fields"]  # a column the file lacks keeps the stored value
    item = world.item()
    assert (item["chunks_done"], item["rows_processed"], item["rows_imported"], item["rows_failed"]) == (1, 4, 3, 1)
    assert item["status"] == "processing"


def test_the_last_chunk_completes_the_import_once() -> None:
    world = World()

    world.invoke(world.record(0), world.record(1))
    world.invoke(world.record(2))
    world.invoke(world.record(2))  # redelivered after completion

    item = world.item()
    assert (item["status"], item["chunks_done"], item["rows_processed"], item["rows_failed"]) == (
        "completed", 3, 12, 1)
    assert world.progress.writes("fail") == []
    assert world.ledger.registry[world.import_id] == "completed"


def test_one_failing_chunk_in_a_batch_is_the_only_item_failure_and_the_last_receive_decides_nothing() -> None:
    world = World()
    world.ledger.fail_for = {1}
    records = [world.record(0), world.record(1, receive_count=5), world.record(2)]

    response = world.invoke(*records)

    assert response == {"batchItemFailures": [{"itemIdentifier": records[1]["messageId"]}]}
    assert world.item()["chunks_done"] == 2
    assert world.item()["status"] == "processing"  # the dead-letter handler ends it, after the DLQ
    assert world.progress.writes("fail") == []


def test_an_unreadable_range_or_a_junk_body_fails_alone() -> None:
    world = World()
    world.objects.broken.add("uploads/flaky.csv")  # S3 answers InternalError: a retry may read it
    flaky = world.messages[0].model_copy(update={"key": "uploads/flaky.csv"})
    bad, junk = sqs_record(flaky.model_dump_json()), sqs_record('{"hello": 1}')

    response = world.invoke(world.record(0), bad, junk, world.record(1), world.record(2))

    assert response == {"batchItemFailures": [{"itemIdentifier": bad["messageId"]},
                                              {"itemIdentifier": junk["messageId"]}]}
    assert world.item()["status"] == "completed"


def test_a_progress_update_lost_after_the_commit_is_repaired_by_the_redelivery() -> None:
    world = World(chunk_rows=6)
    real_record_snapshot = world.progress.record_snapshot
    crashed: list[ImportTotals] = []

    def crash_on_the_last_chunk_once(import_id: str, totals: ImportTotals) -> dict | None:
        if totals.chunks_done == 2 and not crashed:
            crashed.append(totals)
            raise ConnectionError("killed between the PostgreSQL commit and the progress update")
        return real_record_snapshot(import_id, totals)

    world.progress.record_snapshot = crash_on_the_last_chunk_once  # type: ignore[method-assign]
    world.invoke(world.record(0))
    with pytest.raises(Exception, match="All records failed"):
        world.invoke(world.record(1))
    assert len(world.ledger.ledger) == 2 and world.item()["chunks_done"] == 1  # committed, not counted

    assert world.invoke(world.record(1, receive_count=2)) == {"batchItemFailures": []}

    item = world.item()
    assert (item["status"], item["chunks_done"], item["rows_processed"], item["rows_imported"]) == (
        "completed", 2, 12, 11)


# ---- broken files cost one row per broken line ------------------------------------------------------------


def test_a_stray_quote_fails_its_line_and_the_rest_of_the_chunk_imports() -> None:
    data = (f"{HEADER}\n".encode() + b"A-1,ok,1.00,red\n" + b'A-2,"oops,2.00,red\n'
            + b"".join(b"G-%03d,Good,1.00,red\n" % n for n in range(1, 51)))
    world = World(data, chunk_rows=100)

    world.invoke(world.record(0))

    item = world.item()
    assert (item["status"], item["rows_total"], item["rows_imported"], item["rows_failed"]) == ("completed", 52, 51, 1)
    [error] = world.call(0)["errors"]
    # the row error names the row's sku and the column where the quote opened, with that cell's value
    # (CONTRACT §1: row number, column, message), as a chunk parsed whole says it
    assert (error.row, error.sku, error.column, error.value) == (2, "A-2", "name", "oops,2.00,red")
    assert error.message.startswith("unterminated quote")
    assert error.message.endswith(' (the line begins: A-2,"oops,2.00,red)')


def test_a_row_over_the_record_limit_is_one_row_error() -> None:
    data = f"{HEADER}\n".encode() + b"A-1,ok,1.00,red\n" + b"A-2," + b"x" * 5000 + b",1.00,red\n" + b"A-3,ok,1,red\n"
    world = World(data, max_record_bytes=1000, read_block=700)

    world.invoke(world.record(0))

    call = world.call(0)
    assert [r[0] for r in call["rows"]] == [1, 3]
    assert [(e.row, "longer than" in e.message) for e in call["errors"]] == [(2, True)]


def test_a_row_the_reading_rejects_names_its_sku_and_the_column_where_it_broke() -> None:
    # CONTRACT §1: a row error has its row number, the column and a message. Before: a row rejected whole by
    # the byte level (a quote still open after the record limit, a row too long) had neither sku nor column.
    data = (f"{HEADER}\n".encode() + b"A-1,ok,1.00,red\n" + b'A-2,"' + b"x" * 5000 + b'",1.00,red\n'
            + b"A-3,ok," + b"9" * 5000 + b",red\n" + b"A-4,ok,1,red\n")
    world = World(data, max_record_bytes=1000, read_block=700)

    world.invoke(world.record(0))

    call = world.call(0)
    assert [r[0] for r in call["rows"]] == [1, 4]
    quote, long_row = call["errors"]
    assert (quote.row, quote.sku, quote.column, quote.value) == (2, "A-2", "name", "x" * 200)
    assert quote.message.startswith("unterminated quote")
    assert (long_row.row, long_row.sku, long_row.column) == (3, "A-3", None)
    assert long_row.value is not None and long_row.value.startswith("A-3,ok,999")


def test_a_chunk_stores_a_bounded_number_of_row_errors_and_keeps_exact_counts() -> None:
    data = f"{HEADER}\n".encode() + rows_csv(300, bad=frozenset(range(1, 301, 2)))
    world = World(data, chunk_rows=300, stored_errors=25)

    world.invoke(world.record(0))

    call = world.call(0)
    assert len(call["errors"]) == 25 and [e.row for e in call["errors"]] == list(range(1, 50, 2))
    assert (call["rows_seen"], len(call["rows"])) == (300, 150)
    assert world.item()["rows_failed"] == 150


def test_by_default_a_chunk_stores_every_one_of_its_row_errors() -> None:
    # CONTRACT §1 caps stored row errors per import (100,000), not per chunk: a chunk of 5,000 rows with
    # 3,000 bad ones stores all 3,000 (the consumer once kept its first 1,000, silently).
    bad = frozenset(range(1, 3001))
    data = f"{HEADER}\n".encode() + rows_csv(5000, bad=bad)
    world = World(data, chunk_rows=5000)

    world.invoke(world.record(0))

    call = world.call(0)
    assert [e.row for e in call["errors"]] == sorted(bad)
    assert world.item()["rows_failed"] == 3000
    assert Settings().chunk_stored_errors >= 5000  # the deployed default too (CHUNK_ROWS is 5,000)


def test_blank_rows_take_numbers_and_are_counted_as_skipped() -> None:
    data = f"{HEADER}\n".encode() + b"A-1,ok,1.00,red\n\n,,,\nA-4,ok,1.00,red\n"
    world = World(data)

    world.invoke(world.record(0))

    call = world.call(0)
    assert [r[0] for r in call["rows"]] == [1, 4]
    assert (call["rows_seen"], call["rows_skipped"]) == (2, 2)
    item = world.item()
    assert (item["status"], item["rows_total"], item["rows_processed"], item["rows_skipped"]) == ("completed", 4, 4, 2)


def test_a_windows_1252_chunk_is_decoded_where_it_is_parsed() -> None:
    data = "sku,name,price,color\nC-1,Café Crème,1.00,Müller\nC-2,Prix 5 €,5.00,“x”\n".encode("cp1252")
    world = World(data)

    world.invoke(world.record(0))

    assert [(r[2], r[3]) for r in world.call(0)["rows"]] == [("C-1", "Café Crème"), ("C-2", "Prix 5 €")]
    assert world.item()["encoding"] == "windows-1252"


# ---- import options pinned in the plan ------------------------------------------------------------------


def test_max_errors_stops_the_import_with_a_reason() -> None:
    data = f"{HEADER}\n".encode() + rows_csv(12, bad=frozenset(range(1, 13)))
    world = World(data, options={"max_errors": 3})

    world.invoke(world.record(0))

    assert world.call(0)["max_errors"] == 3
    item = world.item()
    assert (item["status"], item["error"]) == ("failed", "too many row errors")


def test_max_errors_stops_at_the_row_that_passes_it() -> None:
    """CONTRACT §1: once more rows than max_errors have failed, the import stops. Found by a tester: the
    chunk that passed the limit still wrote all of its rows (with 5,000-row chunks, thousands past it)."""
    lines = [HEADER, *(f"SKU-{n},P {n},{'-1' if n % 2 == 0 else '1.00'},blue" for n in range(1, 6)), "",
             *(f"SKU-{n},P {n},{'-1' if n % 2 == 0 else '1.00'},blue" for n in range(7, 21))]
    world = World(("\n".join(lines) + "\n").encode(), chunk_rows=50, options={"max_errors": 3})

    world.invoke(world.record(0))

    call = world.call(0)
    assert [r[0] for r in call["rows"]] == [1, 3, 5, 7, 9]  # row 6 is blank; row 10 is the 4th failure
    assert [e.row for e in call["errors"]] == [2, 4, 8, 10]
    assert (call["rows_seen"], call["rows_skipped"]) == (9, 1)
    item = world.item()
    assert (item["status"], item["rows_failed"], item["rows_processed"]) == ("failed", 4, 10)


def test_max_errors_counts_the_failures_other_chunks_committed() -> None:
    data = f"{HEADER}\n".encode() + rows_csv(12, bad=frozenset({1, 2, 5, 6, 7, 8}))
    world = World(data, chunk_rows=4, options={"max_errors": 3})

    world.invoke(world.record(0))  # rows 1-4: two failures, within the limit
    world.invoke(world.record(1))  # rows 5-8: the second failure here is the 4th of the import

    assert [r[0] for r in world.call(0)["rows"]] == [3, 4]
    assert ([r[0] for r in world.call(1)["rows"]], world.call(1)["rows_seen"]) == ([], 2)
    assert (world.item()["status"], world.item()["rows_failed"]) == ("failed", 4)


def test_a_preview_writes_in_preview_mode_and_ends_previewed() -> None:
    world = World(mode="preview")

    world.invoke(world.record(0), world.record(1), world.record(2))

    assert {c["mode"] for c in world.ledger.calls} == {"preview"}
    assert world.item()["status"] == "previewed"
    assert world.ledger.registry[world.import_id] == "previewed"


def test_a_chunk_that_starts_inside_a_shopify_family_inherits_from_its_first_row() -> None:
    lines = ["Handle,Title,Vendor,Variant SKU,Variant Price,Option1 Name,Option1 Value"]
    lines.append("hat,Wool Hat,Acme,HAT-0,5.00,Color,Grey")
    lines += [f"hat,,,HAT-{n},5.00,,Color {n}" for n in range(1, 6)]
    world = World(("\n".join(lines) + "\n").encode(), chunk_rows=2)
    assert world.messages[1].context is not None

    world.invoke(*(world.record(n) for n in range(len(world.messages))))

    names = {r[2]: (r[3], r[9]) for call in world.ledger.calls for r in call["rows"]}  # sku -> (name, brand)
    assert names["HAT-5"] == ("Wool Hat - Color 5", "Acme")
    assert world.item()["profile"] == "shopify"


@pytest.mark.parametrize("chunk_rows", [2, 3, 100])
def test_a_shopify_variant_apart_from_its_family_inherits_from_the_familys_first_row(chunk_rows: int) -> None:
    """CONTRACT §1: rows sharing a Handle are one family, whatever is between them (a sheet sorted by another
    column). Found by an audit: such a variant in another chunk than its family's first row failed "name is
    required"; in one chunk it inherited: the outcome hung on the chunk size."""
    consumer._fruitless_family_lookups.clear()
    lines = ["Handle,Title,Vendor,Variant SKU,Variant Price,Option1 Name,Option1 Value,Status",
             "hat,Wool Hat,Acme,HAT-0,5.00,Color,Grey,draft",
             *(f"cap-{n},Cap {n},Caps,CAP-{n},2.00,Title,Default Title,active" for n in range(5)),
             "hat,,,HAT-1,5.00,,Red,", "nohat,,,NOHAT-1,5.00,,Red,"]
    world = World(("\n".join(lines) + "\n").encode(), chunk_rows=chunk_rows)

    world.invoke(*(world.record(n) for n in range(len(world.messages))))

    found = {r[2]: (r[3], r[9], r[8]) for call in world.ledger.calls for r in call["rows"]}  # name, brand, active
    assert found["HAT-1"] == ("Wool Hat - Red", "Acme", False)
    errors = [(e.sku, e.column) for call in world.ledger.calls for e in call["errors"]]
    assert errors == [("NOHAT-1", "name")]  # a family without a Title anywhere still fails


def test_a_shopify_file_without_titles_is_not_read_again_by_every_chunk() -> None:
    """Every row of such a file fails ("name is required"), and each chunk would look for its families' first
    rows in the whole file before it (n² bytes): after one fruitless lookup, a process looks no more."""
    consumer._fruitless_family_lookups.clear()
    lines = ["Handle,Title,Vendor,Variant SKU,Variant Price"] + [f"h{n},,V,S-{n},1" for n in range(30)]
    world = World(("\n".join(lines) + "\n").encode(), chunk_rows=3)
    start = world.messages[0].start

    world.invoke(*(world.record(n) for n in range(len(world.messages))))

    assert len([r for r in world.objects.reads if r[3] == start and r[4] != world.messages[0].end]) <= 1
    assert world.item()["rows_failed"] == 30


WOO_HEADER = "ID,Type,SKU,Name,Published,Regular price,Parent,Stock"


def woo_names(world: World) -> dict[str, str]:
    world.invoke(*(world.record(n) for n in range(len(world.messages))))
    return {r[2]: r[3] for call in world.ledger.calls for r in call["rows"]}


def test_a_woocommerce_parent_and_its_variations_stay_in_one_chunk() -> None:
    """Found by a tester: a cut between a variable product and its variations left the variations without
    a name ("name is required"): a parent's name was found only within one chunk."""
    lines = [WOO_HEADER, *(f"{n},simple,S-{n},Simple {n},1,1,,1" for n in range(1, 4)),
             "10,variable,TEE,Tee,1,,,",
             "11,variation,TEE-S,,1,5,TEE,1", "12,variation,TEE-M,,1,5,TEE,1", "13,variation,TEE-L,,1,5,tee,1",
             "20,simple,S-20,Simple 20,1,1,,1"]
    world = World(("\n".join(lines) + "\n").encode(), chunk_rows=4)

    names = woo_names(world)

    assert [(m.first_row, m.rows) for m in world.messages] == [(1, 3), (4, 4), (8, 1)]
    assert {k: names[k] for k in ("TEE-S", "TEE-M", "TEE-L")} == {"TEE-S": "Tee", "TEE-M": "Tee", "TEE-L": "Tee"}
    assert world.item()["rows_failed"] == 0 and world.item()["profile"] == "woocommerce"


@pytest.mark.parametrize(("parent_sku", "reference"), [("TEE", "TEE"), ("", "id:10")])
def test_woocommerce_variations_past_a_full_chunk_take_their_parents_name_from_the_context(
        parent_sku: str, reference: str) -> None:
    """WooCommerce's exporter refers to a parent by its SKU, or by ``id:N`` when it has none."""
    lines = [WOO_HEADER, f"10,variable,{parent_sku},Tee,1,,,"]
    lines += [f"{n},variation,TEE-{n},,1,5,{reference},1" for n in range(11, 18)]
    world = World(("\n".join(lines) + "\n").encode(), chunk_rows=3)
    assert len(world.messages) == 3 and all(m.context is not None for m in world.messages[1:])

    names = woo_names(world)

    assert {names[f"TEE-{n}"] for n in range(11, 18)} == {"Tee"}
    item = world.item()
    assert (item["rows_failed"], item["rows_skipped"]) == (0, 0 if parent_sku else 1)  # one without: skipped


def test_a_variation_whose_parent_is_not_in_the_file_says_so() -> None:
    lines = [WOO_HEADER, "11,variation,ORPHAN-1,,1,5,GONE,1", "12,simple,S-12,Simple,1,1,,1"]
    world = World(("\n".join(lines) + "\n").encode(), chunk_rows=1)

    woo_names(world)

    (error,) = world.call(0)["errors"]
    assert (error.row, error.column) == (1, "name")
    assert "its parent 'GONE' is not in the file" in error.message


@pytest.mark.parametrize("reference", ["TEE", "id:10", "tee"])
def test_a_variation_chunks_after_its_parent_takes_its_name(reference: str) -> None:
    """Found by an audit of CONTRACT §1 (WooCommerce: "a variation row with an empty name takes its parent's"):
    WooCommerce exports rows in ID order, so a variation added later comes after other products (its own
    sample_products.csv lists its variations a dozen rows below their parents). A variation a chunk or more
    after its parent's row failed "name is required"; only an adjacent parent was found."""
    lines = [WOO_HEADER, "10,variable,TEE,'=Tee,1,,,",
             *(f"{n},simple,S-{n},Simple {n},1,1,,1" for n in range(20, 27)),
             f"30,variation,TEE-S,,1,5,{reference},1", "31,simple,S-31,Simple 31,1,1,,1",
             f"32,variation,TEE-M,,1,5,{reference},1"]
    world = World(("\n".join(lines) + "\n").encode(), chunk_rows=3)
    assert len(world.messages) >= 3

    names = woo_names(world)

    assert (names["TEE-S"], names["TEE-M"]) == ("=Tee", "=Tee")  # (the exporter's escaping undone, as for TEE)
    assert world.item()["rows_failed"] == 0


@pytest.mark.parametrize("between", [0, 7])
def test_a_variation_whose_stock_is_parent_takes_its_parents_stock(between: int) -> None:
    """WooCommerce's exporter writes a variation's Stock as ``parent`` when the parent manages its stock
    (``get_column_value_stock``): the variation's stock is its parent's (CONTRACT §1: read as the platform
    meant it; Stock -> quantity). Found by an audit: such rows failed "quantity must be a whole number"."""
    lines = [WOO_HEADER, "10,variable,TEE,Tee,1,,,7", "20,variable,CAP,Cap,1,,,",
             *(f"{n},simple,S-{n},Simple {n},1,1,,1" for n in range(30, 30 + between)),
             "40,variation,TEE-S,,1,5,TEE,parent", "41,variation,TEE-M,Tee M,1,5,id:10,Parent",
             "42,variation,CAP-S,,1,5,CAP,parent", "43,variation,GONE-S,Gone S,1,5,GONE,parent"]
    world = World(("\n".join(lines) + "\n").encode(), chunk_rows=3)
    world.invoke(*(world.record(n) for n in range(len(world.messages))))

    stock = {r[2]: r[7] for call in world.ledger.calls for r in call["rows"]}  # sku -> quantity
    assert (stock["TEE-S"], stock["TEE-M"], stock["CAP-S"]) == (7, 7, 0)  # (CAP has no stock of its own: 0)
    errors = [e for call in world.ledger.calls for e in call["errors"]]
    assert [(e.sku, e.column) for e in errors] == [("GONE-S", "quantity")]
    assert "'GONE' is not in the file" in errors[0].message


def _orphan_variations(chunks: int) -> World:
    """A WooCommerce file whose variations all sit chunks after their parents (3 rows a chunk)."""
    lines = [WOO_HEADER, *(f"{n},variable,P-{n},Parent {n},1,,,{n}" for n in range(1, 4))]
    lines += [f"{100 + n},variation,V-{n},,1,5,P-{n % 3 + 1},parent" for n in range(3 * (chunks - 1))]
    return World(("\n".join(lines) + "\n").encode(), chunk_rows=3)


def test_variations_far_from_their_parents_cost_one_read_of_the_file_per_process() -> None:
    """The parents' lookup of one chunk serves the next ones: not a read of the file per chunk (n² bytes)."""
    consumer._parent_indexes.clear()
    world = _orphan_variations(6)
    data_start = world.messages[0].start

    world.invoke(*(world.record(n) for n in range(len(world.messages))))

    whole_reads = [r for r in world.objects.reads if r[3] == data_start and r[4] == len(world.data)]
    assert len(whole_reads) == 1
    names = {r[2]: (r[3], r[7]) for call in world.ledger.calls for r in call["rows"]}
    assert names["V-0"] == ("Parent 1", 1) and names["V-14"] == ("Parent 3", 3)
    assert world.item()["rows_failed"] == 0


def test_variations_far_from_their_parents_in_a_file_of_too_many_parents_to_keep(
        monkeypatch: pytest.MonkeyPatch) -> None:
    consumer._parent_indexes.clear()
    monkeypatch.setattr(consumer, "MAX_PARENT_INDEX", 2)  # (each parent has two keys: id:N and its SKU)
    world = _orphan_variations(4)

    world.invoke(*(world.record(n) for n in range(len(world.messages))))

    names = {r[2]: (r[3], r[7]) for call in world.ledger.calls for r in call["rows"]}
    assert {names[f"V-{n}"] for n in range(9)} == {("Parent 1", 1), ("Parent 2", 2), ("Parent 3", 3)}
    assert world.item()["rows_failed"] == 0 and consumer._parent_indexes == {}


@pytest.mark.parametrize("bad", ["\x00", "\udcff"], ids=["nul", "invalid-utf8"])
def test_a_parent_or_family_row_that_fails_whole_names_nothing_elsewhere_in_the_file(bad: str) -> None:
    """A NUL or undecodable bytes fail their row whole; a variation (or a Shopify variant) chunks away must not
    take its name from it (PostgreSQL refuses a NUL: the chunk would fail every retry)."""
    raw = bad.encode("utf-8", "surrogateescape") if bad != "\x00" else b"\x00"
    woo = ("\n".join([WOO_HEADER, "10,variable,TEE,Te@e,1,,,7", *(f"{n},simple,S-{n},Sé,1,1,,1" for n in range(20, 26)),
                      "30,variation,TEE-S,,1,5,TEE,parent"]) + "\n").encode().replace(b"@", raw)  # (é: UTF-8)
    shop = ("\n".join(["Handle,Title,Vendor,Variant SKU,Variant Price,Status", "hat,Wo@ol,Acme,HAT-0,5,draft",
                       *(f"cap-{n},Capé,Caps,CAP-{n},2,active" for n in range(6)), "hat,,,HAT-1,5,"]) + "\n"
            ).encode().replace(b"@", raw)
    for data, sku in ((woo, "TEE-S"), (shop, "HAT-1")):
        world = World(data, chunk_rows=3)
        world.invoke(*(world.record(n) for n in range(len(world.messages))))

        names = {r[2]: r[3] for call in world.ledger.calls for r in call["rows"]}
        assert sku not in names and all("\x00" not in n for n in names.values())
        assert sku in {e.sku for call in world.ledger.calls for e in call["errors"]}


def test_a_chunk_whose_file_was_deleted_fails_the_import_at_once_with_a_reason() -> None:
    """A deleted version cannot come back: every receive of every chunk left would fail the same way (an
    hour in AWS before the dead-letter queue). Found by a chaos test."""
    world = World()
    world.objects._versions.clear()  # the upload deleted after the split

    response = world.invoke(world.record(1))

    assert response == {"batchItemFailures": []}  # nothing to retry
    item = world.item()
    assert item["status"] == "failed" and "deleted while it was being imported" in item["error"]
    assert world.ledger.registry[world.import_id] == "failed"
    assert world.invoke(world.record(2)) == {"batchItemFailures": []}  # the next chunk ends quietly too


def test_a_failed_chunk_comes_back_sooner_each_time_and_never_later_than_without() -> None:
    """A blip costs seconds, and a chunk that always fails reaches the dead-letter queue (which fails its
    import) in minutes: 15, 30, 60, 120 s instead of 5 × the queue's 12-minute visibility timeout."""
    from functions.consumer.handler import RETRY_CEILING_S
    from infra.topology import QUEUES

    world = World()
    world.objects.broken.add(world.key)  # S3 answers InternalError
    delays: list[tuple[str, int]] = []
    world.ports.retry_later = lambda handle, seconds: delays.append((handle, seconds))

    for receive in (1, 2, 3):
        record = world.record(0, receive_count=receive)
        with pytest.raises(BatchProcessingError):  # (Powertools: every record of the batch failed)
            world.invoke(record)
        assert delays[-1] == (record["receiptHandle"], 15 * 2 ** (receive - 1))
    assert world.item()["status"] == "processing"  # still retried: the dead-letter handler decides the end
    assert QUEUES["chunks"].visibility_timeout_s > RETRY_CEILING_S


def test_rows_elsewhere_are_looked_up_in_the_files_first_bytes_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """A chunk near the end of a large file read it whole to find a parent that is not there (past the
    consumer's 120 s, once per chunk: the import failed through the dead-letter queue). The lookup reads at
    most ``ELSEWHERE_MAX_BYTES``; a parent beyond is a row error that says where parents are looked up, and
    the record the bound cuts is left out (its stock would be cut short: 12345 read as 12)."""
    consumer._parent_indexes.clear()
    head = f"{WOO_HEADER}\n"
    near = "10,variable,NEAR,Near,1,,,7\n"
    cut = "11,variable,CUT,Cut,1,,,12345\n"
    lines = [near, cut, *(f"{n},simple,S-{n},Simple {n},1,1,,1\n" for n in range(20, 26)),
             "30,variable,FAR,Far,1,,,9\n", "40,variation,NEAR-S,,1,5,NEAR,parent\n",
             "41,variation,CUT-S,,1,5,CUT,parent\n", "42,variation,FAR-S,,1,5,FAR,parent\n"]
    world = World((head + "".join(lines)).encode(), chunk_rows=3)
    budget = len(near) + len(cut) - 3  # ends inside CUT's stock
    monkeypatch.setattr(consumer, "ELSEWHERE_MAX_BYTES", budget)
    data_start = world.messages[0].start

    world.invoke(*(world.record(n) for n in range(len(world.messages))))

    lookups = [r for r in world.objects.reads if r[3] == data_start and r[4] != world.messages[0].end]
    assert lookups and all(r[4] <= data_start + budget for r in lookups)
    stock = {r[2]: r[7] for call in world.ledger.calls for r in call["rows"]}
    assert stock["NEAR-S"] == 7 and "CUT-S" not in stock
    errors = {e.sku: e.message for call in world.ledger.calls for e in call["errors"]}
    assert set(errors) == {"CUT-S", "FAR-S"}
    assert "looked up in the file's first 256 MiB" in errors["FAR-S"]


def test_a_shopify_family_is_looked_up_in_the_files_first_bytes_only(monkeypatch: pytest.MonkeyPatch) -> None:
    consumer._fruitless_family_lookups.clear()
    lines = ["Handle,Title,Vendor,Variant SKU,Variant Price,Option1 Name,Option1 Value,Status",
             *(f"cap-{n},Cap {n},Caps,CAP-{n},2.00,Title,Default Title,active" for n in range(6)),
             "hat,Wool Hat,Acme,HAT-0,5.00,Color,Grey,draft",
             *(f"mug-{n},Mug {n},Mugs,MUG-{n},2.00,Title,Default Title,active" for n in range(6)),
             "hat,,,HAT-1,5.00,,Red,"]
    world = World(("\n".join(lines) + "\n").encode(), chunk_rows=3)
    budget = len("\n".join(lines[1:7])) + 1  # the six caps: the hat's first row is past the bound
    monkeypatch.setattr(consumer, "ELSEWHERE_MAX_BYTES", budget)
    data_start = world.messages[0].start

    world.invoke(*(world.record(n) for n in range(len(world.messages))))

    lookups = [r for r in world.objects.reads if r[3] == data_start and r[4] != world.messages[0].end]
    assert lookups and all(r[4] <= data_start + budget for r in lookups)
    errors = [(e.sku, e.column) for call in world.ledger.calls for e in call["errors"]]
    assert errors == [("HAT-1", "name")]  # read on its own: no name of its own
