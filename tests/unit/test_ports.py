"""The ports are protocols that the real adapters and the test fakes both implement, method by method, with
the same parameters (mypy checks the types: ``tests/unit/fakes.py`` is in ``make typecheck``)."""

from __future__ import annotations

import inspect
from typing import Any

import pytest
from product_importer import ports
from product_importer.db.ledger import PostgresChunkLedger
from product_importer.progress import DynamoProgressStore
from product_importer.storage import S3ObjectStore, SqsMessageQueue

from tests.unit.fakes import FakeChunkLedger, FakeObjectStore, FakeProgress, FakeQueue

IMPLEMENTATIONS: list[tuple[type, type, type]] = [
    (ports.ObjectStore, S3ObjectStore, FakeObjectStore),
    (ports.MessageQueue, SqsMessageQueue, FakeQueue),
    (ports.ProgressStore, DynamoProgressStore, FakeProgress),
    (ports.ChunkLedger, PostgresChunkLedger, FakeChunkLedger),
]


def port_methods(port: type) -> list[str]:
    return [name for name, value in vars(port).items() if inspect.isfunction(value) and not name.startswith("_")]


def parameters(function: Any) -> list[tuple[str, Any, Any]]:
    """Names, kinds and defaults (annotations are checked by mypy)."""
    return [(p.name, p.kind, p.default) for p in inspect.signature(function).parameters.values()]


@pytest.mark.parametrize(("port", "adapter", "fake"), IMPLEMENTATIONS, ids=lambda t: t.__name__)
def test_the_adapter_and_the_fake_implement_every_method_of_the_port(port: type, adapter: type, fake: type) -> None:
    methods = port_methods(port)
    assert methods, f"{port.__name__} declares no methods"
    for name in methods:
        expected = parameters(getattr(port, name))
        assert parameters(getattr(adapter, name)) == expected, f"{adapter.__name__}.{name}"
        assert parameters(getattr(fake, name)) == expected, f"{fake.__name__}.{name}"


def test_the_fakes_are_instances_of_their_ports() -> None:
    assert isinstance(FakeObjectStore(), ports.ObjectStore)
    assert isinstance(FakeQueue(), ports.MessageQueue)
    assert isinstance(FakeProgress(), ports.ProgressStore)
    assert isinstance(FakeChunkLedger(), ports.ChunkLedger)
    assert not isinstance(FakeQueue(), ports.ProgressStore)
