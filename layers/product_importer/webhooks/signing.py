"""The signature every delivery carries: ``X-Product-Importer-Signature: sha256=<hex HMAC-SHA256 of the body>``."""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Product-Importer-Signature"


def sign(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def verify(body: bytes, secret: str, header_value: str) -> bool:
    """What a receiver does (constant-time compare)."""
    return hmac.compare_digest(sign(body, secret), header_value.strip())
