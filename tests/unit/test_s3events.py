"""parse_notification: S3 ObjectCreated notification bodies, as they arrive on the object-events queue."""

from __future__ import annotations

import json

from product_importer.pipeline.s3events import ObjectCreated, parse_notification

from infra.local.events import S3_TEST_EVENT, s3_notification


def test_an_object_created_record_is_parsed_with_its_version() -> None:
    body = json.dumps(
        s3_notification("bucket", "uploads/abc.csv", size=1234, etag="e1", version_id="v1", sequencer="S1")
    )

    assert parse_notification(body) == [
        ObjectCreated(
            bucket="bucket", key="uploads/abc.csv", size=1234, etag="e1", version_id="v1", sequencer="S1"
        )
    ]


def test_keys_are_url_decoded_with_plus_as_space() -> None:
    body = json.dumps(s3_notification("bucket", "incoming/Spring Sale+50% ö.csv"))
    assert "Spring+Sale%2B50%25" in body

    [created] = parse_notification(body)

    assert created.key == "incoming/Spring Sale+50% ö.csv"


def test_the_s3_test_event_and_garbage_yield_nothing() -> None:
    assert parse_notification(json.dumps(S3_TEST_EVENT)) == []
    assert parse_notification("not json") == []
    assert parse_notification("[1, 2]") == []
    assert parse_notification("{}") == []


def test_only_object_created_records_count() -> None:
    body = s3_notification("bucket", "incoming/a.csv")
    removed = json.loads(json.dumps(body["Records"][0]))
    removed["eventName"] = "ObjectRemoved:Delete"
    body["Records"].append(removed)

    assert [c.key for c in parse_notification(json.dumps(body))] == ["incoming/a.csv"]


def test_identity_tells_a_duplicate_event_from_a_new_version() -> None:
    [first] = parse_notification(json.dumps(s3_notification("b", "incoming/a.csv", version_id="v1")))
    [again] = parse_notification(json.dumps(s3_notification("b", "incoming/a.csv", version_id="v1")))
    [newer] = parse_notification(json.dumps(s3_notification("b", "incoming/a.csv", version_id="v2")))
    # Without versioning, the sequencer tells writes apart.
    [unversioned_1] = parse_notification(json.dumps(s3_notification("b", "incoming/a.csv", sequencer="A1")))
    [unversioned_2] = parse_notification(json.dumps(s3_notification("b", "incoming/a.csv", sequencer="A2")))

    assert first.identity == again.identity
    assert first.identity != newer.identity
    assert unversioned_1.identity != unversioned_2.identity
