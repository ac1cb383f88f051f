"""The splitter handler with fake ports: S3 notification on the object-events queue in → chunks and progress out."""

from __future__ import annotations

import dataclasses
import itertools
import json
import os
import uuid
from urllib.parse import quote_plus

import pytest

# The deployed function has these in its environment (CDK, local stack); Powertools reads them at import.
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "ProductImporterTest")
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")

from product_importer.models import ChunkMessage, ImportTotals, SplitContinuation
from product_importer.pipeline.splitter import SplitLimits, SplitterPorts

from functions.splitter.handler import handler
from infra.local.events import S3_TEST_EVENT, LocalContext, s3_notification, sqs_event, sqs_record
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

HEADER = b"sku,name,price,color\n"


def catalog(rows: int, header: bytes = HEADER) -> bytes:
    return header + b"".join(f"SKU-{i},Product {i},{i}.50,red\n".encode() for i in range(1, rows + 1))


class World:
    """The splitter's ports, all fakes."""

    def __init__(self, *, max_upload_bytes: int = 10_000_000, max_drop_bytes: int = 10_000_000,
                 chunk_rows: int = 10, chunk_bytes: int = 8 << 20) -> None:
        self.objects = FakeObjectStore()
        self.chunks = FakeQueue()
        self.continuations = FakeQueue()
        self.progress = FakeProgress()
        self.ledger = FakeChunkLedger()
        self.plans = FakePlanStore()
        self.numbers = iter(range(100, 1000))
        self.ports = SplitterPorts(
            objects=self.objects,
            chunks=self.chunks,
            continuations=self.continuations,
            progress=self.progress,
            ledger=self.ledger,
            plans=self.plans,
            next_import_number=lambda: next(self.numbers),
            saved_mappings=list,
            limits=SplitLimits(max_upload_bytes=max_upload_bytes, max_drop_bytes=max_drop_bytes,
                               rows_per_chunk=chunk_rows, bytes_per_chunk=chunk_bytes, max_record_bytes=1 << 20),
            jobs=FakeJobLedger(self.ledger),
        )

    def upload(self, data: bytes) -> tuple[str, dict]:
        """An import waiting for its file, the file written, and the S3 notification of that write."""
        import_id = uuid.uuid4().hex
        pending_upload(self.progress, import_id)
        key = f"uploads/{import_id}.csv"
        version = self.objects.put(key, data)
        return import_id, s3_notification(BUCKET, key, size=len(data), version_id=version)

    def drop(self, key: str, data: bytes) -> dict:
        version = self.objects.put(key, data)
        return s3_notification(BUCKET, key, size=len(data), version_id=version, sequencer=f"seq-{version}")

    def invoke(self, *bodies: dict | str, context: LocalContext | None = None) -> tuple[dict, list[dict]]:
        records = [sqs_record(body, queue_url="http://local/object-events") for body in bodies]
        response = handler(sqs_event(records), context or LocalContext("splitter", 900), ports=self.ports)
        return response, records

    def all_chunks(self) -> list[ChunkMessage]:
        return self.chunks.messages()

    def finish_chunks(self, import_id: str) -> None:
        """Stand in for the consumers: commit every chunk sent (the ledger's totals)."""
        for message in self.all_chunks():
            if message.import_id == import_id:
                self.ledger.write_chunk(import_id=import_id, import_no=message.import_no, chunk_no=message.chunk_no,
                                        present_fields=(), rows=[], errors=[], rows_seen=message.rows)


def test_an_upload_is_split_into_row_aligned_chunks_pinned_to_its_version() -> None:
    world = World(chunk_rows=10)
    data = catalog(25)
    import_id, notification = world.upload(data)

    response, _ = world.invoke(notification)

    assert response == {"batchItemFailures": []}
    messages = world.chunks.messages()
    assert [m.chunk_no for m in messages] == [0, 1, 2]
    assert [m.rows for m in messages] == [10, 10, 5]
    assert [m.first_row for m in messages] == [1, 11, 21]
    assert messages[0].start == len(HEADER)
    assert all(a.end == b.start for a, b in itertools.pairwise(messages))
    assert messages[-1].end == len(data)
    assert {(m.import_id, m.import_no, m.bucket, m.key, m.version_id) for m in messages} == {
        (import_id, 7, BUCKET, f"uploads/{import_id}.csv", "v1")
    }
    assert all("header" not in body for body in world.chunks.sent)  # the plan is stored once, not copied
    plan = world.plans.get(import_id)
    assert plan is not None and plan.file_plan["names"] == ["sku", "name", "price", "color"]
    # The ranges hold exactly the data rows: chunk 1 starts with row 11.
    assert data[messages[1].start : messages[1].end].startswith(b"SKU-11,")
    item = world.progress.get_item(import_id)
    assert item is not None
    assert (item["status"], item["chunks_total"], item["rows_total"]) == ("processing", 3, 25)


def test_chunks_go_to_the_queue_in_batches_of_ten() -> None:
    world = World(chunk_rows=2)
    _, notification = world.upload(catalog(45))  # 23 chunks

    world.invoke(notification)

    assert len(world.chunks.sent) == 23
    assert world.chunks.batches == 3


def test_the_same_s3_event_delivered_twice_splits_once() -> None:
    world = World(chunk_rows=10)
    import_id, notification = world.upload(catalog(25))

    first, _ = world.invoke(notification)
    second, _ = world.invoke(notification)

    assert first == second == {"batchItemFailures": []}
    assert len(world.chunks.sent) == 3
    assert world.progress.writes("set_totals") == [import_id]


def test_an_s3_test_event_is_acknowledged_and_does_nothing() -> None:
    world = World()

    response, _ = world.invoke(S3_TEST_EVENT)

    assert response == {"batchItemFailures": []}
    assert world.progress.calls == []
    assert world.chunks.sent == []


def test_url_encoded_keys_are_decoded_before_reading_the_object() -> None:
    world = World()
    key = "incoming/partner a/Spring Sale+2026 (v2).csv"
    notification = world.drop(key, catalog(3))
    assert quote_plus("Spring Sale+2026", safe="/") in json.dumps(notification)  # S3 sends it encoded

    response, _ = world.invoke(notification)

    assert response == {"batchItemFailures": []}
    [item] = world.progress.items.values()
    assert (item["source"], item["filename"], item["status"]) == (
        "s3-drop",
        "Spring Sale+2026 (v2).csv",
        "processing",
    )
    assert item["object_key"] == key
    assert {m.key for m in world.chunks.messages()} == {key}


@pytest.mark.parametrize(
    "key",
    [
        "incoming/readme.txt",
        "incoming/data.csv.gz",
        "other/catalog.csv",
        "uploads/unknown-import.csv",
        "uploads/a/b.csv",
    ],
)
def test_keys_that_are_not_imports_are_ignored(key: str) -> None:
    world = World()
    notification = world.drop(key, catalog(3))

    response, _ = world.invoke(notification)

    assert response == {"batchItemFailures": []}
    assert world.progress.items == {}
    assert world.chunks.sent == []


def test_a_partner_drop_creates_its_own_import_and_a_new_version_makes_another() -> None:
    world = World(chunk_rows=10)
    first = world.drop("incoming/partner-a/x.csv", catalog(5))

    world.invoke(first)
    world.invoke(first)  # duplicate delivery of the same event
    second = world.drop("incoming/partner-a/x.csv", catalog(12))
    world.invoke(second)

    imports = sorted(world.progress.items.values(), key=lambda item: item["import_no"])
    assert [(i["source"], i["filename"], i["rows_total"], i["import_no"]) for i in imports] == [
        ("s3-drop", "x.csv", 5, 100),
        ("s3-drop", "x.csv", 12, 101),
    ]
    assert len(world.chunks.sent) == 1 + 2


def test_one_bad_record_in_a_batch_is_the_only_failure_reported() -> None:
    world = World()
    _, good_a = world.upload(catalog(3))
    bad_id, bad = world.upload(catalog(3))
    _, good_b = world.upload(catalog(3))
    world.objects.broken.add(f"uploads/{bad_id}.csv")

    response, records = world.invoke(good_a, bad, good_b)

    assert response == {"batchItemFailures": [{"itemIdentifier": records[1]["messageId"]}]}
    assert len(world.chunks.sent) == 2
    assert world.progress.get_item(bad_id)["status"] == "pending"  # type: ignore[index] # retried later


def test_a_retry_after_a_failure_mid_split_finishes_the_import() -> None:
    world = World(chunk_rows=10)
    import_id, notification = world.upload(catalog(25))
    world.progress.start(
        import_id, version_id="v1", etag=world.objects.head(BUCKET, f"uploads/{import_id}.csv", "v1").etag
    )

    response, _ = world.invoke(notification)  # processing, chunks_total unknown: a crashed earlier attempt

    assert response == {"batchItemFailures": []}
    assert world.progress.get_item(import_id)["chunks_total"] == 3  # type: ignore[index]


def test_a_file_over_the_size_limit_fails_the_import_before_any_chunk() -> None:
    world = World(max_upload_bytes=100)
    import_id, notification = world.upload(catalog(20))

    response, _ = world.invoke(notification)

    assert response == {"batchItemFailures": []}
    item = world.progress.get_item(import_id)
    assert item is not None and item["status"] == "failed"
    assert "maximum is 100 bytes" in item["error"]
    assert world.chunks.sent == []


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", "empty"),
        (b"sku,price\nA,1\n", "name"),
        (b"title,price\nA,1\n", "sku"),
        (b"id,price\nA,1\n", "sku, name"),
    ],
    ids=["zero-bytes", "no-name", "no-sku", "neither"],
)
def test_file_level_problems_fail_the_import_with_a_reason(data: bytes, expected: str) -> None:
    world = World()
    import_id, notification = world.upload(data)

    response, _ = world.invoke(notification)

    assert response == {"batchItemFailures": []}
    item = world.progress.get_item(import_id)
    assert item is not None and item["status"] == "failed"
    assert expected in item["error"]
    assert world.chunks.sent == []


def test_a_file_missing_columns_still_says_how_it_was_read() -> None:
    # A Windows-1252 export whose header lacks sku: the failed import shows the encoding and profile
    world = World()
    import_id, notification = world.upload("Désignation;Prix\nChaise;12,50\n".encode("cp1252"))

    world.invoke(notification)

    item = world.progress.get_item(import_id)
    assert item is not None and item["status"] == "failed" and "sku" in item["error"]
    assert (item.get("encoding"), item.get("profile")) == ("windows-1252", "generic")


def test_a_header_only_file_completes_with_zero_rows() -> None:
    world = World()
    import_id, notification = world.upload(HEADER)

    world.invoke(notification)

    item = world.progress.get_item(import_id)
    assert item is not None
    assert (item["status"], item["chunks_total"], item["rows_total"]) == ("completed", 0, 0)
    assert world.chunks.sent == []


def test_an_object_deleted_before_the_split_fails_its_import() -> None:
    world = World()
    import_id = uuid.uuid4().hex
    pending_upload(world.progress, import_id)
    notification = s3_notification(BUCKET, f"uploads/{import_id}.csv", size=10, version_id="v9")

    world.invoke(notification)

    item = world.progress.get_item(import_id)
    assert item is not None and item["status"] == "failed" and "no longer exists" in item["error"]


def test_without_a_version_in_the_event_identical_bytes_written_twice_still_make_two_imports() -> None:
    world = World()
    key = "incoming/partner-b/same.csv"
    data = catalog(3)

    def as_the_emulator_sends_it() -> dict:
        """moto's notifications carry neither the version id nor a sequencer: only key, size and ETag."""
        world.objects.put(key, data)
        notification = s3_notification(BUCKET, key, size=len(data), etag="same-etag", sequencer="")
        del notification["Records"][0]["s3"]["object"]["sequencer"]
        return notification

    first = as_the_emulator_sends_it()
    world.invoke(first)
    world.invoke(first)  # a duplicate delivery of that event
    world.invoke(as_the_emulator_sends_it())  # the same bytes written again

    imports = sorted(world.progress.items.values(), key=lambda item: item["import_no"])
    assert [(i["filename"], i["object_version"], i["status"]) for i in imports] == [
        ("same.csv", "v1", "processing"),
        ("same.csv", "v2", "processing"),
    ]


def test_a_failure_leaves_the_last_delivery_alone_the_dead_letter_handler_decides() -> None:
    world = World()
    import_id, notification = world.upload(catalog(3))
    world.objects.broken.add(f"uploads/{import_id}.csv")
    record = sqs_record(notification, queue_url="http://local/object-events", receive_count=3)

    with pytest.raises(Exception, match="All records failed"):
        handler(sqs_event([record]), LocalContext("splitter"), ports=world.ports)

    assert world.progress.get_item(import_id)["status"] in ("pending", "processing")  # type: ignore[index]
    assert world.progress.writes("fail") == []


# ---- completion decided on every delivery --------------------------------------------------------------


def test_a_crash_between_set_totals_and_completion_is_completed_by_the_redelivery() -> None:
    world = World(chunk_rows=10)
    import_id, notification = world.upload(catalog(25))
    real_committed = world.ledger.committed_totals
    world.ledger.committed_totals = lambda *a, **k: (_ for _ in ()).throw(  # type: ignore[method-assign]
        ConnectionError("killed after set_totals"))
    with pytest.raises(Exception, match="All records failed"):
        world.invoke(notification)
    world.ledger.committed_totals = real_committed  # type: ignore[method-assign]
    world.finish_chunks(import_id)  # every chunk committed meanwhile (their own completion came too early)
    assert world.progress.get_item(import_id)["chunks_total"] == 3  # type: ignore[index]

    world.invoke(notification)  # the redelivery

    item = world.progress.get_item(import_id)
    assert item is not None and (item["status"], item["chunks_done"], item["rows_processed"]) == ("completed", 3, 25)
    assert len(world.chunks.sent) == 3  # nothing split twice
    assert world.ledger.registry[import_id] == "completed"


def test_the_split_completes_an_import_whose_chunks_all_finished_before_it_learned_the_total() -> None:
    world = World(chunk_rows=10)
    import_id, notification = world.upload(catalog(5))
    real_set_totals = world.progress.set_totals

    def chunks_finish_first(import_id: str, *, chunks_total: int, rows_total: int) -> bool:
        world.finish_chunks(import_id)
        return real_set_totals(import_id, chunks_total=chunks_total, rows_total=rows_total)

    world.progress.set_totals = chunks_finish_first  # type: ignore[method-assign]
    world.invoke(notification)

    assert world.progress.get_item(import_id)["status"] == "completed"  # type: ignore[index]


# ---- pinned parameters, checkpoints and continuations ------------------------------------------------------


def test_a_retry_after_chunk_rows_changed_cuts_the_same_chunks() -> None:
    world = World(chunk_rows=10)
    _import_id, notification = world.upload(catalog(25))
    real_send = world.chunks.send_all

    def crash_after_two_batches(bodies):  # type: ignore[no-untyped-def]
        sent = real_send(itertools.islice(bodies, 2))
        raise ConnectionError(f"killed after {sent} chunks")

    world.chunks.send_all = crash_after_two_batches  # type: ignore[method-assign]
    with pytest.raises(Exception, match="All records failed"):
        world.invoke(notification)
    world.chunks.send_all = real_send  # type: ignore[method-assign]
    world.ports.limits = dataclasses.replace(world.ports.limits, rows_per_chunk=7)  # CHUNK_ROWS changed

    world.invoke(notification)

    cuts = {(m.chunk_no, m.start, m.end, m.rows) for m in world.chunks.messages()}
    assert sorted(r for _, _, _, r in cuts) == [5, 10, 10]  # the first split's 10 rows per chunk, not 7
    assert len(cuts) == 3


def test_a_file_that_cannot_be_split_in_one_invocation_continues_from_a_checkpoint() -> None:
    whole = World(chunk_rows=10)
    _, notification = whole.upload(catalog(95))
    whole.invoke(notification)
    expected = [(m.chunk_no, m.start, m.end, m.first_row, m.rows) for m in whole.chunks.messages()]

    world = World(chunk_rows=10)
    import_id, notification = world.upload(catalog(95))
    # The first chunk of an invocation is always sent; time is asked before each next one: 4 per invocation.
    context = _Deadline([1.0] * 3 + [-1.0] * 100)

    world.invoke(notification, context=context)
    rounds = 1
    while world.continuations.sent:
        body = world.continuations.sent.pop(0)
        SplitContinuation.model_validate(body)
        context.refill([1.0] * 3 + [-1.0] * 100)
        world.invoke(body, context=context)
        rounds += 1

    got = [(m.chunk_no, m.start, m.end, m.first_row, m.rows) for m in world.chunks.messages()]
    assert got == expected  # the same cuts as one uninterrupted pass
    assert rounds == 3  # 10 chunks, 4 per invocation
    item = world.progress.get_item(import_id)
    assert item is not None and (item["chunks_total"], item["rows_total"]) == (10, 95)


class _Deadline(LocalContext):
    """A Lambda context whose remaining time follows a script (seconds, one value per question)."""

    def __init__(self, script) -> None:  # type: ignore[no-untyped-def]
        super().__init__("splitter", 900)
        self.script = iter(script)

    def refill(self, script) -> None:  # type: ignore[no-untyped-def]
        self.script = iter(script)

    def get_remaining_time_in_millis(self) -> int:
        return int((next(self.script, -1.0) + 60.0) * 1000)  # + the 60 s margin the splitter keeps


def test_a_crash_before_the_continuation_went_out_resumes_from_the_checkpoint() -> None:
    world = World(chunk_rows=10)
    import_id, notification = world.upload(catalog(45))
    real_send = world.continuations.send_all
    world.continuations.send_all = lambda bodies: (_ for _ in ()).throw(  # type: ignore[method-assign]
        ConnectionError("killed before sending"))
    context = _Deadline([1.0, 1.0, -1.0])
    with pytest.raises(Exception, match="All records failed"):
        world.invoke(notification, context=context)
    stored = world.plans.checkpoint(import_id)
    assert stored is not None and not stored.sent and stored.position["chunk_no"] == 3  # 3 chunks went out
    world.continuations.send_all = real_send  # type: ignore[method-assign]

    world.invoke(notification)  # the redelivery of the original event

    assert sorted(m.chunk_no for m in world.chunks.messages()) == [0, 1, 2, 3, 4]
    assert world.progress.get_item(import_id)["chunks_total"] == 5  # type: ignore[index]


def test_a_stale_duplicate_continuation_is_dropped() -> None:
    world = World(chunk_rows=10)
    import_id, notification = world.upload(catalog(45))
    world.invoke(notification, context=_Deadline([1.0, -1.0]))  # one chunk, then a continuation at chunk 1
    first = world.continuations.sent.pop(0)
    world.invoke(first, context=_Deadline([1.0, -1.0]))  # chunk 1, then a continuation at chunk 2
    assert len(world.continuations.sent) == 1
    sent_before = len(world.chunks.sent)

    world.invoke(first)  # the first continuation again (an SQS duplicate)

    assert len(world.chunks.sent) == sent_before
    assert world.progress.get_item(import_id)["chunks_total"] is None  # type: ignore[index]


# ---- what fails at once --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"sku,name," + b"x" * (130 << 10) + b"\nA,B,C\n", "64 KiB"),
        (b"sku,name,co\x00lor\nA,B,C\n", "NUL"),
        (",".join(["sku", "name", *(f"c{i}" for i in range(1100))]).encode() + b"\nA,B\n", "1,024"),
        (b'sku,name,"never closed\n' + b"A,B,C\n" * 10, "quote"),
    ],
    ids=["cell-over-128-KiB", "nul", "too-many-columns", "open-quote"],
)
def test_header_faults_fail_the_import_at_once_with_a_reason(data: bytes, expected: str) -> None:
    world = World()
    import_id, notification = world.upload(data)

    response, _ = world.invoke(notification)

    assert response == {"batchItemFailures": []}  # never retried
    item = world.progress.get_item(import_id)
    assert item is not None and item["status"] == "failed", item
    assert expected in item["error"]
    assert world.ledger.registry[import_id] == "failed"
    assert world.chunks.sent == []


def test_drops_and_uploads_have_their_own_size_limits() -> None:
    world = World(max_upload_bytes=100, max_drop_bytes=10_000)
    upload_id, upload = world.upload(catalog(20))
    drop = world.drop("incoming/acme/feed.csv", catalog(20))
    too_big_drop = world.drop("incoming/acme/big.csv", catalog(600))

    world.invoke(upload)
    world.invoke(drop)
    world.invoke(too_big_drop)

    assert "maximum is 100 bytes" in world.progress.get_item(upload_id)["error"]  # type: ignore[index]
    by_name = {i["filename"]: i for i in world.progress.items.values()}
    assert by_name["feed.csv"]["status"] == "processing" and by_name["feed.csv"]["partner"] == "acme"
    assert by_name["big.csv"]["status"] == "failed" and "maximum is 10,000 bytes" in by_name["big.csv"]["error"]


# ---- encodings and families --------------------------------------------------------------------------------


def test_a_utf16_file_is_transcoded_once_and_its_utf8_copy_is_chunked() -> None:
    world = World(chunk_rows=2)
    text = "sku,name,color\r\nB-1,Bücher,grün\r\nB-2,Café,€ red\r\nB-3,Straße,blau\r\n"
    import_id, notification = world.upload(text.encode("utf-16"))

    world.invoke(notification)

    messages = world.chunks.messages()
    assert {m.key for m in messages} == {f"transcoded/{import_id}.csv"}
    copy = world.objects.read_range(BUCKET, messages[0].key, messages[0].version_id, 0, 10_000)
    assert copy == text.encode("utf-8")
    assert [copy[m.start : m.end] for m in messages] == ["B-1,Bücher,grün\r\nB-2,Café,€ red\r\n".encode(),
                                                         "B-3,Straße,blau\r\n".encode()]
    item = world.progress.get_item(import_id)
    assert item is not None and (item["encoding"], item["rows_total"]) == ("utf-16", 3)


def test_a_shopify_family_stays_in_one_chunk_and_a_long_one_passes_its_first_row_on() -> None:
    world = World(chunk_rows=3)
    rows = ["Handle,Title,Variant SKU,Variant Price"]
    for handle, variants in (("shirt", 2), ("hat", 5), ("mug", 1)):
        for v in range(variants):
            rows.append(f"{handle},{handle.title() if v == 0 else ''},{handle}-{v},1.00")
    data = ("\n".join(rows) + "\n").encode()
    _import_id, notification = world.upload(data)

    world.invoke(notification)

    messages = world.chunks.messages()
    families = [[line.split(b",")[0] for line in data[m.start : m.end].splitlines()] for m in messages]
    assert families == [[b"shirt", b"shirt"], [b"hat"] * 3, [b"hat", b"hat", b"mug"]]
    assert messages[0].context is None and messages[1].context is None
    assert messages[2].context is not None
    start, end = messages[2].context
    assert data[start:end] == b"hat,Hat,hat-0,1.00\n"


def test_an_applied_preview_is_split_from_its_request() -> None:
    world = World(chunk_rows=10)
    source_id, _ = world.upload(catalog(12))
    import_id = uuid.uuid4().hex
    pending_upload(world.progress, import_id, import_no=9)
    request = {"kind": "split", "import_id": import_id, "bucket": BUCKET, "key": f"uploads/{source_id}.csv",
               "version_id": "v1"}

    world.invoke(request)

    assert {(m.import_id, m.key, m.import_no) for m in world.chunks.messages()} == {
        (import_id, f"uploads/{source_id}.csv", 9)}
    assert world.progress.get_item(import_id)["rows_total"] == 12  # type: ignore[index]


def test_the_totals_of_an_empty_committed_import_are_zero() -> None:
    assert FakeChunkLedger().committed_totals("x") == ImportTotals(0, 0, 0, 0, 0, 0, 0)
