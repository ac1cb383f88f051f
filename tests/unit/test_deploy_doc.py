"""docs/deploy.md's stage-settings table names every setting ``cdk.json`` may give a stage.

Found reading it as the platform team would: ``logLevel``, ``logRetentionDays``, ``uploadExpiryDays``
(how long uploaded CSVs stay), the WebSocket throttle and the size limits were set in cdk.json or read by
``StageConfig`` but not in the table, so nobody checking a prod stage would know they exist.
"""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

from infra.cdk.config import StageConfig

DEPLOY_MD = Path(__file__).resolve().parents[2] / "docs" / "deploy.md"


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def test_every_stage_setting_is_in_the_deploy_guide_table() -> None:
    text = DEPLOY_MD.read_text()
    table = text.split("## 2. Configure the stage")[1].split("\n## ")[0]
    documented = set(re.findall(r"`([a-zA-Z]+)`", "\n".join(line.split("|")[1] for line in table.splitlines()
                                                              if line.startswith("| `"))))
    settings = {_camel(f.name) for f in fields(StageConfig) if f.name != "stage"}

    assert settings - documented == set()
    assert documented - settings == set()  # and names none that cdk.json would refuse
