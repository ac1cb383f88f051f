"""The splitter handler with fake ports: S3 notification on the object-events queue in → chunks and progress out."""

from __future__ import annotations

import itertools
import json
import os
import uuid
from urllib.parse import quote_plus

import pytest

# The deployed function has these in its environment (CDK, local stack); Powertools reads them at import.
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "ProductImporterTest")
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")

from product_importer.pipeline.splitter import SplitterPorts

from functions.splitter.handler import handler
from infra.local.events import S3_TEST_EVENT, LocalContext, s3_notification, sqs_event, sqs_record
from tests.unit.fakes import BUCKET, FakeObjectStore, FakeProgress, FakeQueue, pending_upload

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

HEADER = b"sku,name,price,color\n"


def catalog(rows: int, header: bytes = HEADER) -> bytes:
    return header + b"".join(f"SKU-{i},Product {i},{i}.50,red\n".encode() for i in range(1, rows + 1))


class World:
    """The splitter's ports, all fakes."""

    def __init__(self, *, max_upload_bytes: int = 10_000_000, chunk_rows: int = 10) -> None:
        self.objects = FakeObjectStore()
        self.chunks = FakeQueue()
        self.progress = FakeProgress()
        self.numbers = iter(range(100, 1000))
        self.ports = SplitterPorts(
            objects=self.objects,
            chunks=self.chunks,
            progress=self.progress,
            next_import_number=lambda: next(self.numbers),
            max_upload_bytes=max_upload_bytes,
            chunk_rows=chunk_rows,
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

    def invoke(self, *bodies: dict | str) -> tuple[dict, list[dict]]:
        records = [sqs_record(body, queue_url="http://local/object-events") for body in bodies]
        response = handler(sqs_event(records), LocalContext("splitter"), ports=self.ports)
        return response, records


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
    assert {(m.import_id, m.import_no, m.bucket, m.key, m.version_id, m.header) for m in messages} == {
        (import_id, 7, BUCKET, f"uploads/{import_id}.csv", "v1", "sku,name,price,color")
    }
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


def test_an_object_that_cannot_be_split_on_its_last_receive_fails_its_import() -> None:
    world = World()
    import_id, notification = world.upload(catalog(3))
    world.objects.broken.add(f"uploads/{import_id}.csv")
    record = sqs_record(
        notification, queue_url="http://local/object-events", receive_count=3
    )  # maxReceiveCount

    with pytest.raises(Exception, match="All records failed"):
        handler(sqs_event([record]), LocalContext("splitter"), ports=world.ports)

    item = world.progress.get_item(import_id)
    assert item is not None and item["status"] == "failed"
    assert "could not be split after 3 attempts" in item["error"]


def test_an_object_that_fails_before_its_last_receive_is_retried_and_its_import_stays_open() -> None:
    world = World()
    import_id, notification = world.upload(catalog(3))
    world.objects.broken.add(f"uploads/{import_id}.csv")
    record = sqs_record(notification, queue_url="http://local/object-events", receive_count=2)

    with pytest.raises(Exception, match="All records failed"):
        handler(sqs_event([record]), LocalContext("splitter"), ports=world.ports)

    item = world.progress.get_item(import_id)
    assert item is not None and item["status"] in ("pending", "processing")
