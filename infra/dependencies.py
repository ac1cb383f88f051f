"""What the Lambda layer installs: the runtime dependencies of the ``product-importer`` project.

Apart from ``infra.cdk.layer`` (which builds the layer and needs the CDK) so that the dev environment's
tests can check the layer's contents without the CDK installed (``tests/unit/test_layer_dependencies.py``).
"""

from __future__ import annotations

import tomllib
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def project_dependencies(pyproject: Path = PYPROJECT) -> list[str]:
    """The ``[project] dependencies`` of ``pyproject`` as written (requirement strings, extras included)."""
    project = tomllib.loads(pyproject.read_text())["project"]
    return list(project["dependencies"])
