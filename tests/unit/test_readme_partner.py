"""README's partner section says what a webhook receiver gets; these check it against the code: its
receiver snippet verifies a delivery signed as ``deliver`` signs it (and refuses a forged one), and the
event types, the retry times and the number of attempts it states are the ones the code uses."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import pytest
from product_importer.settings import Settings
from product_importer.webhooks.dispatch import MAX_ATTEMPTS, retry_delay
from product_importer.webhooks.signing import new_secret, signature_headers
from product_importer.webhooks.store import EVENT_TYPES
from standardwebhooks import WebhookVerificationError

README = Path(__file__).resolve().parents[2] / "README.md"


def _section() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index("## Partner systems: drops and webhooks")
    return text[start:text.index("\n## ", start + 1)]


def _python(naming: str) -> str:
    """The partner section's Python block that has ``naming`` in it."""
    blocks = [code for code in re.findall(r"```python\n(.*?)```", _section(), re.S) if naming in code]
    assert blocks, f"the partner section has no Python block with {naming!r}"
    return str(blocks[0])


def _receive() -> Any:
    namespace: dict[str, Any] = {}
    exec(compile(_python("def receive("), str(README), "exec"), namespace)  # our own README
    return namespace["receive"]


def _delivery(secret: str, *, at: float | None = None) -> tuple[bytes, dict[str, str]]:
    event_id = "5b9235efd98e4d50bcfc62b565504d1e"
    body = json.dumps({"id": event_id, "type": "import.completed", "import": {"id": "i", "status": "completed"}},
                      separators=(",", ":")).encode()
    return body, signature_headers(secret, event_id, body, int(at if at is not None else time.time()))


def test_the_readme_receiver_verifies_a_delivery_once_and_refuses_a_forged_or_stale_one() -> None:
    receive, secret, seen = _receive(), new_secret(), set[str]()
    body, headers = _delivery(secret)

    event = receive(body, headers, secret, seen)
    again = receive(body, {k.title(): v for k, v in headers.items()}, secret, seen)  # a retry, as proxies case it

    assert event["type"] == "import.completed" and event["import"]["status"] == "completed"
    assert again is None
    with pytest.raises(WebhookVerificationError):
        receive(body.replace(b"completed", b"failed"), headers, secret, set())
    with pytest.raises(WebhookVerificationError):
        receive(body, headers, new_secret(), set())
    with pytest.raises(WebhookVerificationError):
        receive(*_delivery(secret, at=time.time() - 600), secret, set())


def test_the_readme_names_the_event_types_the_retry_times_and_the_attempts() -> None:
    section = _section()
    default_base = Settings.model_fields["webhooks_retry_base_s"].default
    after_first = []
    waited = 0
    for attempt in range(1, MAX_ATTEMPTS):
        waited += retry_delay(attempt, default_base, jitter=lambda: 0.5)
        after_first.append(waited)

    assert all(f"`{event}`" in section for event in EVENT_TYPES)
    # "about 10 s, 50 s, 3.5 min, 14 min, 57 min, 3.8 h, 14 h and 24 h"
    assert after_first == [10, 50, 210, 850, 3410, 13650, 49650, 85650]
    stated = "10 s, 50 s, 3.5 min, 14 min, 57 min, 3.8 h, 14 h and 24 h"
    assert stated in " ".join(section.split())
    assert MAX_ATTEMPTS == 9 and "the ninth attempt" in " ".join(section.split())
