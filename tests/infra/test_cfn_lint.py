"""cfn-lint on every synthesized template: no errors; the only warnings are understood ones."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.infra.conftest import Synthesized

pytestmark = pytest.mark.infra

CFN_LINT = Path(sys.executable).with_name("cfn-lint")
# W3010: availability zones are pinned per stage in cdk.json on purpose (deterministic subnets, no lookups).
# W3005: CDK adds DependsOn from functions to their role policies although Role already implies the role.
UNDERSTOOD_WARNINGS = {"W3010", "W3005"}


def test_templates_lint_clean(synthesized: Synthesized) -> None:
    templates = [str(p) for p in synthesized.templates()]
    assert len(templates) == 5  # dev and prod: stateful, stateless; prod: the us-east-1 edge stack
    result = subprocess.run(
        [str(CFN_LINT), "--format", "json", *templates], capture_output=True, text=True, check=False
    )
    findings = json.loads(result.stdout or "[]")
    errors = [f for f in findings if f["Level"] == "Error"]
    assert errors == []
    unexpected = [f for f in findings if f["Rule"]["Id"] not in UNDERSTOOD_WARNINGS]
    assert unexpected == []
