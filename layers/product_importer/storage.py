"""Adapters for S3 (objects) and SQS (messages): ``S3ObjectStore`` and ``SqsMessageQueue`` implement the
``ObjectStore`` and ``MessageQueue`` ports (``product_importer.ports``) and turn ``ClientError`` into the
port's errors (``ObjectGoneError``, ``StorageError``, declared with the ports)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Sequence
from typing import Any, BinaryIO

from botocore.exceptions import ClientError

from product_importer.ports import ObjectGoneError, ObjectInfo, StorageError

__all__ = ["ObjectGoneError", "ObjectInfo", "S3ObjectStore", "SqsMessageQueue", "StorageError"]


class S3ObjectStore:
    """The ``ObjectStore`` port on S3: reads always pinned to one version."""

    PART_SIZE = 8 << 20  # multipart uploads (S3 takes parts of 5 MiB and more, but for the last)

    def __init__(self, client: Any) -> None:
        self._s3 = client

    def head(self, bucket: str, key: str, version_id: str | None) -> ObjectInfo:
        try:
            reply = self._s3.head_object(Bucket=bucket, Key=key, **_version(version_id))
        except ClientError as exc:
            raise _translate(exc) from exc
        return ObjectInfo(int(reply["ContentLength"]), reply["ETag"].strip('"'), reply.get("VersionId"),
                          reply.get("ContentType") or None)

    def read_range(self, bucket: str, key: str, version_id: str | None, start: int, end: int) -> bytes:
        """Bytes ``[start, end)`` of the pinned version."""
        if end <= start:
            return b""
        try:
            reply = self._s3.get_object(Bucket=bucket, Key=key, Range=f"bytes={start}-{end - 1}",
                                        **_version(version_id))
            data: bytes = reply["Body"].read()
        except ClientError as exc:
            raise _translate(exc) from exc
        return data

    def stream_from(self, bucket: str, key: str, version_id: str | None, start: int) -> BinaryIO:
        """A streaming body from ``start`` to the end (read with ``.read(n)``; memory stays flat)."""
        try:
            reply = self._s3.get_object(Bucket=bucket, Key=key, Range=f"bytes={start}-", **_version(version_id))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "InvalidRange":
                return io.BytesIO(b"")  # an empty data region (a header-only file)
            raise _translate(exc) from exc
        body: BinaryIO = reply["Body"]
        return body


    def stream_range(self, bucket: str, key: str, version_id: str | None, start: int, end: int) -> BinaryIO:
        """Bytes ``[start, end)`` of the pinned version as a stream (read it with ``.read(n)``)."""
        if end <= start:
            return io.BytesIO(b"")
        try:
            reply = self._s3.get_object(Bucket=bucket, Key=key, Range=f"bytes={start}-{end - 1}",
                                        **_version(version_id))
        except ClientError as exc:
            raise _translate(exc) from exc
        body: BinaryIO = reply["Body"]
        return body

    def write_stream(self, bucket: str, key: str, blocks: Iterable[bytes]) -> ObjectInfo:
        """Write ``blocks`` as one object with a multipart upload (memory: about one part)."""
        try:
            upload = self._s3.create_multipart_upload(Bucket=bucket, Key=key, ContentType="text/csv")
            upload_id = upload["UploadId"]
            parts: list[dict[str, Any]] = []
            buffer = bytearray()
            size = 0

            def flush() -> None:
                number = len(parts) + 1
                reply = self._s3.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number,
                                             Body=bytes(buffer))
                parts.append({"PartNumber": number, "ETag": reply["ETag"]})
                buffer.clear()

            try:
                for block in blocks:
                    buffer += block
                    size += len(block)
                    if len(buffer) >= self.PART_SIZE:
                        flush()
                if buffer or not parts:
                    flush()
                done = self._s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id,
                                                          MultipartUpload={"Parts": parts})
            except BaseException:
                self._s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
                raise
        except ClientError as exc:
            raise _translate(exc) from exc
        return ObjectInfo(size, str(done.get("ETag", "")).strip('"'), done.get("VersionId"))


def _version(version_id: str | None) -> dict[str, str]:
    return {"VersionId": version_id} if version_id and version_id != "null" else {}


def _translate(exc: ClientError) -> Exception:
    code = exc.response.get("Error", {}).get("Code", "")
    if code in ("NoSuchKey", "NoSuchVersion", "404", "NotFound"):
        return ObjectGoneError(code)
    return StorageError(f"{code}: {exc}")


class SqsMessageQueue:
    """The ``MessageQueue`` port on SQS: JSON messages in batches of 10 (the SQS maximum)."""

    BATCH = 10

    def __init__(self, client: Any, queue_url: str) -> None:
        self._sqs = client
        self._url = queue_url

    def send_all(self, bodies: Iterable[dict[str, Any]]) -> int:
        sent = 0
        batch: list[dict[str, Any]] = []
        for body in bodies:
            batch.append(body)
            if len(batch) == self.BATCH:
                sent += self._send(batch)
                batch = []
        if batch:
            sent += self._send(batch)
        return sent

    def _send(self, batch: Sequence[dict[str, Any]]) -> int:
        entries = [{"Id": str(i), "MessageBody": json.dumps(body, separators=(",", ":"))} for i, body in enumerate(batch)]
        for _attempt in range(5):
            try:
                reply = self._sqs.send_message_batch(QueueUrl=self._url, Entries=entries)
            except ClientError as exc:
                raise StorageError(str(exc)) from exc
            failed = {f["Id"] for f in reply.get("Failed", [])}
            if not failed:
                return len(batch)
            entries = [e for e in entries if e["Id"] in failed]
        raise StorageError(f"SQS refused {len(entries)} message(s) after 5 attempts")
