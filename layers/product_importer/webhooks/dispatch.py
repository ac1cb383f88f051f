"""What happens to the jobs on the webhooks queue.

``finish_import``: refresh the finished import's search documents (resumable), then record its event
exactly once and fan it out as one delivery job per subscribed, enabled webhook.
``deliver``: one attempt of one event to one webhook, logged; the caller schedules a retry with
``retry_delay`` while attempts remain.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg

from product_importer.ports import MessageQueue
from product_importer.products.search import refresh_for_import
from product_importer.webhooks.delivery import DeliveryOutcome, post_signed
from product_importer.webhooks.jobs import DeliveryJob, ImportFinished, delivery_job, finished_job
from product_importer.webhooks.store import TEST_EVENT, Webhook, WebhookNotFoundError, WebhookStore

MAX_ATTEMPTS = 5  # below the queue's maxReceiveCount (6): the DLQ only sees jobs that crash the function
MAX_DELAY_S = 900  # SQS's longest DelaySeconds, and a sane ceiling for visibility back-off


@dataclass
class DispatchPorts:
    connection: Callable[[], psycopg.Connection]
    jobs: MessageQueue
    timeout_s: float
    allow_private: bool
    time_left: Callable[[], float] | None = None  # seconds of this invocation left (None: unbounded)


def retry_delay(attempt: int, base_s: float, *, jitter: Callable[[], float] = random.random) -> int:
    """Seconds before attempt ``attempt + 1``: base, 4x base, 16x base … (±20 %), at most 15 minutes."""
    delay = base_s * 4 ** (attempt - 1) * (0.8 + 0.4 * jitter())
    return max(1, min(MAX_DELAY_S, round(delay)))


def finish_import(job: ImportFinished, ports: DispatchPorts) -> int:
    """Returns the number of delivery jobs enqueued (0 when this job was a repeat)."""
    imp = job.import_
    conn = ports.connection()
    refreshed = refresh_for_import(conn, imp.id, after=job.search_after or "", time_left=ports.time_left)
    if refreshed.resume_after is not None:
        ports.jobs.send_all([finished_job(imp, search_after=refreshed.resume_after)])
        return 0
    store = WebhookStore(conn)
    event = store.record_event(imp)
    if event.fanned_out:
        return 0
    targets = store.subscribers(event.type)
    ports.jobs.send_all(delivery_job(event.id, hook.id) for hook in targets)
    store.mark_fanned_out(event.id)
    return len(targets)


@dataclass(frozen=True)
class AttemptResult:
    outcome: DeliveryOutcome | None  # None: nothing to do (already delivered, webhook gone or disabled)
    retry: bool


def deliver(job: DeliveryJob, attempt: int, ports: DispatchPorts) -> AttemptResult:
    store = WebhookStore(ports.connection())
    event = store.get_event(job.event_id)
    try:
        hook = store.get(job.webhook_id)
    except WebhookNotFoundError:
        return AttemptResult(None, retry=False)
    if event is None or not hook.enabled or store.delivered(hook.id, event.id):
        return AttemptResult(None, retry=False)
    outcome = post_signed(
        hook.url,
        event.body.encode(),
        secret=hook.secret,
        event=event.type,
        delivery_id=event.id,
        timeout_s=ports.timeout_s,
        allow_private=ports.allow_private,
    )
    store.log_delivery(
        webhook_id=hook.id,
        event_id=event.id,
        event=event.type,
        attempt=attempt,
        ok=outcome.ok,
        status_code=outcome.status_code,
        latency_ms=outcome.latency_ms,
        error=outcome.error,
    )
    return AttemptResult(outcome, retry=not outcome.ok and attempt < MAX_ATTEMPTS)


def send_test(
    hook: Webhook, store: WebhookStore, *, timeout_s: float, allow_private: bool
) -> DeliveryOutcome:
    """A synchronous ``webhook.test`` delivery, logged like any other."""
    delivery_id = uuid.uuid4().hex
    body: dict[str, Any] = {"id": delivery_id, "type": TEST_EVENT, "import": None}
    outcome = post_signed(
        hook.url,
        json.dumps(body, separators=(",", ":")).encode(),
        secret=hook.secret,
        event=TEST_EVENT,
        delivery_id=delivery_id,
        timeout_s=timeout_s,
        allow_private=allow_private,
    )
    store.log_delivery(
        webhook_id=hook.id,
        event_id=None,
        event=TEST_EVENT,
        attempt=1,
        ok=outcome.ok,
        status_code=outcome.status_code,
        latency_ms=outcome.latency_ms,
        error=outcome.error,
    )
    return outcome
