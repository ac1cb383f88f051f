"""A killed invocation's SQS batch comes back soon after the invocation's end, not after the queue's
visibility timeout (6x the function's timeout, as AWS advises): a killed splitter's file waited 90 minutes
for its next attempt, a killed chunk 12 (``product_importer.aws.hold_for_this_invocation``)."""

from __future__ import annotations

import importlib
import os
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "ProductImporterTest")
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")

from product_importer import aws
from product_importer.settings import get_settings

from infra.local.events import LocalContext, sqs_event, sqs_record

REGION = "eu-west-1"


@pytest.fixture
def sqs(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"),
                        ("AWS_DEFAULT_REGION", REGION)):
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(aws, "_visibility_timeouts", {})
    with mock_aws():
        yield boto3.client("sqs", region_name=REGION)


def received(sqs: Any, queue_url: str, count: int) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    while len(messages) < count:
        reply = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, AttributeNames=["All"])
        if not reply.get("Messages"):
            break
        messages += reply["Messages"]
    return messages


def event_of(queue_url: str, messages: list[dict[str, Any]]) -> dict[str, Any]:
    return sqs_event([sqs_record(m["Body"], queue_url=queue_url, message_id=m["MessageId"],
                                 receipt_handle=m["ReceiptHandle"]) for m in messages])


def back_within(sqs: Any, queue_url: str, count: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    seen = 0
    while time.monotonic() < deadline and seen < count:
        seen += len(received(sqs, queue_url, count - seen))
        time.sleep(0.2)
    return seen >= count


def test_a_killed_invocations_batch_comes_back_after_its_end_not_after_the_queues_timeout(sqs: Any) -> None:
    queue_url = sqs.create_queue(QueueName="chunks", Attributes={"VisibilityTimeout": "720"})["QueueUrl"]
    for n in range(12):  # more than one ChangeMessageVisibilityBatch
        sqs.send_message(QueueUrl=queue_url, MessageBody=f"chunk {n}")
    batch = received(sqs, queue_url, 12)
    assert len(batch) == 12

    # an invocation with 1 s left holds its batch for that and a 1 s margin; then it is killed (no answer)
    changed = aws.hold_for_this_invocation(sqs, queue_url, event_of(queue_url, batch), 1.0, margin_s=1)

    assert changed == 12
    assert back_within(sqs, queue_url, 12, seconds=30)  # without the hold: 720 s


def test_it_never_holds_a_batch_longer_than_the_queue_would(sqs: Any) -> None:
    queue_url = sqs.create_queue(QueueName="quick", Attributes={"VisibilityTimeout": "2"})["QueueUrl"]
    sqs.send_message(QueueUrl=queue_url, MessageBody="chunk")
    batch = received(sqs, queue_url, 1)

    aws.hold_for_this_invocation(sqs, queue_url, event_of(queue_url, batch), 900.0)

    assert back_within(sqs, queue_url, 1, seconds=30)  # 2 s, not 960


def test_a_queue_it_cannot_reach_is_logged_not_raised(sqs: Any, caplog: pytest.LogCaptureFixture) -> None:
    gone = f"https://sqs.{REGION}.amazonaws.com/123456789012/gone"
    event = sqs_event([sqs_record("x", queue_url=gone, message_id="m-1", receipt_handle="rh-1")])

    assert aws.hold_for_this_invocation(sqs, gone, event, 100.0) == 0
    assert "could not shorten" in caplog.text
    assert aws.hold_for_this_invocation(sqs, gone, {"Records": []}, 100.0) == 0


@pytest.mark.parametrize(("function", "queue_setting", "work"), [
    ("splitter", "object_events_queue_url", "split_record"),
    ("consumer", "chunks_queue_url", "consume_record"),
    ("finisher", "finished_queue_url", "handle_job"),
    ("webhooks", "webhooks_queue_url", "handle_job"),
])
def test_every_sqs_function_holds_its_batch_for_its_invocation(
        monkeypatch: pytest.MonkeyPatch, function: str, queue_setting: str, work: str) -> None:
    urls = {name: f"https://sqs.{REGION}.amazonaws.com/123456789012/{name}" for name in (
        "object_events_queue_url", "chunks_queue_url", "finished_queue_url", "webhooks_queue_url")}
    for name, url in urls.items():
        monkeypatch.setenv(name.upper(), url)
    monkeypatch.setenv("DATABASE_URL", "postgresql://unused@127.0.0.1:1/x")
    monkeypatch.setenv("UPLOADS_BUCKET", "uploads")
    monkeypatch.setenv("PROGRESS_TABLE", "progress")
    get_settings.cache_clear()
    module = importlib.import_module(f"functions.{function}.handler")
    held: list[tuple[str, dict[str, Any], float]] = []
    monkeypatch.setattr(module, "hold_for_this_invocation",
                        lambda _sqs, url, event, remaining: held.append((url, event, remaining)))
    monkeypatch.setattr(module, "cached_client", lambda _service: object())
    monkeypatch.setattr(module, "default_ports", lambda *_args: object())
    monkeypatch.setattr(module, work, lambda *_args: None)
    event = sqs_event([sqs_record("{}", queue_url=urls[queue_setting], message_id="m-1", receipt_handle="rh-1")])
    try:
        module.handler(event, LocalContext(function, timeout_s=120))
    finally:
        get_settings.cache_clear()

    [(url, seen, remaining)] = held
    assert url == urls[queue_setting] and seen is event and 100 < remaining <= 120
