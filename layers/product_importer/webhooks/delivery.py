"""``post_signed``: one signed POST to one webhook — to the checked address, within a time and size bound.

- The target is resolved once and checked (``targets.resolve_target``); the connection goes to that
  address, with the URL's host name as ``Host`` header and as TLS SNI and certificate name, so the HTTP
  client never resolves the name again (no DNS rebinding between check and connection).
- Redirects are not followed: a 3xx answer is a failed attempt that says so.
- The whole attempt — connect, TLS, sending, waiting, reading — ends after ``timeout_s``, however slowly
  the server drips bytes, and at most ``max_response_bytes`` of the answer are read.
- The target's failures are outcomes, never exceptions.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from product_importer.webhooks.signing import signature_headers
from product_importer.webhooks.targets import Resolver, UnsafeTargetError, resolve_target, system_resolver

USER_AGENT = "product-importer-webhooks/2"
MAX_ERROR = 500
MAX_RESPONSE_BYTES = 64 * 1024


@dataclass(frozen=True)
class DeliveryOutcome:
    ok: bool
    status_code: int | None
    latency_ms: int
    error: str | None


@dataclass(frozen=True)
class Network:
    """How deliveries reach the internet (tests replace parts of it)."""

    resolver: Resolver = system_resolver
    # httpx transport (None: a real connection); the TLS trust used to verify the receiver's certificate
    transport: httpx.AsyncBaseTransport | None = None
    verify: ssl.SSLContext | bool = True
    max_response_bytes: int = MAX_RESPONSE_BYTES


DEFAULT_NETWORK = Network()


def post_signed(
    url: str,
    body: bytes,
    *,
    secret: str | None,
    event: str,
    delivery_id: str,
    timeout_s: float,
    allow_private: bool,
    network: Network = DEFAULT_NETWORK,
    clock: Callable[[], float] = time.time,
) -> DeliveryOutcome:
    """POST ``body``; ok means a 2xx answer within ``timeout_s`` (the whole attempt)."""
    started = time.perf_counter()

    def elapsed() -> int:
        return int((time.perf_counter() - started) * 1000)

    try:
        target = resolve_target(url, allow_private=allow_private, resolver=network.resolver)
    except UnsafeTargetError as exc:
        return DeliveryOutcome(False, None, elapsed(), f"refused: {exc}")
    headers = {
        "Host": target.host_header,
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Accept-Encoding": "identity",
        "X-Product-Importer-Event": event,
        **signature_headers(secret, delivery_id, body, int(clock())),
    }
    try:
        status, text = asyncio.run(_attempt(target.connect_url, target.host, body, headers, timeout_s, network))
    except TimeoutError:
        return DeliveryOutcome(False, None, elapsed(), f"timed out after {timeout_s:g}s")
    except (httpx.HTTPError, httpx.InvalidURL) as exc:  # InvalidURL is no HTTPError
        return DeliveryOutcome(False, None, elapsed(), f"{type(exc).__name__}: {exc}"[:MAX_ERROR])
    except OSError as exc:
        return DeliveryOutcome(False, None, elapsed(), f"{type(exc).__name__}: {exc}"[:MAX_ERROR])
    if 200 <= status < 300:
        return DeliveryOutcome(True, status, elapsed(), None)
    if 300 <= status < 400:
        return DeliveryOutcome(False, status, elapsed(), f"HTTP {status}: redirects are not followed")
    return DeliveryOutcome(False, status, elapsed(), f"HTTP {status}: {text[:200]}")


async def _attempt(
    connect_url: str, host: str, body: bytes, headers: dict[str, str], timeout_s: float, network: Network
) -> tuple[int, str]:
    async with asyncio.timeout(timeout_s):  # the whole attempt, not each read
        async with httpx.AsyncClient(
            transport=network.transport,
            verify=network.verify,
            follow_redirects=False,
            trust_env=False,  # no proxy from the environment: the connection goes to the pinned address
            timeout=httpx.Timeout(timeout_s),
        ) as client:
            request = client.build_request(
                "POST", connect_url, content=body, headers=headers, extensions={"sni_hostname": host}
            )
            response = await client.send(request, stream=True)
            try:
                received = bytearray()
                if response.is_stream_consumed:  # an in-memory answer (test transports)
                    received += response.content[: network.max_response_bytes]
                else:
                    # raw: never decompressed, so a small compressed answer cannot grow past the bound
                    async for piece in response.aiter_raw():
                        received += piece
                        if len(received) >= network.max_response_bytes:
                            break  # enough to tell the user what the receiver said; the rest is not read
                text = bytes(received[: network.max_response_bytes]).decode("utf-8", "replace")
                return response.status_code, text
            finally:
                await response.aclose()
