"""The composition root: adapters built once per process, all dropped by one reset; settings that differ
between the laptop and the cloud have no defaults."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from product_importer import runtime
from product_importer.container import per_container
from product_importer.settings import CommonSettings, Settings
from pydantic import ValidationError

from tests.conftest import TEST_RESOURCES


@pytest.fixture(autouse=True)
def _fresh_process() -> Iterator[None]:
    runtime.reset()
    yield
    runtime.reset()


@pytest.mark.parametrize("name", sorted(TEST_RESOURCES))
def test_a_process_without_a_resource_name_refuses_to_start(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    # given the environment of a function, one resource name missing
    monkeypatch.delenv(name)
    # when the settings are read, then they fail and name the missing variable
    with pytest.raises(ValidationError, match=name.lower()):
        Settings()  # type: ignore[call-arg]
    # a process outside the pipeline (migrations, the $connect authorizer) does not need them
    assert CommonSettings().db_name == "product_importer"


def test_adapters_are_built_once_and_reused() -> None:
    assert runtime.progress_store() is runtime.progress_store()
    assert runtime.object_store() is runtime.object_store()
    assert runtime.queue("http://sqs.test/q") is runtime.queue("http://sqs.test/q")
    assert runtime.queue("http://sqs.test/q") is not runtime.queue("http://sqs.test/other")
    assert runtime.client("s3") is runtime.client("s3")


def test_reset_drops_and_closes_everything_built_without_knowing_what(monkeypatch: pytest.MonkeyPatch) -> None:
    # given adapters, settings and a builder runtime.py has never heard of (a handler's own port)
    closed: list[str] = []

    @per_container(close=closed.append)
    def poster() -> str:
        return f"poster for {runtime.settings().websocket_management_url}"

    store, client, first = runtime.progress_store(), runtime.client("dynamodb"), poster()
    monkeypatch.setenv("WEBSOCKET_MANAGEMENT_URL", "http://elsewhere.test")
    assert poster() == first  # cached: the environment is read once per process

    # when the process is reset
    runtime.reset()

    # then every one of them is rebuilt from the current environment, and what had a closer was closed
    assert closed == [first]
    assert runtime.progress_store() is not store and runtime.client("dynamodb") is not client
    assert poster() == "poster for http://elsewhere.test"
