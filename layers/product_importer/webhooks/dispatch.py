"""What happens to the jobs of the two webhook queues.

``finish_import`` (queue ``finished``, function ``finisher``): refresh the finished import's search
documents (resumable), then record the import's event exactly once and fan it out as one delivery job per
subscribed, enabled webhook onto the ``webhooks`` queue. Its own queue and function: a receiver that
never answers holds up deliveries, never the search refresh.
``deliver`` (queue ``webhooks``, function ``webhooks``): one attempt of one event to one webhook, logged;
the caller schedules a retry with ``retry_delay`` while attempts remain.
"""

from __future__ import annotations

import json
import logging
import random
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from product_importer.models import Import, ImportStatus
from product_importer.ports import MessageQueue
from product_importer.products.search import refresh_for_import
from product_importer.webhooks.delivery import DEFAULT_NETWORK, DeliveryOutcome, Network, post_signed
from product_importer.webhooks.jobs import DeliveryJob, ImportFinished, delivery_job, finished_job
from product_importer.webhooks.secrets import SecretBox, SecretUnavailableError, is_sealed
from product_importer.webhooks.store import (
    TEST_EVENT,
    Webhook,
    WebhookNotFoundError,
    WebhookStore,
    event_occasion,
    event_type_for,
)

logger = logging.getLogger(__name__)

# A receiver may be down for most of a day (a weekend deploy, an expired certificate) and still get every event:
# nine attempts over ~24 h, like the schedule of Standard Webhooks' reference service (Svix: 5 s … 10 h, ~28 h).
MAX_ATTEMPTS = 9  # below the queue's maxReceiveCount (infra.topology, 10): the DLQ only sees jobs that crash
MAX_DELAY_S = 36_000  # 10 h; a retry waits as its message's visibility timeout, which SQS allows up to 12 h


@dataclass
class FinishPorts:
    connection: Callable[[], psycopg.Connection]
    finished: MessageQueue  # a refresh that ran out of time continues here
    deliveries: MessageQueue  # the webhooks queue
    time_left: Callable[[], float] | None = None  # seconds of this invocation left (None: unbounded)


@dataclass
class DeliveryPorts:
    connection: Callable[[], psycopg.Connection]
    box: SecretBox
    timeout_s: float
    allow_private: bool
    network: Network = field(default_factory=lambda: DEFAULT_NETWORK)


def retry_delay(attempt: int, base_s: float, *, jitter: Callable[[], float] = random.random) -> int:
    """Seconds before attempt ``attempt + 1``: base, 4x base, 16x base … (±20 %), at most ``MAX_DELAY_S``
    (10 h). With the default base (10 s) the retries come ~10 s, 50 s, 3.5 min, 14 min, 57 min, 3.8 h, 14 h
    and 24 h after the first attempt."""
    delay = base_s * 4 ** (attempt - 1) * (0.8 + 0.4 * jitter())
    return max(1, min(MAX_DELAY_S, round(delay)))


def finish_import(job: ImportFinished, ports: FinishPorts) -> int:
    """Returns the number of delivery jobs enqueued (0 when this job was a repeat)."""
    imp = job.import_
    conn = ports.connection()
    refreshed = refresh_for_import(conn, imp.id, after=job.search_after or "", time_left=ports.time_left)
    if refreshed.resume_after is not None:
        ports.finished.send_all([finished_job(imp, search_after=refreshed.resume_after)])
        return 0
    store = WebhookStore(conn)
    event_type = event_type_for(imp)
    if event_type is None:
        return 0
    event = store.record_event(imp, event_type)
    if event.fanned_out:
        return 0
    by = datetime.fromisoformat(job.subscribed_by) if job.subscribed_by else None
    return _fan_out(store, event.id, event.type, ports.deliveries, by)


def _fan_out(store: WebhookStore, event_id: str, event_type: str, deliveries: MessageQueue,
             subscribed_by: datetime | None = None) -> int:
    targets = store.subscribers(event_type, created_by=subscribed_by, event_id=event_id)
    deliveries.send_all(delivery_job(event_id, hook.id) for hook in targets)
    store.mark_fanned_out(event_id)
    return len(targets)


# Deliveries are retried for about a day (MAX_ATTEMPTS, MAX_DELAY_S); what a restart finds older than this
# was owed so long ago that sending it now would surprise more than help.
RESUME_WINDOW = timedelta(hours=48)


def resume_after_restart(conn: psycopg.Connection, settled: Iterable[Import], ports: FinishPorts,
                         *, now: datetime | None = None) -> dict[str, int]:
    """Queue again the webhook work a restart of the local stack lost with its emulator's queues (in AWS
    the queues keep it): ``settled`` imports (ended within ``RESUME_WINDOW``; a ``reverting`` one for its
    run's end) whose event was never
    recorded go to the finisher; events recorded but not fanned out are fanned out; deliveries owed (not
    delivered, attempts left) are queued with the attempts already made. Each goes only to webhooks that
    existed when the event happened. Returns the counts ``{"imports", "events", "deliveries"}``."""
    since = (now or datetime.now(UTC)) - RESUME_WINDOW
    store = WebhookStore(conn)
    lost = []
    for imp, ended in (end for ended_import in settled for end in _ends(ended_import)):
        event_type = event_type_for(imp)
        if event_type and ended and datetime.fromisoformat(ended) >= since and not store.has_event(
                imp.id, event_type, event_occasion(imp)):
            lost.append(finished_job(imp, subscribed_by=ended))
    ports.finished.send_all(lost)
    owed = store.undelivered(since, MAX_ATTEMPTS)  # before the fan-outs below, whose jobs are not owed twice
    ports.deliveries.send_all(delivery_job(event_id, webhook_id, attempts) for event_id, webhook_id, attempts in owed)
    events = store.unfanned_events(since)
    for event_id, event_type, recorded_at in events:
        _fan_out(store, event_id, event_type, ports.deliveries, recorded_at)
    return {"imports": len(lost), "events": len(events), "deliveries": len(owed)}


def _ends(imp: Import) -> list[tuple[Import, str | None]]:
    """Each end of ``imp`` that makes an event, as the import was then, with its time: its run's end (also
    under a revert since: a stop right after an import completed and its revert began lost
    ``import.completed`` for good, and the partner heard only ``import.reverted``) and its revert's."""
    ends: list[tuple[Import, str | None]] = []
    previous = (imp.revert or {}).get("previous_status")
    if imp.status in (ImportStatus.REVERTING, ImportStatus.REVERTED) and previous in (
            ImportStatus.COMPLETED.value, ImportStatus.FAILED.value):
        ends.append((imp.model_copy(update={"status": ImportStatus(previous), "revert": None, "reverted_at": None}),
                     imp.finished_at))
    if imp.status.settled:
        ends.append((imp, imp.reverted_at if imp.status == ImportStatus.REVERTED else imp.finished_at))
    return ends


def seal_plaintext_secrets(store: WebhookStore, box: SecretBox) -> int:
    """Seal every secret that rows saved before sealing existed still hold in plaintext (``deliver``
    seals a webhook's on its next delivery anyway)."""
    sealed = 0
    for webhook_id, plaintext in store.unsealed_secrets():
        store.replace_secret(webhook_id, plaintext, box.seal(plaintext, webhook_id=webhook_id))
        sealed += 1
    return sealed


@dataclass(frozen=True)
class AttemptResult:
    outcome: DeliveryOutcome | None  # None: nothing to do (already delivered, webhook gone or disabled)
    retry: bool


def _secret(hook: Webhook, box: SecretBox) -> tuple[str | None, str | None]:
    """(the opened secret, None) or (None, why it could not be opened)."""
    if not hook.secret:
        return None, None
    try:
        return box.open(hook.secret, webhook_id=hook.id), None
    except SecretUnavailableError as exc:
        logger.error("webhook %s: %s", hook.id, exc)
        return None, "the webhook's secret could not be opened; set a new one"


def _for_hook(hook: Webhook, body: str) -> bool:
    """Whether the event (its exact JSON body) is one the webhook hears of now: a webhook for one partner
    only hears of that partner's imports, also when its partner was set after the event was fanned out."""
    if hook.partner is None:
        return True
    imp = json.loads(body).get("import") or {}
    return bool(imp.get("partner") == hook.partner)


def deliver(job: DeliveryJob, attempt: int, ports: DeliveryPorts) -> AttemptResult:
    store = WebhookStore(ports.connection())
    event = store.get_event(job.event_id)
    try:
        hook = store.get(job.webhook_id)
    except WebhookNotFoundError:
        return AttemptResult(None, retry=False)
    if event is None or not hook.enabled or not _for_hook(hook, event.body) or store.delivered(hook.id, event.id):
        return AttemptResult(None, retry=False)
    secret, problem = _secret(hook, ports.box)
    if secret and hook.secret and not is_sealed(hook.secret):  # saved before sealing existed: seal it now
        store.replace_secret(hook.id, hook.secret, ports.box.seal(secret, webhook_id=hook.id))
    if problem:
        outcome = DeliveryOutcome(False, None, 0, problem)
    else:
        outcome = post_signed(
            hook.url,
            event.body.encode(),
            secret=secret,
            event=event.type,
            delivery_id=event.id,
            timeout_s=ports.timeout_s,
            allow_private=ports.allow_private,
            network=ports.network,
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


def send_test(hook: Webhook, store: WebhookStore, ports: DeliveryPorts) -> DeliveryOutcome:
    """A synchronous ``webhook.test`` delivery within ``ports.timeout_s`` in all, logged like any other."""
    delivery_id = "test_" + uuid.uuid4().hex
    body: dict[str, Any] = {"id": delivery_id, "type": TEST_EVENT, "import": None}
    secret, problem = _secret(hook, ports.box)
    if problem:
        outcome = DeliveryOutcome(False, None, 0, problem)
    else:
        outcome = post_signed(
            hook.url,
            json.dumps(body, separators=(",", ":")).encode(),
            secret=secret,
            event=TEST_EVENT,
            delivery_id=delivery_id,
            timeout_s=ports.timeout_s,
            allow_private=ports.allow_private,
            network=ports.network,
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
