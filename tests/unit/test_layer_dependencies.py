"""Every deployed handler imports with only what the Lambda layer holds: the project's runtime
dependencies (``pyproject.toml`` ``[project] dependencies``, read by ``infra.dependencies``; what
``infra.cdk.layer`` installs) and what they require in turn, with their extras. No CDK needed here.

Found checking the layer against the handlers: Powertools' ``Tracer`` imports ``aws_xray_sdk`` when it is
built (at module level in every handler, tracing on or off), which only its ``tracer`` extra brings. On the
laptop ``moto[server]`` happened to install it; in AWS every function failed at import
(``No module named 'aws_xray_sdk'``) while the local stack worked.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from infra.dependencies import project_dependencies

ROOT = Path(__file__).resolve().parents[2]
# What Lambda itself adds to every Python function (the runtime's boto3, botocore and their needs) is in
# the project's dependencies anyway, so nothing is allowed beyond the layer.
DEPLOYED_HANDLERS = sorted(f"functions.{p.parent.name}.handler" for p in (ROOT / "functions").glob("*/handler.py"))


def layer_distributions() -> set[str]:
    """The distributions ``pip install <project dependencies>`` installs, by canonical name."""
    todo = [Requirement(raw) for raw in project_dependencies()]
    seen: dict[str, set[str]] = {}
    while todo:
        requirement = todo.pop()
        name = canonicalize_name(requirement.name)
        extras = set(requirement.extras)
        if name in seen and extras <= seen[name]:
            continue
        seen[name] = seen.get(name, set()) | extras
        try:
            requires = metadata.distribution(name).requires or []
        except metadata.PackageNotFoundError:
            continue  # not for this platform (a marker): nothing of it can be imported here either
        for raw in requires:
            sub = Requirement(raw)
            if sub.marker is None or any(sub.marker.evaluate({"extra": extra}) for extra in seen[name] | {""}):
                todo.append(sub)
    return set(seen)


def foreign_modules() -> list[str]:
    """Top-level modules installed here by distributions that the layer does not hold."""
    allowed = layer_distributions()
    return sorted(module for module, dists in metadata.packages_distributions().items()
                  if not any(canonicalize_name(d) in allowed for d in dists) and module != "product_importer")


PROBE = """
import importlib, importlib.abc, json, sys
blocked = set(json.loads(sys.argv[1]))
class Layer(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in blocked:
            raise ModuleNotFoundError(f"No module named {name!r} (not in the Lambda layer)", name=name)
        return None
sys.meta_path.insert(0, Layer())
failed = {}
for module in json.loads(sys.argv[2]):
    try:
        importlib.import_module(module)
    except Exception as exc:
        failed[module] = f"{type(exc).__name__}: {exc}"
print(json.dumps(failed))
"""


def test_the_layer_holds_the_tracer_extra_of_powertools() -> None:
    assert "aws-xray-sdk" in layer_distributions()


def test_every_deployed_handler_imports_with_only_the_layer() -> None:
    assert "functions.api.handler" in DEPLOYED_HANDLERS and "functions.purge_undo.handler" in DEPLOYED_HANDLERS
    env = {**os.environ, "AWS_LAMBDA_FUNCTION_NAME": "probe", "LAMBDA_TASK_ROOT": "/var/task",
           "AWS_REGION": "us-east-1", "POWERTOOLS_METRICS_NAMESPACE": "ProductImporterTest"}
    env.pop("POWERTOOLS_TRACE_DISABLED", None)  # as deployed: tracing on
    modules = [*DEPLOYED_HANDLERS, "infra.cdk.migrations_runtime.handler"]
    result = subprocess.run([sys.executable, "-c", PROBE, json.dumps(foreign_modules()), json.dumps(modules)],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=True)
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {}
