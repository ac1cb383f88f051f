"""The local stack's S3 emulator keeps the bytes of the objects read last (moto copies a whole object for a
ranged GET), bounded by bytes: three 1M-row files once held 0.8 GB for as long as the stack ran."""

from __future__ import annotations

import pytest
from moto.s3.models import FakeKey

from infra.local import emulator


@pytest.fixture
def patched(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(FakeKey, "value", FakeKey.value)  # restored after the test
    monkeypatch.setattr(emulator, "CACHE_BYTES", 1000)
    emulator.patch_moto()


def key(name: str, size: int) -> FakeKey:
    return FakeKey(name, bytes(size), account_id="123456789012", region_name="us-east-1")


def held(*keys: FakeKey) -> list[str]:
    return [k.name for k in keys if getattr(k, "_pi_value", None) is not None]


def test_the_object_cache_is_bounded_by_bytes_and_keeps_the_object_read_last(patched: None) -> None:
    a, b, c, big = key("a", 400), key("b", 400), key("c", 400), key("big", 5000)

    assert a.value == bytes(400) and b.value == bytes(400)
    assert held(a, b, c, big) == ["a", "b"]
    assert a.value == bytes(400)  # a read again: b is now the least recently read
    assert c.value == bytes(400)
    assert held(a, b, c, big) == ["a", "c"]
    assert big.value == bytes(5000)  # over the budget alone: kept, and only it
    assert held(a, b, c, big) == ["big"]


def test_a_cached_object_written_again_is_read_anew(patched: None) -> None:
    a = key("a", 10)
    assert a.value == bytes(10)
    a.value = b"new"
    assert a.value == b"new"
