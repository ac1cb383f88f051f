"""Stateful resources live apart from stateless ones, and the dependency only points one way."""

from __future__ import annotations

import json

import pytest

from tests.infra.conftest import Stage

pytestmark = pytest.mark.infra

STATEFUL_TYPES = {
    "AWS::RDS::DBCluster",
    "AWS::DynamoDB::GlobalTable",
    "AWS::DynamoDB::Table",
    "AWS::EC2::VPC",
}


@pytest.mark.parametrize("stage_name", ["dev", "prod"])
def test_stateful_resources_are_only_in_the_stateful_stack(synthesized, stage_name: str) -> None:
    stage: Stage = synthesized.stages[stage_name]
    stateful_types = {r["Type"] for r in stage.stateful_template.resources.values()}
    stateless_types = {r["Type"] for r in stage.stateless_template.resources.values()}
    assert {"AWS::RDS::DBCluster", "AWS::DynamoDB::GlobalTable", "AWS::S3::Bucket"} <= stateful_types
    assert not STATEFUL_TYPES & stateless_types
    # The uploads bucket is stateful; the stateless stack only has the rebuildable site and log buckets.
    assert (
        stage.stateful_template.logical_id(stage.stateful.storage.bucket) in stage.stateful_template.resources
    )


@pytest.mark.parametrize("stage_name", ["dev", "prod"])
def test_stateful_stack_does_not_depend_on_stateless(synthesized, stage_name: str) -> None:
    stage: Stage = synthesized.stages[stage_name]
    assert "Fn::ImportValue" not in json.dumps(stage.stateful_template.data)
    assert stage.stateful in stage.stateless.dependencies


def test_prod_stateful_stack_has_termination_protection(prod: Stage, dev: Stage) -> None:
    assert prod.stateful.termination_protection is True
    assert dev.stateful.termination_protection is False
