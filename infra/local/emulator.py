"""The AWS emulator of the local stack: moto's server, with a local-speed fix and S3's own behaviour where
moto's differs.

moto answers a ranged GET by reading the whole object out of its buffer and slicing it. A consumer
reads a 1–2 MB range per chunk, so a 130 MB upload cost the emulator ~130 MB of copying per chunk (13 GB
for one 500k-row import), which made the emulator, not our code, the bottleneck of the local pipeline.
Here the object's bytes are kept for the few most recently read objects, and dropped when it changes.
Only the emulator process is patched; handlers talk to it through boto3 exactly as to AWS.

The emulator answers only requests for this machine from the UI's pages or from programs
(``infra.local.origin_guard``): moto itself allows every origin. And a browser-based upload (the presigned
POST) must satisfy its policy, as in S3 (``post_policy_refusal``): moto stores whatever is posted.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import subprocess
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape as xml_escape

from infra.local.net import wait_for_port
from infra.local.origin_guard import ENV_ALLOWED_ORIGINS

# moto answers a ranged GET by copying the whole object (docs/benchmarks.md): the bytes of the objects read
# last are kept, so a chunk's read costs its range, not its file. Bounded by bytes, not objects: three 1M-row
# files (267 MB each) held 0.8 GB for as long as the stack ran (found at scale); the object read last stays
# whatever its size (its chunks are being read).
CACHE_BYTES = 512 << 20
CACHE_OBJECTS = 16


class EmulatorProcess:
    """The emulator in a child process of its own (``python -m infra.local.emulator``), logging to
    ``moto.log`` in the state directory."""

    def __init__(
        self, host: str, port: int, state_dir: Path, allowed_origins: tuple[str, ...] = ()
    ) -> None:
        self.host, self.port, self.state_dir = host, port, state_dir
        self.allowed_origins = allowed_origins  # the UI's pages (origin_guard); programs always pass
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def exit_code(self) -> int | None:
        """The exit code of an emulator that stopped by itself (killed, crashed); None while it runs or
        before it started."""
        return None if self._process is None else self._process.poll()

    def start(self) -> None:
        log = (self.state_dir / "moto.log").open("ab")
        self._process = subprocess.Popen(
            [sys.executable, "-m", "infra.local.emulator", "-H", self.host, "-p", str(self.port)],
            stdout=log, stderr=subprocess.STDOUT, env={
                **os.environ, "MOTO_ALLOW_NONEXISTENT_REGION": "true",
                ENV_ALLOWED_ORIGINS: ",".join(self.allowed_origins),
            },
            preexec_fn=_die_with_parent,
            start_new_session=True,  # Ctrl-C stops the stack, which saves state, then stops the emulator
        )
        wait_for_port(self.host, self.port, 30, "the AWS emulator (moto)")

    def stop(self) -> None:
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._process.kill()


def _die_with_parent() -> None:
    """Runs in the emulator child: ask Linux to SIGTERM it when the stack's process dies abruptly."""
    try:
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def patch_moto() -> None:
    from moto.s3.models import FakeKey

    recent: OrderedDict[int, FakeKey] = OrderedDict()  # least recently read first
    guard = threading.Lock()
    plain = FakeKey.value

    def read_value(self: FakeKey) -> bytes:
        cached: bytes | None = getattr(self, "_pi_value", None)
        if cached is not None:
            with guard:
                if id(self) in recent:
                    recent.move_to_end(id(self))
            return cached
        value: bytes = plain.fget(self)  # type: ignore[attr-defined]
        with guard:
            self._pi_value = value  # type: ignore[attr-defined]
            recent[id(self)] = self
            recent.move_to_end(id(self))
            held = sum(len(getattr(key, "_pi_value", None) or b"") for key in recent.values())
            while len(recent) > 1 and (held > CACHE_BYTES or len(recent) > CACHE_OBJECTS):
                _, evicted = recent.popitem(last=False)
                held -= len(getattr(evicted, "_pi_value", None) or b"")
                evicted._pi_value = None  # type: ignore[attr-defined]
        return value

    def write_value(self: FakeKey, new_value: bytes) -> None:
        self._pi_value = None  # type: ignore[attr-defined]
        plain.fset(self, new_value)  # type: ignore[attr-defined]

    FakeKey.value = property(read_value, write_value)  # type: ignore[method-assign,assignment]
    _serialise_stream_records()
    _enforce_post_policies()
    _s3_events_name_the_version()


def _s3_events_name_the_version() -> None:
    """S3's ObjectCreated notifications name the version written (``versionId``, in a versioned bucket)
    and carry a ``sequencer`` that grows with each write to a key; moto's carry only key, size and ETag.
    The splitter then had to HEAD the key for its version, and a partner who wrote one key twice before
    the first event was read had both events pinned to the second version: one import, the first file's
    lost (CONTRACT §4: each new version makes a new import). Here they carry both, as S3's do."""
    from moto.s3 import notifications

    if getattr(notifications._get_s3_event, "_pi_versioned", False):
        return
    plain = notifications._get_s3_event
    lock = threading.Lock()
    last = [0]

    def sequencer() -> str:
        with lock:  # increasing, also for two writes within one clock tick
            last[0] = max(last[0] + 1, time.time_ns())
            return f"{last[0]:020X}"

    def get_s3_event(event_name: str, bucket: Any, key: Any, notification_id: str) -> dict[str, Any]:
        event: dict[str, Any] = plain(event_name, bucket, key, notification_id)
        for record in event.get("Records", []):
            obj = record["s3"]["object"]
            version = getattr(key, "version_id", None)
            if version and version != "null":  # "null": written while the bucket was not versioned
                obj["versionId"] = version
            obj["sequencer"] = sequencer()
        return event

    get_s3_event._pi_versioned = True  # type: ignore[attr-defined]
    notifications._get_s3_event = get_s3_event


def _serialise_stream_records() -> None:
    """moto numbers a DynamoDB stream record (``len(items)`` + start) and appends it in two steps, without a
    lock: two writes at once got one sequence number, and a reader whose iterator stood on the pair was
    handed the last record again on every poll (a WebSocket client got one final message 2,139 times,
    and each queued another finisher job)."""
    from moto.dynamodb.models.table import StreamShard

    if getattr(StreamShard.add, "_pi_serialised", False):
        return
    lock = threading.Lock()
    plain = StreamShard.add

    def add(self: StreamShard, old: Any, new: Any) -> None:
        with lock:
            plain(self, old, new)

    add._pi_serialised = True  # type: ignore[attr-defined]
    StreamShard.add = add  # type: ignore[method-assign]


# Form fields a POST policy need not name (AWS: "Creating a POST policy"): the signature's own fields.
_UNSIGNED_FIELDS = frozenset({"policy", "signature", "awsaccesskeyid", "x-amz-signature", "file"})


def post_policy_refusal(form: Mapping[str, str], bucket: str, size: int,
                        now: datetime | None = None) -> tuple[int, str, str] | None:
    """Why S3 would refuse this browser-based upload (a multipart POST of ``form`` fields and a file of
    ``size`` bytes to ``bucket``), as ``(status, code, message)``; None when it accepts it.

    moto stores whatever is POSTed: another key than the presigned one, a file over its
    ``content-length-range``, after its ``expiration``, or with no policy at all. S3 refuses each
    (CONTRACT §3: the presigned POST "only accepts this one key, at most the configured max size,
    expiring within 15 minutes"), and so does the local stack now. The signature itself is not
    recomputed (moto accepts any credentials); its presence is required, as S3 requires one."""
    fields = {name.lower(): value for name, value in form.items()}
    encoded = fields.get("policy")
    if not encoded or not (fields.get("signature") or fields.get("x-amz-signature")):
        return 403, "AccessDenied", "Access Denied"  # an anonymous write to a private bucket
    try:
        policy = json.loads(base64.b64decode(encoded, validate=True))
        expiration = datetime.fromisoformat(str(policy["expiration"]).replace("Z", "+00:00"))
        conditions = list(policy.get("conditions", []))
    except (ValueError, TypeError, KeyError, binascii.Error):
        return 400, "InvalidPolicyDocument", "Invalid Policy: Invalid JSON."
    if (now or datetime.now(UTC)) >= expiration:
        return 403, "AccessDenied", "Invalid according to Policy: Policy expired."
    values = {**fields, "bucket": bucket}
    named: set[str] = set()
    for condition in conditions:
        if isinstance(condition, dict):
            checks = [("eq", f"${name}", value) for name, value in condition.items()]
        elif isinstance(condition, list) and condition and condition[0] == "content-length-range":
            low, high = int(condition[1]), int(condition[2])
            if size > high:
                return 400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size"
            if size < low:
                return 400, "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed size"
            continue
        elif isinstance(condition, list) and len(condition) == 3:
            checks = [(str(condition[0]).lower(), str(condition[1]), condition[2])]
        else:
            return 400, "InvalidPolicyDocument", f"Invalid Policy: Invalid Condition: {json.dumps(condition)}"
        for operator, field, expected in checks:
            name = field.removeprefix("$").lower()
            named.add(name)
            actual = values.get(name, "")
            if not (actual == expected if operator == "eq" else
                    operator == "starts-with" and actual.startswith(str(expected))):
                return 403, "AccessDenied", ("Invalid according to Policy: Policy Condition failed: "
                                             + json.dumps([operator, field, expected]))
    extra = sorted(name for name in fields
                   if name not in named and name not in _UNSIGNED_FIELDS and not name.startswith("x-ignore-"))
    if extra:
        return 403, "AccessDenied", f"Invalid according to Policy: Extra input fields: {extra[0]}"
    return None


def _enforce_post_policies() -> None:
    from moto.s3.responses import S3Response

    if getattr(S3Response._bucket_response_post, "_pi_policies", False):
        return
    plain = S3Response._bucket_response_post

    def bucket_response_post(self: S3Response, request: Any, bucket_name: str) -> Any:
        if "key" in self.form_data and not self.is_delete_keys():  # a browser-based upload (HTML form)
            body = self.raw_body if isinstance(self.raw_body, bytes) else str(self.raw_body or "").encode()
            refusal = post_policy_refusal(self.form_data, bucket_name, len(body))
            if refusal is not None:
                status, code, message = refusal
                return status, {"Content-Type": "application/xml"}, (
                    '<?xml version="1.0" encoding="UTF-8"?>\n'
                    f"<Error><Code>{code}</Code><Message>{xml_escape(message)}</Message></Error>")
        return plain(self, request, bucket_name)

    bucket_response_post._pi_policies = True  # type: ignore[attr-defined]
    S3Response._bucket_response_post = bucket_response_post  # type: ignore[method-assign]


def main(argv: list[str] | None = None) -> Any:
    """moto's server, wrapped in the local edge check (``infra.local.origin_guard``: loopback Host, the
    UI's Origin; the UI's origins come in ``PI_LOCAL_ALLOWED_ORIGINS``)."""
    import argparse

    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import run_simple

    from infra.local.origin_guard import OriginPolicy, guard_wsgi

    parser = argparse.ArgumentParser(description="the local stack's AWS emulator (moto)")
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=4566)
    args = parser.parse_args(argv if argv is not None else sys.argv[1:])
    os.environ.setdefault("MOTO_PORT", str(args.port))
    patch_moto()
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(args.host, args.port, guard_wsgi(app, OriginPolicy.from_env()), threaded=True,
               request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
