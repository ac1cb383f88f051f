"""The whole pipeline on the local stack: S3 → splitter → SQS → consumers → PostgreSQL + DynamoDB progress.

Exactly-once effects over at-least-once delivery (DESIGN decision 2): duplicate S3 events, duplicate and
concurrent chunk deliveries and a consumer killed between the PostgreSQL commit and the progress update
all leave exact counts.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import httpx
import psycopg
import pytest
from product_importer.aws import client as aws_client
from product_importer.db.connection import connect
from product_importer.db.job_ledger import PostgresJobLedger
from product_importer.db.ledger import PostgresChunkLedger
from product_importer.db.plans import PgPlanStore
from product_importer.ingest.plan import ENCODING_HINT, SNIFF_BYTES
from product_importer.models import ImportTotals
from product_importer.pipeline.consumer import ConsumerPorts, process_chunk
from product_importer.ports import ProgressStore
from product_importer.progress import DynamoProgressStore
from product_importer.storage import S3ObjectStore, SqsMessageQueue

from tests import pg
from tests.integration.stack_fixture import HEADER, PipelineStack, csv_rows, running_pipeline, unique

pytestmark = pytest.mark.slow

CHUNK_ROWS = 500


@pytest.fixture(scope="module")
def pipeline(
    databases: pg.EmbeddedDatabases, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PipelineStack]:
    with running_pipeline(
        databases,
        tmp_path_factory.mktemp("stack"),
        chunk_rows=CHUNK_ROWS,
        visibility_overrides={"chunks": 2, "object-events": 5},
    ) as stack:
        yield stack


def assert_exact(
    imp: dict, *, rows: int, failed: int, created: int, updated: int = 0, unchanged: int = 0, chunks: int
) -> None:
    assert imp["status"] == "completed", imp
    assert imp["error"] is None
    assert (imp["rows_total"], imp["rows_processed"], imp["rows_imported"], imp["rows_failed"]) == (
        rows,
        rows,
        rows - failed,
        failed,
    )
    assert (imp["products_created"], imp["products_updated"], imp["products_unchanged"]) == (
        created,
        updated,
        unchanged,
    )
    assert (imp["chunks_total"], imp["chunks_done"]) == (chunks, chunks)
    assert imp["started_at"] and imp["finished_at"]


def test_an_upload_is_imported_through_the_event_pump_with_exact_counts(pipeline: PipelineStack) -> None:
    prefix = unique("WHOLE")
    bad = {7, 1234, 4999}
    data = HEADER + csv_rows(prefix, 5000, bad=bad)

    import_id = pipeline.upload(data, filename="whole.csv")
    imp = pipeline.wait_for(import_id)

    assert_exact(imp, rows=5000, failed=3, created=4997, chunks=10)
    assert (imp["filename"], imp["source"]) == ("whole.csv", "upload")
    assert pipeline.product_count(prefix) == 4997
    [(name, price, attributes, last_import)] = pipeline.sql(
        "SELECT name, price, attributes, last_import_id FROM products WHERE sku_key = %s",
        (f"{prefix.lower()}-002500",),
    )
    assert (name, price, attributes, last_import) == (
        "Product 2500",
        Decimal("2500.25"),
        {"color": "blue"},
        import_id,
    )
    errors = pipeline.api.get(f"/api/imports/{import_id}/errors").json()
    assert [(e["row"], e["column"], e["sku"]) for e in errors["items"]] == [
        (n, "price", f"{prefix}-{n:06d}") for n in sorted(bad)
    ]
    assert pipeline.sql("SELECT count(*) FROM chunk_ledger WHERE import_id = %s", (import_id,)) == [(10,)]


def test_rows_past_the_first_mib_that_are_not_utf8_suggest_the_encoding_override(pipeline: PipelineStack) -> None:
    """CONTRACT §1: the first MiB is clean UTF-8, so the file is read as UTF-8; a later row in Windows-1252
    fails on its own, and the import's warnings still suggest the override (a chunk found it, not the
    header's sniff)."""
    prefix = unique("LATE")
    filler = "x" * 2000
    rows = b"".join(f"{prefix}-{n},Product {n},1.00,{filler}\n".encode() for n in range(1, 601))
    data = HEADER + rows + f"{prefix}-601,Caf\u00e9,1.00,{filler}\n".encode("cp1252")
    assert len(data) > SNIFF_BYTES

    imp = pipeline.wait_for(pipeline.upload(data, filename="late.csv"))

    assert (imp["status"], imp["encoding"], imp["rows_failed"]) == ("completed", "utf-8", 1), imp
    assert imp["warnings"] == [ENCODING_HINT]


@pytest.mark.parametrize("content_type", ["text/csv; charset=windows-1252", "text/csv; charset=ISO-8859-1"])
def test_a_drop_whose_content_type_declares_windows_1252_is_read_so(pipeline: PipelineStack,
                                                                    content_type: str) -> None:
    """A partner cannot set ``encoding`` on a drop, and the warning above told it to "import it again
    with encoding windows-1252": every accented row past the first MiB failed, drop after drop. The
    object's Content-Type charset is the override now (``aws s3 cp --content-type``)."""
    prefix = unique("DECLARED")
    filler = "x" * 2000
    rows = b"".join(f"{prefix}-{n},Product {n},1.00,{filler}\n".encode() for n in range(1, 601))
    data = HEADER + rows + f"{prefix}-601,Caf\u00e9 cr\u00e8me,1.00,{filler}\n".encode("cp1252")
    assert len(data) > SNIFF_BYTES
    filename = f"{prefix.lower()}.csv"

    pipeline.s3.put_object(Bucket=pipeline.bucket, Key=f"incoming/declared/{filename}", Body=data,
                           ContentType=content_type)
    [imp] = pipeline.wait_for_import_of(filename)
    imp = pipeline.wait_for(imp["id"])

    assert (imp["status"], imp["encoding"], imp["rows_failed"], imp["warnings"]) == (
        "completed", "windows-1252", 0, []), imp
    product = pipeline.api.get(f"/api/products/{prefix}-601").json()
    assert product["name"] == "Caf\u00e9 cr\u00e8me"


@pytest.mark.parametrize("codec", ["utf-8", "utf-16"])
def test_a_drop_whose_bytes_tell_their_encoding_is_read_so_whatever_its_label(pipeline: PipelineStack,
                                                                            codec: str) -> None:
    """Tools label everything ISO-8859-1: a first MiB of valid UTF-8 beyond ASCII, or a UTF-16 byte-order
    mark, wins over the label; else "Café" would be stored as "CafÃ©" without a single row error, and a
    UTF-16 file would fail with a header of garbage."""
    prefix = unique("LABEL")
    filename = f"{prefix.lower()}.csv"
    data = (HEADER.decode() + f"{prefix}-1,Caf\u00e9,1.00,red\n").encode(codec)  # utf-16: with its BOM

    pipeline.s3.put_object(Bucket=pipeline.bucket, Key=f"incoming/declared/{filename}", Body=data,
                           ContentType="text/csv; charset=ISO-8859-1")
    [imp] = pipeline.wait_for_import_of(filename)
    imp = pipeline.wait_for(imp["id"])

    assert (imp["status"], imp["encoding"], imp["rows_failed"]) == ("completed", codec, 0), imp
    assert pipeline.api.get(f"/api/products/{prefix}-1").json()["name"] == "Caf\u00e9"


def test_a_second_import_of_the_same_skus_updates_and_counts_unchanged_rows(pipeline: PipelineStack) -> None:
    prefix = unique("AGAIN")
    first = pipeline.upload(HEADER + csv_rows(prefix, 1200), filename="v1.csv")
    pipeline.wait_for(first)
    changed = csv_rows(prefix, 600, price="{n}.99") + csv_rows(prefix, 600, start=601)

    second = pipeline.upload(HEADER + changed, filename="v2.csv")

    assert_exact(
        pipeline.wait_for(second), rows=1200, failed=0, created=0, updated=600, unchanged=600, chunks=3
    )
    assert pipeline.sql("SELECT price FROM products WHERE sku_key = %s", (f"{prefix.lower()}-000001",)) == [
        (Decimal("1.99"),)
    ]


def test_a_duplicate_s3_event_makes_no_second_import_and_no_double_counts(pipeline: PipelineStack) -> None:
    prefix = unique("DUPEV")
    import_id = pipeline.upload(HEADER + csv_rows(prefix, 1500), filename="dup-event.csv")
    before = pipeline.wait_for(import_id)
    imports_before = len(pipeline.imports())

    pipeline.send("object-events", pipeline.notification_for(f"uploads/{import_id}.csv"))
    pipeline.wait_until_idle("object-events", "chunks")

    assert pipeline.get_import(import_id) == before
    assert_exact(before, rows=1500, failed=0, created=1500, chunks=3)
    assert len(pipeline.imports()) == imports_before
    assert pipeline.sql("SELECT count(*) FROM chunk_ledger WHERE import_id = %s", (import_id,)) == [(3,)]


def test_the_same_chunk_delivered_twice_and_concurrently_counts_once(pipeline: PipelineStack) -> None:
    prefix = unique("DUPCH")
    messages = pipeline.manual_import(HEADER + csv_rows(prefix, 2000, bad={10}), chunk_rows=CHUNK_ROWS)
    first, *rest = messages

    # The same message four times in one batch send: both consumers take copies at once.
    pipeline.send_chunks(first, first, first, first)
    pipeline.wait_until_idle("chunks")
    pipeline.send_chunks(*rest, *rest)
    imp = pipeline.wait_for(first.import_id)

    assert_exact(imp, rows=2000, failed=1, created=1999, chunks=4)
    assert pipeline.product_count(prefix) == 1999
    assert pipeline.sql("SELECT count(*) FROM row_errors WHERE import_id = %s", (first.import_id,)) == [(1,)]


@pytest.fixture
def consumer_ports(pipeline: PipelineStack) -> Iterator[Callable[[ProgressStore], ConsumerPorts]]:
    """The consumer's real adapters, in this process, each with a PostgreSQL connection of its own."""
    opened: list[psycopg.Connection] = []

    def build(progress: ProgressStore) -> ConsumerPorts:
        conn = connect(pipeline.database_url)
        opened.append(conn)
        return ConsumerPorts(
            objects=S3ObjectStore(aws_client("s3")), progress=progress, ledger=PostgresChunkLedger(lambda: conn),
            plans=PgPlanStore(lambda: conn), jobs=PostgresJobLedger(lambda: conn),
            chunks=SqsMessageQueue(aws_client("sqs"), pipeline.resources.queue_urls["chunks"]),
        )

    yield build
    for conn in opened:
        conn.close()


def test_the_same_chunk_processed_by_racing_consumers_is_written_once(
    pipeline: PipelineStack, consumer_ports: Callable[[ProgressStore], ConsumerPorts]
) -> None:
    prefix = unique("RACE")
    [message] = pipeline.manual_import(HEADER + csv_rows(prefix, 400), chunk_rows=CHUNK_ROWS)
    ports = [consumer_ports(pipeline.progress) for _ in range(6)]
    barrier = threading.Barrier(len(ports))
    results: list[object] = [None] * len(ports)

    def consume(i: int) -> None:
        barrier.wait()
        results[i] = process_chunk(message, ports[i])

    threads = [threading.Thread(target=consume, args=(i,)) for i in range(len(ports))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sum(not r.chunk.replayed for r in results) == 1  # type: ignore[attr-defined]
    assert_exact(pipeline.get_import(message.import_id), rows=400, failed=0, created=400, chunks=1)


class CrashAfterCommit(DynamoProgressStore):
    """A progress store whose first ``record_snapshot`` dies: the consumer was killed after its commit."""

    def __init__(self, table: str, client: object) -> None:
        super().__init__(table, client)
        self.crashed = False

    def record_snapshot(self, import_id: str, totals: ImportTotals) -> dict[str, Any] | None:
        if not self.crashed:
            self.crashed = True
            raise SystemExit("consumer killed between the PostgreSQL commit and the progress update")
        return super().record_snapshot(import_id, totals)


def test_a_consumer_killed_after_the_commit_is_repaired_by_the_redelivery(
    pipeline: PipelineStack, consumer_ports: Callable[[ProgressStore], ConsumerPorts]
) -> None:
    prefix = unique("KILL")
    *first, last = pipeline.manual_import(HEADER + csv_rows(prefix, 1500, bad={3}), chunk_rows=CHUNK_ROWS)
    import_id = last.import_id
    pipeline.send_chunks(*first)
    pipeline.wait_for(import_id, until=lambda imp: imp["chunks_done"] == 2)
    crashing = CrashAfterCommit(pipeline.resources.progress_table, pipeline.dynamodb)

    with pytest.raises(SystemExit):
        process_chunk(last, consumer_ports(crashing))  # the last chunk: nothing else will repair it

    committed = pipeline.sql(
        "SELECT chunks_done, rows_processed FROM import_totals WHERE import_id = %s", (import_id,)
    )
    assert committed == [(3, 1500)]
    lost = pipeline.get_import(import_id)
    assert (lost["status"], lost["chunks_done"], lost["rows_processed"]) == ("processing", 2, 1000)
    pipeline.send_chunks(last)  # SQS redelivers the message whose consumer was killed

    assert_exact(pipeline.wait_for(import_id), rows=1500, failed=1, created=1499, chunks=3)
    assert pipeline.product_count(prefix) == 1499
    assert pipeline.sql("SELECT count(*) FROM row_errors WHERE import_id = %s", (import_id,)) == [(1,)]


def test_a_partner_drop_starts_its_own_import_and_writing_it_again_starts_another(
    pipeline: PipelineStack,
) -> None:
    prefix = unique("DROP")
    folder = f"incoming/{prefix.lower()}/deep"

    pipeline.drop(f"{folder}/x.csv", HEADER + csv_rows(prefix, 700))
    [first] = pipeline.wait_for_import_of("x.csv")
    first = pipeline.wait_for(first["id"])
    pipeline.send("object-events", pipeline.notification_for(f"{folder}/x.csv"))  # the same event again
    pipeline.wait_until_idle("object-events")
    pipeline.drop(f"{folder}/x.csv", HEADER + csv_rows(prefix, 700, price="{n}.50"))  # a new version
    found = pipeline.wait_for_import_of("x.csv", count=2)

    assert len([i for i in pipeline.imports() if i["filename"] == "x.csv"]) == 2
    assert (first["source"], first["filename"]) == ("s3-drop", "x.csv")
    assert_exact(first, rows=700, failed=0, created=700, chunks=2)
    second = pipeline.wait_for(found[1]["id"])
    assert second["id"] != first["id"] and second["source"] == "s3-drop"
    assert_exact(second, rows=700, failed=0, created=0, updated=700, chunks=2)


def test_a_partner_file_with_an_encoded_name_keeps_its_name(pipeline: PipelineStack) -> None:
    prefix = unique("NAME")
    filename = f"Spring Sale+{prefix} (final).csv"

    pipeline.drop(f"incoming/{filename}", HEADER + csv_rows(prefix, 3))

    [imp] = pipeline.wait_for_import_of(filename)
    assert_exact(pipeline.wait_for(imp["id"]), rows=3, failed=0, created=3, chunks=1)


@pytest.mark.parametrize("extension", [".CSV", ".Csv"])
def test_a_drop_named_in_capitals_is_a_drop_too(pipeline: PipelineStack, extension: str) -> None:
    """Partner systems on Windows write FEED.CSV; S3's suffix filter is case-sensitive (CONTRACT §4)."""
    prefix = unique("CAPS")
    filename = f"{prefix}{extension}"

    pipeline.drop(f"incoming/caps/{filename}", HEADER + csv_rows(prefix, 3))

    [imp] = pipeline.wait_for_import_of(filename)
    assert_exact(pipeline.wait_for(imp["id"]), rows=3, failed=0, created=3, chunks=1)


def test_a_drop_failed_by_its_saved_mapping_shows_that_mapping(pipeline: PipelineStack) -> None:
    """A partner's drop that the prefix's saved mapping could not read (the mapping names a column the file
    lacks) ended failed with ``mapping`` null: the partner could not tell which saved mapping had applied
    (CONTRACT §1: the import's mapping is the mapping in effect, with the saved mapping's id)."""
    partner = unique("MAPPED").lower()
    saved = pipeline.api.post("/api/mappings", json={
        "name": partner, "prefix": f"incoming/{partner}/", "mapping": {"Code": "sku", "Label": "name"}})
    assert saved.status_code == 201, saved.text

    pipeline.drop(f"incoming/{partner}/{partner}-good.csv", b"Code,Label\nG1,Good\n")
    pipeline.drop(f"incoming/{partner}/{partner}-renamed.csv", b"Item Code,Label\nG2,Renamed\n")
    [good] = pipeline.wait_for_import_of(f"{partner}-good.csv")
    [renamed] = pipeline.wait_for_import_of(f"{partner}-renamed.csv")
    good = pipeline.wait_for(good["id"])
    renamed = pipeline.wait_for(renamed["id"], until=lambda imp: imp["status"] == "failed")

    expected = {"Code": "sku", "Label": "name", "id": saved.json()["id"]}
    assert good["status"] == "completed" and good["mapping"] == expected
    assert "missing required column: sku" in renamed["error"] and '"Code"' in renamed["error"]
    assert renamed["mapping"] == expected


def test_a_non_csv_drop_is_ignored(pipeline: PipelineStack) -> None:
    before = len(pipeline.imports())

    pipeline.drop("incoming/notes.txt", b"sku,name\nA,B\n")
    pipeline.drop("elsewhere/catalog.csv", b"sku,name\nA,B\n")
    pipeline.wait_until_idle("object-events")

    assert len(pipeline.imports()) == before


def test_the_same_bytes_dropped_twice_are_two_writes_and_two_imports(pipeline: PipelineStack) -> None:
    prefix = unique("TWICE")
    key = f"incoming/{prefix.lower()}.csv"
    data = HEADER + csv_rows(prefix, 10)

    pipeline.drop(key, data)
    [first] = pipeline.wait_for_import_of(f"{prefix.lower()}.csv")
    pipeline.wait_for(first["id"])
    pipeline.drop(key, data)  # same ETag, new version

    imports = pipeline.wait_for_import_of(f"{prefix.lower()}.csv", count=2)
    assert imports[0]["id"] != imports[1]["id"]
    assert_exact(pipeline.wait_for(imports[1]["id"]), rows=10, failed=0, created=0, unchanged=10, chunks=1)



def _preview(pipeline: PipelineStack, data: bytes) -> dict[str, Any]:
    created = pipeline.api.post("/api/imports", json={"filename": "pinned.csv", "size": len(data), "mode": "preview"})
    assert created.status_code == 201, created.text
    upload = created.json()["upload"]
    reply = httpx.post(upload["url"], data=upload["fields"], files={"file": ("pinned.csv", data, "text/csv")})
    assert reply.status_code in (200, 201, 204), reply.text
    return pipeline.wait_for(created.json()["import"]["id"], until=lambda imp: imp["status"] in ("previewed", "failed"))


def _apply(pipeline: PipelineStack, preview_id: str) -> dict[str, Any]:
    applied = pipeline.api.post(f"/api/imports/{preview_id}/apply")
    assert applied.status_code == 201, applied.text
    return pipeline.wait_for(applied.json()["import"]["id"])


def test_an_applied_preview_keeps_the_saved_mapping_it_was_previewed_with(pipeline: PipelineStack) -> None:
    """CONTRACT §2: apply imports the file "with the same mapping and options" as the preview. Found by an
    audit: the applied import looked the saved mappings up again, so one edited between preview and apply
    read the file another way (prices became stock) than the preview had shown."""
    sku = unique("PIN")
    headers = [f"Nummer {sku}", "Titel", "Preis"]
    saved = pipeline.api.post("/api/mappings", json={
        "name": sku, "headers": headers, "mapping": {headers[0]: "sku", "Titel": "name", "Preis": "price"}})
    assert saved.status_code == 201, saved.text
    preview = _preview(pipeline, f"{','.join(headers)}\n{sku},Lamp,12.50\n".encode())
    assert preview["status"] == "previewed" and preview["mapping"]["id"] == saved.json()["id"]
    edited = pipeline.api.put(f"/api/mappings/{saved.json()['id']}", json={
        "name": sku, "headers": headers, "mapping": {headers[0]: "sku", "Titel": "name", "Preis": "quantity"}})
    assert edited.status_code == 200, edited.text

    applied = _apply(pipeline, preview["id"])

    assert applied["status"] == "completed" and applied["mapping"] == preview["mapping"]
    product = pipeline.api.get(f"/api/products/{sku}").json()
    assert (Decimal(product["price"]), product["quantity"]) == (Decimal("12.50"), 0)


def test_an_applied_preview_keeps_what_its_saved_mapping_said_of_a_column_named_id(pipeline: PipelineStack) -> None:
    """The Import's ``mapping`` carries the saved mapping's ``id`` under the key "id", which hides the
    target of a column named ``id``; apply rebuilt the mapping from it: a saved ``{"id": "sku", …}`` was
    applied without its sku column, and the file its preview had read failed ("missing required column: sku")."""
    sku = unique("IDCOL")
    headers = ["id", "Titel", f"Ref {sku}"]
    saved = pipeline.api.post("/api/mappings", json={
        "name": sku, "headers": headers, "mapping": {"id": "sku", "Titel": "name", f"Ref {sku}": "ignore"}})
    assert saved.status_code == 201, saved.text
    preview = _preview(pipeline, f"{','.join(headers)}\n{sku},Lamp,r1\n".encode())
    assert (preview["status"], preview["products_created"]) == ("previewed", 1), preview

    applied = _apply(pipeline, preview["id"])

    assert (applied["status"], applied["products_created"], applied["error"]) == ("completed", 1, None), applied
    assert applied["mapping"] == preview["mapping"] and applied["mapping"]["id"] == saved.json()["id"]
    product = pipeline.api.get(f"/api/products/{sku}").json()
    assert (product["name"], product["attributes"]) == ("Lamp", {})


def test_an_import_under_a_saved_mapping_shows_how_it_read_a_column_named_id(pipeline: PipelineStack) -> None:
    """The Import's ``mapping`` put the saved mapping's ``id`` over the key of a column written ``id``: a
    saved ``{"id": "attribute", …}`` showed as ``{"id": "<mapping id>", …}``, and nothing said how the id
    column was read (the UI listed one column fewer). The column shows under "ID", the same header by
    CONTRACT §1's case-insensitive names, and that mapping sent back reads the file the same way."""
    sku = unique("IDSHOW")
    headers = ["id", "Item Code", "Titel"]
    saved = pipeline.api.post("/api/mappings", json={
        "name": sku, "headers": headers, "mapping": {"id": "attribute", "Item Code": "sku", "Titel": "name"}})
    assert saved.status_code == 201, saved.text
    data = f"{','.join(headers)}\n17,{sku},Lamp\n".encode()

    imported = pipeline.wait_for(pipeline.upload(data, filename=f"{sku}.csv"))

    assert imported["status"] == "completed", imported
    assert imported["mapping"] == {"ID": "attribute", "Item Code": "sku", "Titel": "name", "id": saved.json()["id"]}
    shown = {k: v for k, v in imported["mapping"].items() if k != "id"}
    assert pipeline.api.delete(f"/api/mappings/{saved.json()['id']}").status_code == 204
    created = pipeline.api.post("/api/imports", json={"filename": f"{sku}-again.csv", "mapping": shown})
    assert created.status_code == 201, created.text
    pipeline.put_upload(created.json()["import"]["id"], data)
    again = pipeline.wait_for(created.json()["import"]["id"])
    assert (again["status"], again["products_unchanged"], again["mapping"]) == ("completed", 1, shown), again
    assert pipeline.api.get(f"/api/products/{sku}").json()["attributes"] == {"id": "17"}


def test_an_applied_preview_ignores_a_saved_mapping_made_after_the_preview(pipeline: PipelineStack) -> None:
    sku = unique("UNPIN")
    headers = ["sku", "name", f"Preis {sku}"]
    preview = _preview(pipeline, f"{','.join(headers)}\n{sku},Lamp,12.50\n".encode())
    assert preview["status"] == "previewed" and preview["mapping"] is None
    saved = pipeline.api.post("/api/mappings", json={"name": sku, "headers": headers, "mapping": {headers[2]: "price"}})
    assert saved.status_code == 201, saved.text

    applied = _apply(pipeline, preview["id"])

    assert applied["status"] == "completed" and applied["mapping"] is None
    product = pipeline.api.get(f"/api/products/{sku}").json()
    assert product["price"] is None and product["attributes"] == {headers[2]: "12.50"}
