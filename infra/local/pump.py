"""The event pump: delivers what AWS would deliver to the very same handlers, with the same event shapes.

- SQS event sources run as worker processes (one process = one warm "container": its own PostgreSQL
  connection, its own GIL), each long-polling its queue, invoking the handler with an SQS event, then
  deleting the messages that did not appear in ``batchItemFailures``. Failed messages reappear after
  the queue's visibility timeout, and the queue's redrive policy moves them to the DLQ.
- The DynamoDB stream is polled with ``get_records`` and handed to the stream subscribers.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import logging
import os
import signal
import threading
import time
import warnings
from collections.abc import Callable
from multiprocessing.synchronize import Event as EventType
from typing import Any

from infra.local.events import LocalContext, sqs_event, sqs_record, stream_event

logger = logging.getLogger("pump")


def load_handler(function: str) -> Callable[..., Any]:
    from infra.topology import FUNCTIONS

    module = importlib.import_module(FUNCTIONS[function].module)
    handler: Callable[..., Any] = module.handler
    return handler


def _boto(service: str) -> Any:
    from product_importer.aws import client

    return client(service)


def sqs_worker(function: str, queue_url: str, batch_size: int, env: dict[str, str], stop: EventType,
               timeout_s: int = 60, in_flight: str | None = None) -> None:
    """Process entry point: poll ``queue_url`` and invoke ``function`` until ``stop`` is set. While a batch
    runs, its receipt handles are in the file ``in_flight`` (``InFlight``), for the supervisor to hand
    back should this process die."""
    die_with_parent()
    os.environ.update(env)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the stack stops us
    configure_logging()
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    handler = load_handler(function)
    sqs = _boto("sqs")
    visibility: int | None = None  # the queue's own visibility timeout, once read
    while not stop.is_set():
        try:
            if visibility is None and in_flight:
                visibility = int(sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["VisibilityTimeout"])
                                 ["Attributes"]["VisibilityTimeout"])
            poll_once(function, handler, sqs, queue_url, batch_size, timeout_s, in_flight, visibility)
        except Exception as exc:
            if stop.is_set():
                break
            logger.warning("%s: receive failed: %s", function, exc)
            time.sleep(0.5)


def poll_once(function: str, handler: Callable[..., Any], sqs: Any, queue_url: str, batch_size: int, timeout_s: int,
              in_flight: str | None, visibility: int | None) -> int:
    """Receive one batch (long poll, 1 s) and run it; returns how many messages it had.

    With ``in_flight``, a batch is received for ``RECEIVE_VISIBILITY_S`` only, until this process holds its
    receipts, then given the queue's own ``visibility``: in AWS the poller that receives is not the
    function, here it is, and a worker killed while its receive returned left those messages invisible
    for the queue's whole timeout (a chunk 12 minutes), with no receipt anywhere to hand them back with."""
    extra = {"VisibilityTimeout": RECEIVE_VISIBILITY_S} if in_flight else {}
    reply = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=batch_size, WaitTimeSeconds=1,
                                AttributeNames=["All"], **extra)
    messages = reply.get("Messages", [])
    if not messages:
        return 0
    held = InFlight(in_flight) if in_flight else None
    if held is not None:
        held.hold(queue_url, [m["ReceiptHandle"] for m in messages])
        held.extend(sqs, visibility or RECEIVE_VISIBILITY_S)  # now as the queue says
    deliver_batch(function, handler, sqs, queue_url, messages, timeout_s)
    if held is not None:
        held.clear()
    return len(messages)


RECEIVE_VISIBILITY_S = 10  # how long a received batch stays invisible until its worker holds the receipts


class InFlight:
    """The receipt handles of the batch a worker process is running, in a file of its own.

    A worker killed mid-batch (kill -9, out of memory) leaves them there; the supervisor that starts it
    again makes those messages visible at once (``release``). Without it they came back only after the
    queue's visibility timeout: a killed consumer's chunk after 12 minutes, a killed splitter's file after
    90, its import ``processing`` all that time (in AWS, a crashed Lambda's batch waits out the timeout as
    well; here the stack knows at once that the process died)."""

    def __init__(self, path: str) -> None:
        self.path = path

    def hold(self, queue_url: str, receipts: list[str]) -> None:
        partial = f"{self.path}.partial"
        with open(partial, "w") as out:
            json.dump({"queue_url": queue_url, "receipts": receipts}, out)
        os.replace(partial, self.path)

    def extend(self, sqs: Any, visibility_s: int) -> None:
        """Give the held messages ``visibility_s`` (the queue's own timeout) from now; best effort (a
        message whose extension fails comes back after ``RECEIVE_VISIBILITY_S``, and its ledger makes the
        second delivery safe)."""
        try:
            with open(self.path) as held:
                batch = json.load(held)
            for start in range(0, len(batch["receipts"]), 10):
                sqs.change_message_visibility_batch(QueueUrl=batch["queue_url"], Entries=[
                    {"Id": str(n), "ReceiptHandle": receipt, "VisibilityTimeout": visibility_s}
                    for n, receipt in enumerate(batch["receipts"][start:start + 10])])
        except Exception as exc:
            logger.warning("could not extend a received batch: %s", exc)

    def age(self) -> float | None:
        """Seconds since the batch it holds began; None when it holds none."""
        try:
            return max(0.0, time.time() - os.stat(self.path).st_mtime)
        except FileNotFoundError:
            return None

    def clear(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)

    def release(self, sqs: Any) -> int:
        """Make the held messages visible again (a receipt already deleted or expired is skipped); returns
        how many were handed back."""
        try:
            with open(self.path) as held:
                batch = json.load(held)
        except (FileNotFoundError, ValueError):
            return 0
        released = 0
        for receipt in batch.get("receipts", []):
            try:
                sqs.change_message_visibility(QueueUrl=batch["queue_url"], ReceiptHandle=receipt, VisibilityTimeout=0)
                released += 1
            except Exception as exc:  # handled and deleted just before the death, or the emulator gone
                logger.info("could not hand back a message of a dead worker: %s", exc)
        self.clear()
        return released


def die_with_parent() -> None:
    """Linux: end this worker when the stack's process dies, even by SIGKILL (PR_SET_PDEATHSIG), instead of
    polling on as an orphan (it found the next stack's emulator on the same port: two splitters)."""
    parent = os.getppid()
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # 1: PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: a clean stop still stops the workers
        return
    if os.getppid() != parent:  # the parent died before the call
        os._exit(0)


def deliver_batch(function: str, handler: Callable[..., Any], sqs: Any, queue_url: str,
                  messages: list[dict[str, Any]], timeout_s: int) -> set[str]:
    """Invoke the handler with one SQS event; delete what succeeded; return the failed message ids."""
    records = [
        sqs_record(m["Body"], queue_url=queue_url, message_id=m["MessageId"], receipt_handle=m["ReceiptHandle"],
                   receive_count=int(m.get("Attributes", {}).get("ApproximateReceiveCount", "1")))
        for m in messages
    ]
    started = time.monotonic()
    try:
        response = handler(sqs_event(records), LocalContext(function, timeout_s)) or {}
        failed = {f["itemIdentifier"] for f in response.get("batchItemFailures", [])}
    except Exception as exc:
        logger.warning("%s: invocation failed: %s", function, exc)
        failed = {m["MessageId"] for m in messages}
    done = [m for m in messages if m["MessageId"] not in failed]
    if done:
        try:
            sqs.delete_message_batch(QueueUrl=queue_url, Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)])
        except Exception as exc:  # the emulator gone: the messages come back, and the ledgers make it safe
            logger.warning("%s: could not delete %d handled message(s): %s", function, len(done), exc)
    logger.info("%-9s %d message(s) in %.2fs%s", function, len(messages), time.monotonic() - started,
                f", {len(failed)} failed" if failed else "")
    return failed


class StreamPoller(threading.Thread):
    """Polls a DynamoDB stream (every shard, from LATEST) and invokes the subscribed handlers."""

    def __init__(self, stream_arn: str, subscribers: dict[str, Callable[..., Any]], *, batch_size: int = 100,
                 interval_s: float = 0.2) -> None:
        super().__init__(name="stream-poller", daemon=True)
        self._arn = stream_arn
        self._subscribers = subscribers
        self._batch = batch_size
        self._interval = interval_s
        self._halt = threading.Event()
        self._streams = _boto("dynamodbstreams")
        self._iterators: dict[str, str | None] = {}
        self._delivered: dict[str, int] = {}  # shard -> sequence number of the last record delivered
        self.ready = threading.Event()

    def stop(self) -> None:
        self._halt.set()

    def _refresh_shards(self) -> None:
        shards = self._streams.describe_stream(StreamArn=self._arn)["StreamDescription"]["Shards"]
        for shard in shards:
            shard_id = shard["ShardId"]
            if shard_id not in self._iterators:
                it = self._streams.get_shard_iterator(StreamArn=self._arn, ShardId=shard_id,
                                                      ShardIteratorType="LATEST")["ShardIterator"]
                self._iterators[shard_id] = it

    def run(self) -> None:
        try:
            self._refresh_shards()
        finally:
            self.ready.set()
        while not self._halt.is_set():
            records: list[dict[str, Any]] = []
            for shard_id, iterator in list(self._iterators.items()):
                if iterator is None:
                    continue
                try:
                    reply = self._streams.get_records(ShardIterator=iterator, Limit=self._batch)
                except Exception as exc:
                    if self._halt.is_set():
                        return
                    logger.warning("stream: get_records failed: %s", exc)
                    continue
                self._iterators[shard_id] = reply.get("NextShardIterator")
                records.extend(self._new_records(shard_id, reply.get("Records", [])))
            if records:
                for i in range(0, len(records), self._batch):
                    self.deliver(records[i:i + self._batch])
            else:
                self._halt.wait(self._interval)

    def _new_records(self, shard_id: str, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The records past the last one delivered from this shard: a record handed out again (moto gave
        the last one on every poll once two records shared a sequence number) is delivered once."""
        last = self._delivered.get(shard_id, -1)
        fresh = []
        for record in records:
            number = record.get("dynamodb", {}).get("SequenceNumber")
            if number is None:
                fresh.append(record)
                continue
            seq = int(number)
            if seq > last:
                fresh.append(record)
                last = seq
        self._delivered[shard_id] = last
        return fresh

    def deliver(self, records: list[dict[str, Any]]) -> None:
        event = stream_event(records, table_arn=self._arn)
        for name, handler in self._subscribers.items():
            try:
                handler(event, LocalContext(name))
            except Exception as exc:
                logger.warning("%s: stream invocation failed: %s", name, exc)


def configure_logging() -> None:
    """One readable line per event: time, source, message; the AWS SDK's chatter only when it matters."""
    logging.basicConfig(level=os.environ.get("LOCAL_LOG_LEVEL", "INFO"),
                        format="%(asctime)s %(name)-8s %(message)s", datefmt="%H:%M:%S")
    for noisy in ("botocore", "boto3", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
