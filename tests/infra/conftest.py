"""CDK tests: the whole app (dev + prod) is synthesized once per session, offline, without bundling.

Run them alone with ``pytest tests/infra -m "infra and not slow"`` (the layer bundling test is ``slow``).
They need the ``cdk`` extra (``pip install -e '.[dev,cdk]'``) and are skipped without it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from infra.cdk.jsii_node import use_bundled_node

use_bundled_node()  # before aws_cdk: jsii starts its Node process at import
cdk = pytest.importorskip("aws_cdk", reason="the CDK extra is not installed (pip install -e '.[dev,cdk]')")

from infra.cdk.config import cdk_json_context  # noqa: E402
from infra.cdk.stacks import StatefulStack, StatelessStack  # noqa: E402
from infra.cdk.stages import build  # noqa: E402
from tests.infra.template_queries import StackTemplate  # noqa: E402

PARTNER = "acme"
PARTNER_ACCOUNT = "111122223333"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "infra: CDK synthesis, template assertions, cdk-nag and cfn-lint")


def synth_context(**extra: Any) -> dict[str, Any]:
    """cdk.json's context for both stages, bundling skipped, nag findings kept as annotations."""
    context = cdk_json_context()
    context.update(
        {
            "stage": "dev,prod",
            "aws:cdk:bundling-stacks": [],
            # Report cdk-nag findings as annotations instead of failing synth, so the nag test lists them.
            "@aws-cdk/core:annotationsInValidationReport": False,
            # A partner, so the incoming/<partner>/ role is synthesized and checked.
            "prod.partners": {PARTNER: PARTNER_ACCOUNT},
        }
    )
    context.update(extra)
    return context


@dataclass
class Stage:
    name: str
    stateful: StatefulStack
    stateless: StatelessStack
    stateful_template: StackTemplate
    stateless_template: StackTemplate


@dataclass
class Synthesized:
    outdir: Path
    assembly: Any
    stages: dict[str, Stage]

    def templates(self) -> list[Path]:
        return sorted(self.outdir.glob("*.template.json"))


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synthesized]:
    outdir = tmp_path_factory.mktemp("cdk.out")
    app = cdk.App(context=synth_context(), outdir=str(outdir), stack_traces=False)
    built = build(app)
    assembly = app.synth()
    stages = {
        name: Stage(
            name=name,
            stateful=stateful,
            stateless=stateless,
            stateful_template=StackTemplate.load(outdir, stateful),
            stateless_template=StackTemplate.load(outdir, stateless),
        )
        for name, (stateful, stateless) in built.items()
    }
    yield Synthesized(outdir=outdir, assembly=assembly, stages=stages)


@pytest.fixture(scope="session")
def prod(synthesized: Synthesized) -> Stage:
    return synthesized.stages["prod"]


@pytest.fixture(scope="session")
def dev(synthesized: Synthesized) -> Stage:
    return synthesized.stages["dev"]
