"""``ImportJobs``: how the API starts the pipeline's asynchronous work on an existing import.

Every job is one small message (``models``), on the queue of the function that does it:

| job                          | message           | queue          | who handles it                        |
| ---------------------------- | ----------------- | -------------- | ------------------------------------- |
| split an applied preview     | ``SplitRequest``   | object events  | splitter (as if its object had landed) |
| revert a finished import     | ``RevertRequest``  | chunks         | consumer, one per planned chunk       |
| carry out a held replace     | ``ReplaceRequest`` | chunks         | consumer                              |

The API has already moved the import's item (``pending`` with ``preview_of``; ``reverting`` with its
``revert`` object; ``replace.confirmed_at``) before it sends, so a redelivered or duplicated message finds
the work claimed and is a no-op where it was done.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from product_importer.models import ReplaceRequest, RevertRequest, SplitRequest


class Queue(Protocol):
    def send_all(self, bodies: Iterable[dict[str, Any]]) -> int: ...


class ImportJobs:
    def __init__(self, *, splits: Queue, chunks: Queue) -> None:
        self._splits = splits
        self._chunks = chunks

    def start_apply(self, request: SplitRequest) -> None:
        self._splits.send_all([request.model_dump(mode="json")])

    def start_revert(self, requests: Sequence[RevertRequest]) -> None:
        self._chunks.send_all(r.model_dump(mode="json") for r in requests)

    def start_replace(self, request: ReplaceRequest) -> None:
        self._chunks.send_all([request.model_dump(mode="json")])
