"""The shared layer is built once, without Docker, for the Lambda platform (arm64 CPython 3.14)."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra.cdk.layer import PipLayerBundler
from infra.cdk.names import StageNames
from infra.cdk.stages import build
from tests.infra.conftest import cdk, synth_context
from tests.infra.template_queries import StackTemplate

pytestmark = [pytest.mark.infra, pytest.mark.slow]

ELF_MACHINE_AARCH64 = 183  # e_machine of an ELF64 object built for arm64
LAMBDA_UNZIPPED_LIMIT = 250 * 1024**2


def elf_machine(path: Path) -> int:
    header = path.read_bytes()[:20]
    assert header[:4] == b"\x7fELF", path
    return int.from_bytes(header[18:20], "little")


@pytest.fixture(scope="module")
def bundled(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, StackTemplate]:
    outdir = tmp_path_factory.mktemp("cdk.out.bundled")
    stateless_name = StageNames("dev").stateless_stack
    PipLayerBundler.builds = 0
    app = cdk.App(
        context=synth_context(stage="dev", **{"aws:cdk:bundling-stacks": [stateless_name]}),
        outdir=str(outdir),
        stack_traces=False,
    )
    _, stateless = build(app)["dev"]
    app.synth()
    return outdir, StackTemplate.load(outdir, stateless)


def test_layer_is_bundled_exactly_once(bundled: tuple[Path, StackTemplate]) -> None:
    _, template = bundled
    assert PipLayerBundler.builds == 1
    layers = [
        layer
        for layer in template.of_type("AWS::Lambda::LayerVersion").values()
        if layer["Properties"].get("CompatibleRuntimes") == ["python3.14"]
    ]
    assert len(layers) == 1


def test_layer_contains_the_package_and_psycopg_binary_for_linux_arm64(
    bundled: tuple[Path, StackTemplate],
) -> None:
    # Given the staged layer asset
    outdir, template = bundled
    (layer,) = [
        layer
        for layer in template.of_type("AWS::Lambda::LayerVersion").values()
        if layer["Properties"].get("CompatibleRuntimes") == ["python3.14"]
    ]
    asset = outdir / f"asset.{layer['Properties']['Content']['S3Key'].removesuffix('.zip')}"
    site = asset / "python"

    # Then it holds our package with its migrations, importable from the layer's python/ folder
    assert (site / "product_importer" / "__init__.py").is_file()
    assert (site / "product_importer" / "db" / "migrate.py").is_file()
    assert list((site / "product_importer" / "migrations").glob("*.sql"))
    assert not list(site.glob("product_importer/**/__pycache__"))

    # And psycopg's C binary built for Linux aarch64 / CPython 3.14, plus pydantic-core's
    binaries = list((site / "psycopg_binary").glob("_psycopg.cpython-314-aarch64-linux-gnu.so"))
    assert binaries, sorted(p.name for p in (site / "psycopg_binary").iterdir())
    assert elf_machine(binaries[0]) == ELF_MACHINE_AARCH64
    core = list((site / "pydantic_core").glob("_pydantic_core.cpython-314-aarch64-linux-gnu.so"))
    assert core and elf_machine(core[0]) == ELF_MACHINE_AARCH64

    # And the X-Ray SDK that Powertools' Tracer imports in every handler (its tracer extra), with wrapt's
    # C extension for the same platform (tests/unit/test_layer_dependencies.py checks every import)
    assert (site / "aws_xray_sdk" / "core" / "__init__.py").is_file()
    assert list((site / "wrapt").glob("*.cpython-314-aarch64-linux-gnu.so")) or (site / "wrapt").is_dir()

    # And it fits Lambda's unzipped limit with room for the function code
    size = sum(p.stat().st_size for p in asset.rglob("*") if p.is_file())
    assert size < LAMBDA_UNZIPPED_LIMIT / 2, size
