"""Standard Webhooks signatures (https://www.standardwebhooks.com, CONTRACT §6).

Every delivery carries ``webhook-id`` (the event's id: the same on every retry), ``webhook-timestamp``
(Unix seconds of this attempt) and ``webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">``.
Secrets are ``whsec_<base64 of 24-64 random bytes>``; ours are generated with 32. Receivers verify with any
Standard Webhooks library (``standardwebhooks.Webhook(secret).verify(body, headers)``), which we use
to sign as well.
"""

from __future__ import annotations

import base64
import binascii
import os
from datetime import UTC, datetime

from standardwebhooks import Webhook

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32
MIN_SECRET_BYTES, MAX_SECRET_BYTES = 24, 64
ID_HEADER, TIMESTAMP_HEADER, SIGNATURE_HEADER = "webhook-id", "webhook-timestamp", "webhook-signature"


class InvalidSecretError(ValueError):
    """A secret given by the user that is not ``whsec_`` + base64 of 24-64 bytes."""


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(os.urandom(SECRET_BYTES)).decode()


def check_secret(secret: str) -> str:
    """The secret if it is a well-formed ``whsec_`` secret; ``InvalidSecretError`` otherwise."""
    if not secret.startswith(SECRET_PREFIX):
        raise InvalidSecretError("a webhook secret looks like whsec_<base64>; leave it out to get one generated")
    try:
        key = base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidSecretError("the part after whsec_ must be base64") from exc
    if not MIN_SECRET_BYTES <= len(key) <= MAX_SECRET_BYTES:
        raise InvalidSecretError(f"the key must be {MIN_SECRET_BYTES}-{MAX_SECRET_BYTES} bytes")
    return secret


def _signer(secret: str) -> Webhook:
    if secret.startswith(SECRET_PREFIX):
        return Webhook(secret)
    # A secret saved before Standard Webhooks (free text): its UTF-8 bytes are the key.
    return Webhook(secret.encode())


def signature_headers(secret: str | None, msg_id: str, body: bytes, timestamp: int) -> dict[str, str]:
    """The three Standard Webhooks headers for one attempt (no signature without a secret)."""
    headers = {ID_HEADER: msg_id, TIMESTAMP_HEADER: str(timestamp)}
    if secret:
        when = datetime.fromtimestamp(timestamp, UTC)
        headers[SIGNATURE_HEADER] = _signer(secret).sign(msg_id, when, body.decode("utf-8"))
    return headers
