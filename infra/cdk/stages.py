"""Build the app: the selected stages, each a stateful and a stateless stack, checked by cdk-nag."""

from __future__ import annotations

from typing import Any

from aws_cdk import App, Aspects
from cdk_nag import AwsSolutionsChecks

from infra.cdk.config import StageConfig, parse_context_value, selected_stages, stage_config
from infra.cdk.edge import EdgeStack
from infra.cdk.names import StageNames
from infra.cdk.stacks import StatefulStack, StatelessStack


def stage_overrides(app: App, stage: str) -> dict[str, Any]:
    """``-c prod.authEnabled=false`` style overrides for one stage."""
    prefix = f"{stage}."
    return {
        key.removeprefix(prefix): parse_context_value(value)
        for key, value in app.node.get_all_context().items()
        if key.startswith(prefix)
    }


def stage_configs(app: App) -> list[StageConfig]:
    stages = app.node.try_get_context("stages") or {}
    return [
        stage_config(stage, stages, stage_overrides(app, stage))
        for stage in selected_stages(app.node.try_get_context("stage"))
    ]


def add_stage(app: App, config: StageConfig) -> tuple[StatefulStack, StatelessStack]:
    """The stage's stateful and stateless stacks (and, with ``edgeWaf``, its us-east-1 edge stack, which
    the stateless stack references: ``stateless.edge``)."""
    stage_names = StageNames(config.stage)
    edge = EdgeStack(app, stage_names.edge_stack, config=config) if config.edge_waf else None
    stateful = StatefulStack(app, stage_names.stateful_stack, config=config)
    stateless = StatelessStack(app, stage_names.stateless_stack, config=config, stateful=stateful, edge=edge)
    return stateful, stateless


def build(app: App) -> dict[str, tuple[StatefulStack, StatelessStack]]:
    """Add every selected stage to ``app`` and the AwsSolutions checks to all of it."""
    built = {config.stage: add_stage(app, config) for config in stage_configs(app)}
    Aspects.of(app).add(AwsSolutionsChecks(verbose=True))
    return built
