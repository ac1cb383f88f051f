"""``post_signed``: one signed POST to one webhook, with a timeout, never following redirects."""

from __future__ import annotations

import time
from dataclasses import dataclass

import httpx

from product_importer.webhooks.signing import SIGNATURE_HEADER, sign
from product_importer.webhooks.targets import UnsafeTargetError, check_target

USER_AGENT = "product-importer-webhooks/1"
MAX_ERROR = 500


@dataclass(frozen=True)
class DeliveryOutcome:
    ok: bool
    status_code: int | None
    latency_ms: int
    error: str | None


def post_signed(
    url: str,
    body: bytes,
    *,
    secret: str | None,
    event: str,
    delivery_id: str,
    timeout_s: float,
    allow_private: bool,
    client: httpx.Client | None = None,
) -> DeliveryOutcome:
    """POST ``body``; ok means a 2xx answer within the timeout. Never raises for the target's failures."""
    started = time.perf_counter()

    def elapsed() -> int:
        return int((time.perf_counter() - started) * 1000)

    try:
        check_target(url, allow_private=allow_private)
    except UnsafeTargetError as exc:
        return DeliveryOutcome(False, None, elapsed(), f"refused: {exc}")
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Product-Importer-Event": event,
        "X-Product-Importer-Delivery": delivery_id,
    }
    if secret:
        headers[SIGNATURE_HEADER] = sign(body, secret)
    http = client or httpx.Client(timeout=timeout_s, follow_redirects=False, trust_env=False)
    try:
        response = http.post(url, content=body, headers=headers, timeout=timeout_s)
    except httpx.TimeoutException:
        return DeliveryOutcome(False, None, elapsed(), f"timed out after {timeout_s:g}s")
    except httpx.HTTPError as exc:
        return DeliveryOutcome(False, None, elapsed(), f"{type(exc).__name__}: {exc}"[:MAX_ERROR])
    finally:
        if client is None:
            http.close()
    ok = 200 <= response.status_code < 300
    error = None if ok else f"HTTP {response.status_code}: {response.text[:200]}"
    return DeliveryOutcome(ok, response.status_code, elapsed(), error)
