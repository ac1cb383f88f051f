"""Broadcaster: coalescing a stream batch, routing to subscribers, and Gone (410) handling."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from product_importer.models import Import, ImportStatus, event_occasion, event_occasion_of_item
from product_importer.progress import import_from_item, to_item
from product_importer.realtime.broadcast import (
    MAX_MESSAGE_BYTES,
    ConnectionPoster,
    broadcast_update,
    coalesce,
    encode_update,
)

from functions.broadcaster.handler import BroadcasterPorts, handler
from infra.local.events import LocalContext, stream_event, stream_record


@pytest.fixture(autouse=True)
def _metrics_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")


def image(import_id: str, status: str = "processing", chunks_done: int = 0, **extra: Any) -> dict[str, Any]:
    values = {
        "id": import_id,
        "filename": f"{import_id}.csv",
        "source": "upload",
        "status": status,
        "chunks_done": chunks_done,
        "chunks_total": 10,
        "created_at": "2026-01-01T00:00:00.000Z",
        "import_no": 7,
        "kind": "import",
        **extra,
    }
    return to_item(values)


def record(import_id: str, seq: int, status: str = "processing", chunks_done: int = 0) -> dict[str, Any]:
    return stream_record(image(import_id, status, chunks_done), sequence=str(seq))


def an_import(import_id: str = "imp-1", status: ImportStatus = ImportStatus.PROCESSING) -> Import:
    return Import(
        id=import_id, filename="a.csv", source="upload", status=status, created_at="2026-01-01T00:00:00Z"
    )


class FakeSubscriptions:
    def __init__(self, by_import: dict[str, set[str]]) -> None:
        self.by_import = by_import
        self.forgotten: list[str] = []

    def subscribers(self, import_ids: Iterable[str]) -> set[str]:
        return set().union(*(self.by_import.get(i, set()) for i in import_ids))

    def forget(self, connection_id: str) -> None:
        self.forgotten.append(connection_id)
        for ids in self.by_import.values():
            ids.discard(connection_id)


class FakeQueue:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def send_all(self, bodies: Iterable[dict[str, Any]]) -> int:
        items = list(bodies)
        self.sent.extend(items)
        return len(items)


def management_client() -> Any:
    return boto3.client(
        "apigatewaymanagementapi",
        endpoint_url="http://gateway.invalid",
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
    )


def gone(stubber: Stubber) -> None:
    stubber.add_client_error("post_to_connection", service_error_code="GoneException", http_status_code=410)


# -- coalescing -----------------------------------------------------------------------------------------


def test_coalesce_keeps_the_newest_image_per_import_in_stream_order() -> None:
    # given a batch interleaving two imports, out of sequence order
    records = [
        record("a", 3, chunks_done=2),
        record("b", 4, chunks_done=1),
        record("a", 1, chunks_done=1),
        record("a", 6, chunks_done=3),
        record("b", 5, chunks_done=2),
    ]
    # when it is coalesced
    kept = coalesce(records)
    # then one record per import remains, the newest, ordered by sequence
    assert [(r["dynamodb"]["NewImage"]["id"]["S"], r["dynamodb"]["SequenceNumber"]) for r in kept] == [
        ("b", "5"),
        ("a", "6"),
    ]


def test_coalesce_never_drops_a_final_status() -> None:
    # given a final image followed (impossibly, but defensively) by a later non-final one
    records = [record("a", 2, status="completed", chunks_done=10), record("a", 3, chunks_done=9)]
    # then the final one is what gets broadcast
    [kept] = coalesce(records)
    assert kept["dynamodb"]["NewImage"]["status"]["S"] == "completed"


def test_coalesce_keeps_each_end_once_when_a_revert_follows_the_completion() -> None:
    # given a completed import whose revert started, moved and ended within one batch
    records = [record("a", 1, chunks_done=9), record("a", 2, status="completed"),
               record("a", 3, status="reverting"), record("a", 4, status="reverting", chunks_done=3),
               record("a", 5, status="reverted")]
    # then a subscriber sees the completion, the revert's newest progress and its end, in that order
    kept = coalesce(records)
    assert [(r["dynamodb"]["NewImage"]["status"]["S"], r["dynamodb"]["SequenceNumber"]) for r in kept] == [
        ("completed", "2"), ("reverting", "4"), ("reverted", "5")]


def test_coalesce_keeps_a_held_replace_s_completion_and_the_one_after_its_confirm() -> None:
    # given an import that completed with its replace held, then (confirmed within the same batch) again
    # with the replace done: each ends with its own import.completed (CONTRACT §2), so both must reach the
    # finisher
    held = {"scope": "all", "max_deactivate_percent": 0, "status": "held"}
    done = {**held, "status": "done", "confirmed_at": "2026-12-01T15:20:50.470Z"}
    records = [stream_record(image("a", "completed", 10, replace=held), sequence="2"),
               stream_record(image("a", "completed", 10, replace={**held, "confirmed_at": done["confirmed_at"]}),
                             sequence="3"),
               stream_record(image("a", "completed", 10, replace=done), sequence="4")]
    kept = coalesce(records)
    assert [r["dynamodb"]["SequenceNumber"] for r in kept] == ["3", "4"]  # the held end's newest image, then done


def test_coalesce_never_drops_a_preview_for_a_late_running_image() -> None:
    [kept] = coalesce([record("a", 2, status="previewed", chunks_done=10), record("a", 3, chunks_done=9)])
    assert kept["dynamodb"]["NewImage"]["status"]["S"] == "previewed"


def test_coalesce_ignores_records_without_a_new_image() -> None:
    removed = stream_record({}, event_name="REMOVE", sequence="9")
    removed["dynamodb"].pop("NewImage")
    assert [r["dynamodb"]["SequenceNumber"] for r in coalesce([removed, record("a", 1)])] == ["1"]


def test_a_batch_of_many_updates_sends_one_message_per_subscriber_with_the_final_status() -> None:
    # given one subscriber and five updates of one import in one batch, the last one final
    subs = FakeSubscriptions({"a": {"c1"}})
    client = management_client()
    finished = FakeQueue()
    records = [record("a", n, chunks_done=n) for n in range(1, 5)] + [record("a", 5, "completed", 10)]
    with Stubber(client) as stub:
        stub.add_response("post_to_connection", {}, {"ConnectionId": "c1", "Data": _any_bytes()})
        # when the broadcaster handles the batch
        reply = handler(
            stream_event(records),
            LocalContext("broadcaster"),
            ports=BroadcasterPorts(subs, ConnectionPoster(client), finished, send_threads=1),
        )
        stub.assert_no_pending_responses()
    # then exactly one message went out, and the import's finish was handed on once
    assert reply == {"batchItemFailures": []}
    assert [job["import"]["status"] for job in finished.sent] == ["completed"]


# -- routing --------------------------------------------------------------------------------------------


class RecordingPoster(ConnectionPoster):
    def __init__(self) -> None:
        self.posts: list[tuple[str, dict[str, Any]]] = []

    def post(self, connection_id: str, data: bytes) -> None:
        self.posts.append((connection_id, json.loads(data)))


def test_an_update_reaches_the_import_subscribers_and_the_star_subscribers_once_each() -> None:
    # given c1 watching the import, c2 watching everything, c3 both, c4 another import
    subs = FakeSubscriptions({"imp-1": {"c1", "c3"}, "*": {"c2", "c3"}, "imp-2": {"c4"}})
    poster = RecordingPoster()
    # when the import changes
    result = broadcast_update(an_import(), subs, poster)
    # then c1, c2, c3 get one import.updated each, c4 nothing
    assert sorted(c for c, _ in poster.posts) == ["c1", "c2", "c3"]
    assert {m["type"] for _, m in poster.posts} == {"import.updated"}
    assert poster.posts[0][1]["import"]["id"] == "imp-1"
    assert result.sent == 3


def test_messages_stay_under_the_websocket_frame_limit() -> None:
    huge = an_import(status=ImportStatus.FAILED).model_copy(update={"error": "x" * 300_000})
    data = encode_update(huge)
    assert len(data) < MAX_MESSAGE_BYTES
    assert json.loads(data)["import"]["status"] == "failed"


# -- Gone -----------------------------------------------------------------------------------------------


def _any_bytes() -> Any:
    from botocore.stub import ANY

    return ANY


def test_only_the_connection_that_answers_gone_is_forgotten() -> None:
    # given three subscribers: alive, gone, alive
    subs = FakeSubscriptions({"imp-1": {"a-alive", "b-gone", "c-alive"}})
    client = management_client()
    with Stubber(client) as stub:
        stub.add_response("post_to_connection", {}, {"ConnectionId": "a-alive", "Data": _any_bytes()})
        gone(stub)
        stub.add_response("post_to_connection", {}, {"ConnectionId": "c-alive", "Data": _any_bytes()})
        # when the update is broadcast (in id order, one at a time, so the stub's answers line up)
        result = broadcast_update(an_import(), subs, ConnectionPoster(client), max_threads=1)
        stub.assert_no_pending_responses()
    # then exactly the dead one was deleted, never the sender nor the others
    assert subs.forgotten == ["b-gone"]
    assert result.sent == 2 and result.gone == ["b-gone"] and not result.failed


def test_other_errors_keep_the_connection_and_fail_the_record_for_a_retry() -> None:
    # given a subscriber that is throttled (not gone)
    subs = FakeSubscriptions({"imp-1": {"a-throttled", "b-gone"}})
    client = management_client()
    finished = FakeQueue()
    batch = stream_event([record("imp-1", 11, chunks_done=3)])
    with Stubber(client) as stub:
        stub.add_client_error(
            "post_to_connection", service_error_code="LimitExceededException", http_status_code=429
        )
        gone(stub)
        # when the broadcaster handles the batch
        reply = _handle_allowing_full_failure(
            batch, BroadcasterPorts(subs, ConnectionPoster(client), finished, send_threads=1)
        )
    # then only the gone connection is forgotten and the record is reported as failed
    assert subs.forgotten == ["b-gone"]
    assert reply == {"batchItemFailures": [{"itemIdentifier": "11"}]}


def _handle_allowing_full_failure(event: dict[str, Any], ports: BroadcasterPorts) -> dict[str, Any]:
    from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

    try:
        return handler(event, LocalContext("broadcaster"), ports=ports)
    except BatchProcessingError:  # every record failed: Powertools raises so the whole batch is retried
        return {
            "batchItemFailures": [
                {"itemIdentifier": r["dynamodb"]["SequenceNumber"]} for r in event["Records"]
            ]
        }


def test_partial_failure_names_only_the_failing_import() -> None:
    # given two imports in one batch, only the second one's subscriber is throttled
    subs = FakeSubscriptions({"ok": {"c-ok"}, "bad": {"c-bad"}})
    client = management_client()
    batch = stream_event([record("ok", 1), record("bad", 2)])
    with Stubber(client) as stub:
        stub.add_response("post_to_connection", {}, {"ConnectionId": "c-ok", "Data": _any_bytes()})
        stub.add_client_error(
            "post_to_connection", service_error_code="InternalServerError", http_status_code=500
        )
        reply = handler(
            batch,
            LocalContext("broadcaster"),
            ports=BroadcasterPorts(subs, ConnectionPoster(client), FakeQueue(), send_threads=1),
        )
    assert reply == {"batchItemFailures": [{"itemIdentifier": "2"}]}
    assert subs.forgotten == []


@pytest.mark.parametrize("status", ["completed", "failed", "previewed", "reverted"])
def test_final_statuses_are_handed_on_for_search_and_webhooks(status: str) -> None:
    finished = FakeQueue()
    handler(
        stream_event([record("a", 1, status=status)]),
        LocalContext("broadcaster"),
        ports=BroadcasterPorts(FakeSubscriptions({}), RecordingPoster(), finished),
    )
    assert [(j["kind"], j["import"]["id"]) for j in finished.sent] == [("import.finished", "a")]


@pytest.mark.parametrize("status", ["pending", "processing", "reverting"])
def test_running_statuses_and_a_running_revert_are_not_handed_on(status: str) -> None:
    # given an import still moving (a revert's chunks update it many times while it is reverting)
    finished = FakeQueue()
    handler(
        stream_event([record("a", 1, status=status)]),
        LocalContext("broadcaster"),
        ports=BroadcasterPorts(FakeSubscriptions({}), RecordingPoster(), finished),
    )
    # then no search refresh or webhook event is asked for yet
    assert finished.sent == []


def test_a_completion_followed_by_its_revert_in_one_batch_is_still_handed_on() -> None:
    # given one stream batch holding an import's completion and the start and end of its revert
    finished = FakeQueue()
    handler(
        stream_event([record("a", 1, status="completed"), record("a", 2, status="reverting"),
                      record("a", 3, status="reverted")]),
        LocalContext("broadcaster"),
        ports=BroadcasterPorts(FakeSubscriptions({}), RecordingPoster(), finished),
    )
    # then the completion (import.completed, its search refresh) is not lost behind the revert
    assert [j["import"]["status"] for j in finished.sent] == ["completed", "reverted"]


def test_an_import_of_a_hostile_header_still_fits_one_websocket_message() -> None:
    # CONTRACT §1 allows a header of 1,024 columns in 64 KiB: one warning per duplicated name and a mapping
    # of every column made the message ~200 KB; API Gateway refuses a PostToConnection over 128 KB (the local
    # gateway does too now), so the browser never heard of the import again, its final status included
    names = [f"Attribute column number {n:04d} with a long descriptive name" for n in range(1000)]
    imp = an_import(status=ImportStatus.COMPLETED).model_copy(update={
        "warnings": [f"two columns are named '{name}': the leftmost is used, the other is ignored" for name in names],
        "mapping": {**{name: "attribute" for name in names}, "id": "map-1"},
    })
    assert len(json.dumps({"import": imp.model_dump(mode="json")})) > MAX_MESSAGE_BYTES

    data = encode_update(imp)

    assert len(data) < MAX_MESSAGE_BYTES
    sent = json.loads(data)["import"]
    assert sent["status"] == "completed" and sent["rows_total"] == imp.rows_total
    assert sent["warnings"][:3] == imp.warnings[:3] and sent["mapping"]["id"] == "map-1"
    assert sent["warnings"][-1].startswith("… and ") and "open the import" in sent["warnings"][-1]
    kept = len(sent["warnings"]) - 1
    assert sent["warnings"][-1].startswith(f"… and {len(imp.warnings) - kept} more warnings")


@pytest.mark.parametrize("status,replace", [
    ("completed", None), ("completed", {"scope": "all", "status": "held"}),
    ("completed", {"scope": "all", "status": "held", "confirmed_at": "2026-12-01T00:00:00Z"}),
    ("completed", {"scope": "all", "status": "done", "confirmed_at": "2026-12-01T00:00:00Z"}),
    ("completed", {"scope": "all", "status": "done"}), ("reverted", {"scope": "all", "status": "done",
                                                                     "confirmed_at": "2026-12-01T00:00:00Z"}),
])
def test_a_stream_image_has_the_occasion_its_import_has(status: str, replace: dict[str, Any] | None) -> None:
    item = image("a", status, 10, **({"replace": replace} if replace else {}))
    assert event_occasion_of_item(item) == event_occasion(import_from_item(item))
