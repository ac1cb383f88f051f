"""Webhook secrets at rest: sealed before they are written, opened only to sign a delivery.

``SecretBox`` is the port. ``KmsSecretBox`` (AWS) encrypts with the stage's KMS key, bound to the webhook
by the encryption context, so a ciphertext copied onto another webhook's row does not open; CloudTrail
logs every use. ``LocalSecretBox`` (local mode, tests) uses AES-256-GCM with a key from settings
(``WEBHOOKS_SECRET_KEY``, base64 of 32 bytes) or, in local mode, one generated once under ``LOCAL_DIR``;
the webhook id is the associated data. A stored value without one of the prefixes below is a secret
saved before sealing existed (plaintext): it still opens, and is sealed the next time it is written.
"""

from __future__ import annotations

import base64
import binascii
import os
from pathlib import Path
from typing import Any, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from product_importer.settings import Settings

KMS_PREFIX = "kms:v1:"
LOCAL_PREFIX = "aesgcm:v1:"
CONTEXT_KEY = "webhook_id"
PURPOSE = {"purpose": "product-importer-webhook-secret"}


class SecretUnavailableError(Exception):
    """A sealed secret could not be opened (wrong key, tampered row, KMS refused)."""


class SecretBox(Protocol):
    def seal(self, plaintext: str, *, webhook_id: str) -> str: ...

    def open(self, sealed: str, *, webhook_id: str) -> str: ...


def is_sealed(value: str) -> bool:
    return value.startswith((KMS_PREFIX, LOCAL_PREFIX))


class KmsSecretBox:
    def __init__(self, client: Any, key_id: str) -> None:
        self._kms = client
        self._key_id = key_id

    def _context(self, webhook_id: str) -> dict[str, str]:
        return {**PURPOSE, CONTEXT_KEY: webhook_id}

    def seal(self, plaintext: str, *, webhook_id: str) -> str:
        reply = self._kms.encrypt(
            KeyId=self._key_id, Plaintext=plaintext.encode(), EncryptionContext=self._context(webhook_id)
        )
        return KMS_PREFIX + base64.b64encode(reply["CiphertextBlob"]).decode()

    def open(self, sealed: str, *, webhook_id: str) -> str:
        if not is_sealed(sealed):
            return sealed
        if not sealed.startswith(KMS_PREFIX):
            raise SecretUnavailableError("this secret was sealed with a local key, not KMS")
        try:
            reply = self._kms.decrypt(
                CiphertextBlob=base64.b64decode(sealed.removeprefix(KMS_PREFIX)),
                KeyId=self._key_id,
                EncryptionContext=self._context(webhook_id),
            )
        except Exception as exc:  # botocore's ClientError and friends: the secret stays closed
            raise SecretUnavailableError(f"KMS refused to open the secret: {type(exc).__name__}") from exc
        return bytes(reply["Plaintext"]).decode()


class LocalSecretBox:
    NONCE_BYTES = 12

    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise ValueError("the webhook secret key is 32 bytes (base64 in WEBHOOKS_SECRET_KEY)")
        self._aead = AESGCM(key)

    def seal(self, plaintext: str, *, webhook_id: str) -> str:
        nonce = os.urandom(self.NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, plaintext.encode(), webhook_id.encode())
        return LOCAL_PREFIX + base64.b64encode(nonce + sealed).decode()

    def open(self, sealed: str, *, webhook_id: str) -> str:
        if not is_sealed(sealed):
            return sealed
        if not sealed.startswith(LOCAL_PREFIX):
            raise SecretUnavailableError("this secret was sealed with KMS, not the local key")
        try:
            raw = base64.b64decode(sealed.removeprefix(LOCAL_PREFIX), validate=True)
            plain = self._aead.decrypt(raw[: self.NONCE_BYTES], raw[self.NONCE_BYTES :], webhook_id.encode())
        except (InvalidTag, binascii.Error, ValueError) as exc:
            raise SecretUnavailableError("the secret does not open with this key") from exc
        return plain.decode()


def _local_key(settings: Settings) -> bytes:
    if settings.webhooks_secret_key:
        try:
            return base64.b64decode(settings.webhooks_secret_key, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ValueError("WEBHOOKS_SECRET_KEY must be base64 of 32 bytes") from exc
    if not settings.local_mode:
        raise RuntimeError("webhook secrets need WEBHOOKS_KMS_KEY_ID (AWS) or WEBHOOKS_SECRET_KEY")
    path = Path(settings.local_dir) / "webhook-secrets.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(base64.b64encode(os.urandom(32)).decode())
    return base64.b64decode(path.read_text().strip())


def secret_box(settings: Settings, kms_client: Any | None = None) -> SecretBox:
    """KMS where a key is configured (AWS), else the local key."""
    if settings.webhooks_kms_key_id:
        if kms_client is None:
            from product_importer.aws import cached_client

            kms_client = cached_client("kms")
        return KmsSecretBox(kms_client, settings.webhooks_kms_key_id)
    return LocalSecretBox(_local_key(settings))
