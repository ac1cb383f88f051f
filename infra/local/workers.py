"""The event sources of the local stack, from ``infra.topology``: one worker process per SQS-triggered
function (``consumers`` copies of the consumer), one per dead-letter queue a ``DeadLetterTrigger`` names,
the stream poller that hands the progress stream to the stream-triggered functions, in batches of the
trigger's size, and a timer for the scheduled functions.

Workers are supervised as Lambda's containers are: a worker process that dies (killed, out of memory)
is started again within a second, and the messages it held are delivered again at once (``InFlight``).
A worker still in one batch past its function's timeout is ended, as Lambda ends such an invocation.
"""

from __future__ import annotations

import logging
import multiprocessing
import tempfile
import threading
import time
from dataclasses import dataclass
from multiprocessing.synchronize import Event
from pathlib import Path
from typing import Any

from infra import topology
from infra.local.events import LocalContext
from infra.local.pump import InFlight, StreamPoller, load_handler, sqs_worker

logger = logging.getLogger("local")

TIMEOUT_GRACE_S = 5  # past its function's timeout, a worker still in its batch is ended (Lambda's timeout)


@dataclass(frozen=True)
class WorkerSpec:
    """One worker process: ``function`` invoked with batches of ``queue_url``."""

    name: str
    function: str
    queue_url: str
    batch_size: int
    timeout_s: int


def worker_specs(queue_urls: dict[str, str], dlq_urls: dict[str, str], consumers: int) -> list[WorkerSpec]:
    """The worker processes the topology asks for."""
    specs = []
    for spec in topology.FUNCTIONS.values():
        trigger = spec.trigger
        if isinstance(trigger, topology.SqsTrigger):
            copies = consumers if spec.name == "consumer" else 1
            specs += [WorkerSpec(f"{spec.name}-{n}", spec.name, queue_urls[trigger.queue], trigger.batch_size,
                                 spec.timeout_s) for n in range(copies)]
        elif isinstance(trigger, topology.DeadLetterTrigger):
            specs += [WorkerSpec(f"{spec.name}-{queue}", spec.name, dlq_urls[queue], trigger.batch_size,
                                 spec.timeout_s) for queue in trigger.queues]
    return specs


class SqsWorkers:
    def __init__(self, queue_urls: dict[str, str], env: dict[str, str], *, consumers: int,
                 dlq_urls: dict[str, str] | None = None, supervise_every_s: float = 0.5) -> None:
        self._specs = worker_specs(queue_urls, dlq_urls or {}, consumers)
        self._env = env
        self._context = multiprocessing.get_context("spawn")
        self._stop: Event = self._context.Event()
        self._processes: dict[str, Any] = {}  # worker name -> its current process
        self._supervise_every_s = supervise_every_s
        self._supervisor: threading.Thread | None = None
        self._halt = threading.Event()
        self.restarts: dict[str, int] = {}
        # where each worker keeps the receipts of the batch it runs (LOCAL_DIR: the stack's state directory)
        self._in_flight_dir = Path(env.get("LOCAL_DIR") or tempfile.mkdtemp(prefix="pi-workers-")) / "in-flight"
        self._in_flight_dir.mkdir(parents=True, exist_ok=True)
        self._sqs: Any = None

    def start(self) -> None:
        for spec in self._specs:
            self._spawn(spec)
        self._supervisor = threading.Thread(target=self._supervise, name="worker-supervisor", daemon=True)
        self._supervisor.start()

    def _in_flight(self, spec: WorkerSpec) -> InFlight:
        return InFlight(str(self._in_flight_dir / f"{spec.name}.json"))

    def _spawn(self, spec: WorkerSpec) -> None:
        self._in_flight(spec).clear()
        process = self._context.Process(
            target=sqs_worker,
            name=spec.name,
            args=(spec.function, spec.queue_url, spec.batch_size, self._env, self._stop, spec.timeout_s,
                  self._in_flight(spec).path),
            daemon=True,
        )
        process.start()
        self._processes[spec.name] = process

    def _supervise(self) -> None:
        """Start again any worker that died while the stack runs."""
        while not self._halt.wait(self._supervise_every_s):
            self.revive()

    def revive(self) -> None:
        """One round of supervision: each dead worker's messages handed back, the worker started again."""
        for spec in self._specs:
            process = self._processes.get(spec.name)
            if process is None or self._stop.is_set():
                continue
            if process.is_alive():
                age = self._in_flight(spec).age()
                if age is None or age <= spec.timeout_s + TIMEOUT_GRACE_S:
                    continue
                # hung (a lock, a stopped process, a call that never returns): Lambda ends an invocation at its
                # timeout; a worker process stuck in a batch held its messages and did nothing more for ever
                logger.warning("%s ran past its %d s timeout: ended, as Lambda ends an invocation at its timeout",
                               spec.name, spec.timeout_s)
                process.kill()
                process.join(timeout=5)
            logger.warning("%s died (exit code %s): starting it again", spec.name, process.exitcode)
            process.join(timeout=0)
            self._release(spec)
            self.restarts[spec.name] = self.restarts.get(spec.name, 0) + 1
            self._spawn(spec)

    def _release(self, spec: WorkerSpec) -> None:
        """Hand back at once the messages the dead worker was running (``InFlight``)."""
        try:
            if self._sqs is None:
                from product_importer.aws import client

                self._sqs = client("sqs")
            released = self._in_flight(spec).release(self._sqs)
        except Exception as exc:
            logger.warning("%s: could not hand back the messages it held: %s", spec.name, exc)
            return
        if released:
            logger.warning("%s: %d message(s) it was running are delivered again", spec.name, released)

    def pids(self, function: str) -> list[int]:
        """The process ids of ``function``'s live workers (fault-injection tests kill them)."""
        return [p.pid for name, p in self._processes.items()
                if p.is_alive() and p.pid is not None and _function_of(name, self._specs) == function]

    def signal_stop(self) -> None:
        """Ask every worker to stop after its current batch (they are joined by ``stop``)."""
        self._halt.set()
        self._stop.set()

    def stop(self, grace_s: float = 5.0) -> None:
        """Let every worker finish its batch, all within one grace period (they were all told at once),
        then terminate the ones still running."""
        self.signal_stop()
        deadline = time.monotonic() + grace_s
        if self._supervisor is not None:
            self._supervisor.join(timeout=max(0.0, deadline - time.monotonic()))
        for process in self._processes.values():
            process.join(timeout=max(0.0, deadline - time.monotonic()))
        for process in self._processes.values():
            if process.is_alive():
                process.terminate()
                process.join(timeout=1)


def _function_of(name: str, specs: list[WorkerSpec]) -> str | None:
    return next((s.function for s in specs if s.name == name), None)


class ScheduledFunctions(threading.Thread):
    """Invokes the functions with a ``ScheduleTrigger`` every ``interval_s`` (in this process), as
    EventBridge invokes them at their rate in AWS, and once at the start: a stack that never ran for a
    whole interval (stopped and started again within 5 minutes) never swept, so an upload that never
    arrived stayed ``pending`` past its 24 hours for as long as that went on."""

    def __init__(self, interval_s: float) -> None:
        super().__init__(name="schedules", daemon=True)
        self._interval_s = interval_s
        self._halt = threading.Event()
        self._handlers = {spec.name: load_handler(spec.name) for spec in topology.FUNCTIONS.values()
                          if isinstance(spec.trigger, topology.ScheduleTrigger)}

    def run(self) -> None:
        self.run_once()
        while not self._halt.wait(self._interval_s):
            self.run_once()

    def run_once(self) -> None:
        for name, handler in self._handlers.items():
            try:
                handler({"source": "local.schedule", "detail-type": "Scheduled Event"}, LocalContext(name))
            except Exception as exc:
                logger.warning("%s: scheduled invocation failed: %s", name, exc)

    def stop(self) -> None:
        self._halt.set()


def stream_triggers() -> dict[str, topology.StreamTrigger]:
    """The stream-triggered functions (the broadcaster) and their triggers."""
    return {spec.name: spec.trigger for spec in topology.FUNCTIONS.values()
            if isinstance(spec.trigger, topology.StreamTrigger)}


def stream_batch_size() -> int:
    """Records per invocation: the smallest batch any stream trigger takes (one poller serves them all)."""
    return min((t.batch_size for t in stream_triggers().values()), default=100)


def start_stream_subscribers(stream_arn: str, before: dict[str, Any] | None = None) -> StreamPoller:
    """Poll the progress stream and invoke the stream-triggered functions, as the topology's triggers say
    (after ``before``: the local stack's own subscribers, such as its history's journal)."""
    handlers = {**(before or {}), **{name: load_handler(name) for name in stream_triggers()}}
    poller = StreamPoller(stream_arn, handlers, batch_size=stream_batch_size())
    poller.start()
    poller.ready.wait(10)
    return poller
