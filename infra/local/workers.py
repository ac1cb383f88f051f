"""The event sources of the local stack, from ``infra.topology``: one worker process per SQS-triggered
function (``consumers`` copies of the consumer), and the stream poller that hands the progress stream to
the stream-triggered functions, in batches of the trigger's size."""

from __future__ import annotations

import multiprocessing
import time
from multiprocessing.synchronize import Event
from typing import Any

from infra import topology
from infra.local.pump import StreamPoller, load_handler, sqs_worker


class SqsWorkers:
    def __init__(self, queue_urls: dict[str, str], env: dict[str, str], *, consumers: int) -> None:
        self._queue_urls = queue_urls
        self._env = env
        self._consumers = consumers
        self._context = multiprocessing.get_context("spawn")
        self._stop: Event = self._context.Event()
        self._processes: list[Any] = []

    def start(self) -> None:
        for spec in topology.FUNCTIONS.values():
            trigger = spec.trigger
            if not isinstance(trigger, topology.SqsTrigger):
                continue
            copies = self._consumers if spec.name == "consumer" else 1
            for n in range(copies):
                process = self._context.Process(
                    target=sqs_worker,
                    name=f"{spec.name}-{n}",
                    args=(spec.name, self._queue_urls[trigger.queue], trigger.batch_size, self._env,
                          self._stop, spec.timeout_s),
                    daemon=True,
                )
                process.start()
                self._processes.append(process)

    def signal_stop(self) -> None:
        """Ask every worker to stop after its current batch (they are joined by ``stop``)."""
        self._stop.set()

    def stop(self, grace_s: float = 5.0) -> None:
        """Let every worker finish its batch, all within one grace period (they were all told at once),
        then terminate the ones still running."""
        self._stop.set()
        deadline = time.monotonic() + grace_s
        for process in self._processes:
            process.join(timeout=max(0.0, deadline - time.monotonic()))
        for process in self._processes:
            if process.is_alive():
                process.terminate()
                process.join(timeout=1)


def stream_triggers() -> dict[str, topology.StreamTrigger]:
    """The stream-triggered functions (the broadcaster) and their triggers."""
    return {spec.name: spec.trigger for spec in topology.FUNCTIONS.values()
            if isinstance(spec.trigger, topology.StreamTrigger)}


def stream_batch_size() -> int:
    """Records per invocation: the smallest batch any stream trigger takes (one poller serves them all)."""
    return min((t.batch_size for t in stream_triggers().values()), default=100)


def start_stream_subscribers(stream_arn: str) -> StreamPoller:
    """Poll the progress stream and invoke the stream-triggered functions, as the topology's triggers say."""
    handlers = {name: load_handler(name) for name in stream_triggers()}
    poller = StreamPoller(stream_arn, handlers, batch_size=stream_batch_size())
    poller.start()
    poller.ready.wait(10)
    return poller
