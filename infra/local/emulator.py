"""The AWS emulator of the local stack: moto's server, with one local-speed fix.

moto answers a ranged GET by reading the whole object out of its buffer and slicing it. A consumer
reads a 1–2 MB range per chunk, so a 130 MB upload cost the emulator ~130 MB of copying per chunk (13 GB
for one 500k-row import), which made the emulator, not our code, the bottleneck of the local pipeline.
Here the object's bytes are kept for the few most recently read objects, and dropped when it changes.
Only the emulator process is patched; handlers talk to it through boto3 exactly as to AWS.
"""

from __future__ import annotations

import sys
import threading
from collections import OrderedDict
from typing import Any

RECENT_OBJECTS = 3


def patch_moto() -> None:
    from moto.s3.models import FakeKey

    recent: OrderedDict[int, FakeKey] = OrderedDict()
    guard = threading.Lock()
    plain = FakeKey.value

    def read_value(self: FakeKey) -> bytes:
        cached: bytes | None = getattr(self, "_pi_value", None)
        if cached is not None:
            return cached
        value: bytes = plain.fget(self)  # type: ignore[attr-defined]
        with guard:
            self._pi_value = value  # type: ignore[attr-defined]
            recent[id(self)] = self
            recent.move_to_end(id(self))
            while len(recent) > RECENT_OBJECTS:
                _, evicted = recent.popitem(last=False)
                evicted._pi_value = None  # type: ignore[attr-defined]
        return value

    def write_value(self: FakeKey, new_value: bytes) -> None:
        self._pi_value = None  # type: ignore[attr-defined]
        plain.fset(self, new_value)  # type: ignore[attr-defined]

    FakeKey.value = property(read_value, write_value)  # type: ignore[method-assign,assignment]


def main(argv: list[str] | None = None) -> Any:
    patch_moto()
    from moto.server import main as moto_main

    return moto_main(argv if argv is not None else sys.argv[1:])


if __name__ == "__main__":
    main()
