"""The import rules of docs/architecture.md, enforced (an import-linter in a few lines of ``ast``).

Every ``import`` in the code is read, also the ones inside functions and under ``TYPE_CHECKING``: a
room may only reach the rooms the document says it may.
"""

from __future__ import annotations

import ast
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "layers" / "product_importer"


def module_name(path: Path) -> str:
    if path.is_relative_to(PACKAGE):
        parts = ("product_importer", *path.relative_to(PACKAGE).with_suffix("").parts)
    else:
        parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(p for p in parts if p != "__init__")


def imports_of(path: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


def modules(*roots: Path) -> dict[str, set[str]]:
    found = {}
    for root in roots:
        for path in sorted(root.rglob("*.py")):
            found[module_name(path)] = set(imports_of(path))
    return found


CODE = modules(PACKAGE, ROOT / "functions", ROOT / "infra")


def within(name: str, *prefixes: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def violations(room: tuple[str, ...], forbidden: tuple[str, ...], allowed: tuple[str, ...] = (),
               exempt: tuple[str, ...] = ()) -> list[str]:
    """Imports from a module of ``room`` (but not of ``exempt``) of a ``forbidden`` module that is not
    ``allowed``; a room may always import itself."""
    return sorted(
        f"{module} imports {target}"
        for module, targets in CODE.items()
        if within(module, *room) and not within(module, *exempt)
        for target in targets
        if within(target, *forbidden) and not within(target, *allowed) and not within(target, *room)
    )


PKG = "product_importer"
# adapters, and the repositories / services the API calls (imports, mappings, products, transfers)
ADAPTERS = (f"{PKG}.storage", f"{PKG}.progress", f"{PKG}.db", f"{PKG}.realtime", f"{PKG}.webhooks",
            f"{PKG}.products", f"{PKG}.auth", f"{PKG}.aws", f"{PKG}.imports", f"{PKG}.mappings",
            f"{PKG}.transfers")
IO_LIBRARIES = ("boto3", "botocore", "psycopg", "psycopg_pool", "httpx", "fastapi", "mangum",
                "aws_lambda_powertools")

RULES = {
    # the pure core: CSV reading, header, rows, values. No I/O, no other room.
    "ingest reads bytes and nothing else": violations(
        (f"{PKG}.ingest",), (PKG, *IO_LIBRARIES), allowed=(f"{PKG}.models",)),
    # the domain: decides what happens to a file and to a chunk, through the ports only.
    "pipeline reaches the world only through the ports": violations(
        (f"{PKG}.pipeline",), (PKG, *IO_LIBRARIES),
        allowed=(f"{PKG}.models", f"{PKG}.ports", f"{PKG}.ingest", f"{PKG}.naming")),
    "the ports are declarations": violations(
        (f"{PKG}.ports",), (PKG, *IO_LIBRARIES), allowed=(f"{PKG}.models", f"{PKG}.ingest")),
    "models, naming and the container are leaves": violations(
        (f"{PKG}.models", f"{PKG}.naming", f"{PKG}.container"), (PKG,)),
    # adapters: do I/O behind a port or a store; they never call the domain, the API or the root.
    "the progress store knows nothing of PostgreSQL": violations((f"{PKG}.progress",), (f"{PKG}.db", "psycopg")),
    "adapters do not reach up": violations(
        ADAPTERS, (f"{PKG}.pipeline", f"{PKG}.api", f"{PKG}.runtime", f"{PKG}.cli", "functions", "infra")),
    # the composition root builds adapters; nobody it builds knows it, and it does not know the API.
    "runtime does not import the API or the domain": violations(
        (f"{PKG}.runtime",), (f"{PKG}.api", f"{PKG}.pipeline", "functions", "infra")),
    "in the package only api.deps takes from runtime": violations(
        (PKG,), (f"{PKG}.runtime",), exempt=(f"{PKG}.runtime", f"{PKG}.api.deps")),
    "the API does not run the pipeline": violations((f"{PKG}.api",), (f"{PKG}.pipeline", "functions")),
    "the package never imports the deployment": violations((PKG,), ("functions", "infra", "tests")),
    # the Lambda layer carries the runtime dependencies only: the CLI's own libraries stay in the CLI.
    "only the CLI uses the cli extra": violations((PKG,), ("rich",), exempt=(f"{PKG}.cli",)),
    "the CLI talks to the HTTP API only": violations((f"{PKG}.cli",), (PKG,)),
    "the cloud and the laptop do not import each other": violations(("infra.cdk",), ("infra.local",))
    + violations(("infra.local",), ("infra.cdk",)),
    "a handler imports no other handler and no infra": [
        v for v in violations(("functions",), ("functions", "infra"))
        if v.split(".")[1] != v.split(" imports ")[1].split(".")[1]],
    "the topology is plain data": violations(
        ("infra.topology",), ("aws_cdk", "constructs", "infra", PKG, *IO_LIBRARIES),
        allowed=(f"{PKG}.naming",)),
}


@pytest.mark.parametrize("rule", sorted(RULES))
def test_import_rule(rule: str) -> None:
    assert RULES[rule] == [], f"{rule}: see docs/architecture.md"


def test_the_rules_see_the_code() -> None:
    # the scan found the rooms and their imports (else every rule would pass vacuously)
    for room in (f"{PKG}.ingest", f"{PKG}.pipeline", f"{PKG}.ports", f"{PKG}.runtime", f"{PKG}.api", "functions"):
        assert any(within(m, room) for m in CODE), room
    assert f"{PKG}.ports" in CODE[f"{PKG}.pipeline.consumer"]
    assert f"{PKG}.runtime" in CODE["functions.consumer.handler"]
    # and a rule names what breaks it
    assert violations((f"{PKG}.pipeline",), (f"{PKG}.ports",)) != []


def test_the_cli_extra_is_not_a_runtime_dependency() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = " ".join(project["dependencies"])
    extras = project["optional-dependencies"]
    assert "rich" not in runtime
    assert any(req.startswith("rich") for req in extras["cli"])
    assert "product-importer[cli]" in extras["dev"]
