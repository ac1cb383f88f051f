"""``Transfers``: what the API asks of S3 for browsers: presigned uploads and downloads, and exports.

The API never hands file bytes through itself when they may be large: uploads go straight to S3 with a
presigned POST, and a large download (``errors.csv`` in AWS) is written to S3 as a stream (multipart, so
memory stays flat) and fetched by the browser with a short-lived presigned GET.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from product_importer.storage import StorageError

PART_BYTES = 8 * 1024 * 1024  # multipart part size (S3's minimum is 5 MiB for all but the last part)


@dataclass(frozen=True)
class PresignedPost:
    url: str
    fields: dict[str, str]
    expires_in: int


class Transfers:
    def __init__(self, client: Any) -> None:
        self._s3 = client

    def presigned_post(self, bucket: str, key: str, *, content_type: str, max_bytes: int,
                       expires_s: int) -> PresignedPost:
        """A POST that accepts exactly ``key``, at most ``max_bytes``, of ``content_type``."""
        try:
            post = self._s3.generate_presigned_post(
                Bucket=bucket,
                Key=key,
                Fields={"Content-Type": content_type},
                Conditions=[["content-length-range", 0, max_bytes], {"Content-Type": content_type}],
                ExpiresIn=expires_s,
            )
        except (ClientError, BotoCoreError) as exc:
            raise StorageError(f"presigning {key}: {exc}") from exc
        return PresignedPost(url=post["url"], fields=dict(post["fields"]), expires_in=expires_s)

    def presigned_get(self, bucket: str, key: str, *, expires_s: int, content_type: str,
                      content_disposition: str) -> str:
        """A short-lived GET URL whose response carries these headers (the browser saves the file by name)."""
        try:
            url: str = self._s3.generate_presigned_url(
                "get_object",
                Params={"Bucket": bucket, "Key": key, "ResponseContentType": content_type,
                        "ResponseContentDisposition": content_disposition},
                ExpiresIn=expires_s,
            )
        except (ClientError, BotoCoreError) as exc:
            raise StorageError(f"presigning {key}: {exc}") from exc
        return url

    def write_stream(self, bucket: str, key: str, blocks: Iterable[bytes], *, content_type: str) -> int:
        """Write ``blocks`` to ``key`` as they come (multipart upload in ``PART_BYTES`` parts); returns bytes."""
        upload_id: str | None = None
        try:
            upload_id = self._s3.create_multipart_upload(Bucket=bucket, Key=key, ContentType=content_type)["UploadId"]
            parts = []
            total = 0
            for number, part in enumerate(_parts(blocks, PART_BYTES), start=1):
                reply = self._s3.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=part)
                parts.append({"ETag": reply["ETag"], "PartNumber": number})
                total += len(part)
            if not parts:  # S3 needs at least one part
                reply = self._s3.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=1, Body=b"")
                parts.append({"ETag": reply["ETag"], "PartNumber": 1})
            self._s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id,
                                               MultipartUpload={"Parts": parts})
        except (ClientError, BotoCoreError) as exc:
            if upload_id is not None:
                self._abort(bucket, key, upload_id)
            raise StorageError(f"writing {key}: {exc}") from exc
        except BaseException:
            if upload_id is not None:
                self._abort(bucket, key, upload_id)
            raise
        return total

    def _abort(self, bucket: str, key: str, upload_id: str) -> None:
        with contextlib.suppress(ClientError, BotoCoreError):  # else the bucket's lifecycle rule cleans it
            self._s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)


def _parts(blocks: Iterable[bytes], size: int) -> Iterator[bytes]:
    buffer = bytearray()
    for block in blocks:
        buffer += block
        while len(buffer) >= size:
            yield bytes(buffer[:size])
            del buffer[:size]
    if buffer:
        yield bytes(buffer)
