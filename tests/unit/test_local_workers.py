"""The local stack's workers stop within one grace period, however many there are (Ctrl-C stays quick), and a
worker that dies hands back the messages it was running."""

from __future__ import annotations

import os
import time
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from infra import topology
from infra.local.pump import InFlight
from infra.local.workers import SqsWorkers


class StuckProcess:
    """A worker that does not finish its batch in time."""

    def __init__(self) -> None:
        self.terminated = False

    def join(self, timeout: float | None = None) -> None:
        if not self.terminated:  # waits the whole timeout; a terminated one is reaped at once
            time.sleep(timeout or 0)

    def is_alive(self) -> bool:
        return not self.terminated

    def terminate(self) -> None:
        self.terminated = True


def test_stuck_workers_share_one_grace_period_and_are_terminated() -> None:
    # given five workers that never finish on their own
    urls = {name: f"http://sqs.test/{name}" for name in topology.QUEUES}
    workers = SqsWorkers(urls, {}, consumers=2, dlq_urls=urls)
    stuck = [StuckProcess() for _ in range(5)]
    workers._processes = {f"worker-{n}": process for n, process in enumerate(stuck)}
    # when the stack stops them with a 0.4 s grace period
    started = time.monotonic()
    workers.stop(grace_s=0.4)
    # then it takes about one grace period (not five), and every one is terminated
    assert time.monotonic() - started < 1.2
    assert all(p.terminated for p in stuck)


class DeadProcess:
    """A worker killed mid-batch (kill -9, out of memory): no ``except`` or ``finally`` of its ran."""

    exitcode = -9

    def is_alive(self) -> bool:
        return False

    def join(self, timeout: float | None = None) -> None:
        pass


@mock_aws
def test_the_messages_a_killed_worker_was_running_are_delivered_again_at_once(tmp_path: Path) -> None:
    """They waited out the queue's visibility timeout (a chunk 12 minutes, a file 90), the import
    ``processing`` all that time, though the supervisor knew at once that the process had died."""
    # given a consumer that received a chunk (12 minutes' visibility) and was killed running it
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = sqs.create_queue(QueueName="chunks", Attributes={"VisibilityTimeout": "720"})["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody='{"chunk_no": 3}')
    urls = {name: url for name in topology.QUEUES}
    workers = SqsWorkers(urls, {"LOCAL_DIR": str(tmp_path)}, consumers=1, dlq_urls=urls)
    workers._sqs = sqs
    spawned: list[str] = []
    workers._spawn = lambda spec: spawned.append(spec.name)  # type: ignore[method-assign]
    workers._processes = {"consumer-0": DeadProcess()}
    received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=2)["Messages"]
    workers._in_flight(next(s for s in workers._specs if s.name == "consumer-0")).hold(
        url, [m["ReceiptHandle"] for m in received])
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
    # when the supervisor finds it dead
    workers.revive()
    # then it is started again, and its chunk is there to receive now, not in 12 minutes
    assert spawned == ["consumer-0"] and workers.restarts == {"consumer-0": 1}
    assert [m["Body"] for m in sqs.receive_message(QueueUrl=url)["Messages"]] == ['{"chunk_no": 3}']
    assert not list((tmp_path / "in-flight").iterdir())  # handed back once


def test_a_worker_that_finished_its_batch_holds_nothing(tmp_path: Path) -> None:
    held = InFlight(str(tmp_path / "splitter-0.json"))
    held.hold("http://sqs.test/object-events", ["r-1"])
    held.clear()
    assert held.release(None) == 0  # nothing is handed back (the batch was deleted or failed on its own)


class HungProcess(DeadProcess):
    """A worker stuck in its batch (SIGSTOP, a lock never granted, a call that never returns)."""

    def __init__(self) -> None:
        self.killed = False

    def is_alive(self) -> bool:
        return not self.killed

    def kill(self) -> None:
        self.killed = True


@mock_aws
def test_a_worker_still_in_its_batch_past_its_timeout_is_ended_and_its_messages_delivered_again(
        tmp_path: Path) -> None:
    """Lambda ends an invocation at its timeout; a hung local worker held its batch and did nothing, for ever."""
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = sqs.create_queue(QueueName="chunks", Attributes={"VisibilityTimeout": "720"})["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody='{"chunk_no": 4}')
    urls = {name: url for name in topology.QUEUES}
    workers = SqsWorkers(urls, {"LOCAL_DIR": str(tmp_path)}, consumers=1, dlq_urls=urls)
    workers._sqs = sqs
    workers._spawn = lambda spec: None  # type: ignore[method-assign]
    hung = HungProcess()
    workers._processes = {"consumer-0": hung}
    spec = next(s for s in workers._specs if s.name == "consumer-0")
    held = workers._in_flight(spec)
    held.hold(url, [m["ReceiptHandle"] for m in sqs.receive_message(QueueUrl=url)["Messages"]])
    workers.revive()
    assert not hung.killed  # within its timeout: left alone
    started = time.time() - spec.timeout_s - 10
    os.utime(held.path, (started, started))  # its batch began longer ago than the consumer's 120 s
    workers.revive()
    assert hung.killed and workers.restarts == {"consumer-0": 1}
    assert [m["Body"] for m in sqs.receive_message(QueueUrl=url)["Messages"]] == ['{"chunk_no": 4}']


def test_the_schedules_run_once_at_the_start_then_at_their_rate(monkeypatch: pytest.MonkeyPatch) -> None:
    """A stack stopped and started again within the interval (5 minutes) never swept: pending uploads stayed
    pending past their 24 hours, undo data past its retention stayed."""
    from infra.local import workers as module

    calls: list[str] = []
    monkeypatch.setattr(module, "load_handler", lambda name: lambda event, context: calls.append(name))
    schedules = module.ScheduledFunctions(interval_s=3600)
    schedules.start()
    deadline = time.monotonic() + 10
    while not calls and time.monotonic() < deadline:
        time.sleep(0.01)
    schedules.stop()
    schedules.join(timeout=5)
    scheduled = [n for n, spec in topology.FUNCTIONS.items() if isinstance(spec.trigger, topology.ScheduleTrigger)]
    assert calls and sorted(calls) == sorted(scheduled)  # each once, long before the first interval ends


@mock_aws
def test_a_batch_is_received_for_seconds_until_its_worker_holds_it_then_for_the_queues_timeout(
        tmp_path: Path) -> None:
    """In AWS the poller that receives is not the function; here it is: a worker killed while its receive
    returned left the messages invisible for the queue's whole timeout (an import stuck 12 minutes at 18 of
    20 chunks), with no receipt anywhere to hand them back with."""
    from infra.local.pump import RECEIVE_VISIBILITY_S, poll_once

    sqs = boto3.client("sqs", region_name="us-east-1")
    url = sqs.create_queue(QueueName="chunks", Attributes={"VisibilityTimeout": "720"})["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody='{"chunk_no": 5}')
    calls: list[tuple[str, object]] = []

    class Recording:
        def __getattr__(self, name: str) -> object:
            def call(**kwargs: object) -> object:
                calls.append((name, kwargs.get("VisibilityTimeout") or [
                    e["VisibilityTimeout"] for e in kwargs.get("Entries", [])]))  # type: ignore[union-attr]
                return getattr(sqs, name)(**kwargs)
            return call

    held_during_run: list[bool] = []
    path = tmp_path / "consumer-0.json"

    def handler(event: dict[str, object], context: object) -> dict[str, list[object]]:
        held_during_run.append(path.exists())
        return {"batchItemFailures": []}

    assert poll_once("consumer", handler, Recording(), url, 2, 120, str(path), 720) == 1
    assert calls[:2] == [("receive_message", RECEIVE_VISIBILITY_S), ("change_message_visibility_batch", [720])]
    assert held_during_run == [True] and not path.exists()  # held while it ran, released after
