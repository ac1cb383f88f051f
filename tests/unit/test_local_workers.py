"""The local stack's workers stop within one grace period, however many there are (Ctrl-C stays quick)."""

from __future__ import annotations

import time

from infra import topology
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
