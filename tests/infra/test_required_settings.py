"""Settings has no defaults for the resources (bucket, queues, tables, WebSocket URLs): every deployed
function must get each of them from CDK, or it fails at cold start."""

from __future__ import annotations

import pytest
from product_importer.settings import Settings

from infra import topology
from tests.infra.conftest import Stage

pytestmark = pytest.mark.infra

REQUIRED = {name.upper() for name, field in Settings.model_fields.items() if field.is_required()}


def test_the_required_settings_are_the_topology_resources() -> None:
    assert set(topology.RESOURCE_ENV) == REQUIRED


@pytest.mark.parametrize("name", sorted(topology.FUNCTIONS))
def test_every_function_gets_every_required_setting(prod: Stage, dev: Stage, name: str) -> None:
    for stage in (prod, dev):
        env = stage.stateless_template.props(stage.stateless.functions[name].function)["Environment"]["Variables"]
        assert set(env) >= REQUIRED, f"{stage}: {name} lacks {sorted(REQUIRED - set(env))}"
