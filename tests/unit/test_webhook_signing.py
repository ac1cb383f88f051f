"""Webhook signatures, the SSRF guard, retry back-off, and what one delivery attempt sends."""

from __future__ import annotations

import hashlib
import hmac
import json

import httpx
import pytest
from product_importer.webhooks.delivery import post_signed
from product_importer.webhooks.dispatch import MAX_DELAY_S, retry_delay
from product_importer.webhooks.jobs import DeliveryJob, ImportFinished, parse_job
from product_importer.webhooks.signing import SIGNATURE_HEADER, sign, verify
from product_importer.webhooks.targets import UnsafeTargetError, check_target, check_url_syntax


def test_signature_is_the_hex_hmac_sha256_of_the_exact_body() -> None:
    body = b'{"type":"import.completed","import":{"id":"x"}}'
    expected = hmac.new(b"top secret", body, hashlib.sha256).hexdigest()
    assert sign(body, "top secret") == f"sha256={expected}"
    assert verify(body, "top secret", f"sha256={expected}")
    assert not verify(body + b" ", "top secret", f"sha256={expected}")
    assert not verify(body, "other", f"sha256={expected}")


def test_a_delivery_posts_the_body_signed_with_event_headers() -> None:
    # given a receiver that records what it gets
    seen: list[httpx.Request] = []

    def receive(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    body = json.dumps({"type": "import.completed", "import": {"id": "i1"}}).encode()
    with httpx.Client(transport=httpx.MockTransport(receive)) as client:
        # when one event is delivered
        outcome = post_signed(
            "https://hooks.example.com/x",
            body,
            secret="k",
            event="import.completed",
            delivery_id="d1",
            timeout_s=5,
            allow_private=True,
            client=client,
        )
    # then the receiver can verify it, and the outcome says ok
    [request] = seen
    assert request.content == body
    assert verify(request.content, "k", request.headers[SIGNATURE_HEADER])
    assert request.headers["X-Product-Importer-Event"] == "import.completed"
    assert request.headers["X-Product-Importer-Delivery"] == "d1"
    assert outcome.ok and outcome.status_code == 204 and outcome.error is None


def test_a_failing_receiver_and_a_timeout_are_outcomes_not_exceptions() -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, text="down for maintenance")

    def hang(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    for transport, status, error in ((fail, 503, "HTTP 503"), (hang, None, "timed out")):
        with httpx.Client(transport=httpx.MockTransport(transport)) as client:
            outcome = post_signed(
                "https://hooks.example.com/x",
                b"{}",
                secret=None,
                event="import.failed",
                delivery_id="d",
                timeout_s=2,
                allow_private=True,
                client=client,
            )
        assert not outcome.ok and outcome.status_code == status
        assert outcome.error is not None and error in outcome.error


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "http://localhost:8080/",
        "http://10.1.2.3/",
        "http://192.168.0.10/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/",
        "http://[fd00::1]/",
        "http://0.0.0.0/",
        "http://[::ffff:127.0.0.1]/",
        "ftp://example.com/",
        "http://user:pw@example.com/",
        "https:///nohost",
    ],
)
def test_private_and_malformed_targets_are_refused(url: str) -> None:
    with pytest.raises(UnsafeTargetError):
        check_url_syntax(url, allow_private=False)


def test_private_targets_are_allowed_when_settings_say_so() -> None:
    assert check_url_syntax("http://127.0.0.1:9000/hook", allow_private=True) == "127.0.0.1"
    check_target("http://127.0.0.1:9000/hook", allow_private=True)


def test_a_refused_target_is_not_contacted() -> None:
    def never(request: httpx.Request) -> httpx.Response:
        raise AssertionError("contacted a private address")

    with httpx.Client(transport=httpx.MockTransport(never)) as client:
        outcome = post_signed(
            "http://169.254.169.254/",
            b"{}",
            secret="k",
            event="import.completed",
            delivery_id="d",
            timeout_s=1,
            allow_private=False,
            client=client,
        )
    assert not outcome.ok and outcome.error is not None and outcome.error.startswith("refused")


def test_retry_delays_grow_and_are_capped() -> None:
    delays = [retry_delay(n, 10, jitter=lambda: 0.5) for n in range(1, 7)]
    assert delays == [10, 40, 160, 640, MAX_DELAY_S, MAX_DELAY_S]
    assert retry_delay(1, 0.1, jitter=lambda: 0.0) == 1  # never zero


def test_jobs_round_trip() -> None:
    finished = parse_job(
        json.dumps(
            {
                "kind": "import.finished",
                "import": {
                    "id": "i",
                    "filename": "f.csv",
                    "source": "upload",
                    "status": "completed",
                    "created_at": "t",
                },
            }
        )
    )
    assert isinstance(finished, ImportFinished) and finished.import_.id == "i"
    assert isinstance(parse_job('{"kind": "delivery", "event_id": "e", "webhook_id": "w"}'), DeliveryJob)
