"""The shared Lambda layer: the ``product_importer`` package plus its dependencies, built for Lambda.

Built without Docker: ``pip install --platform manylinux_2_28_aarch64 --platform manylinux2014_aarch64
--only-binary=:all:`` resolves the
project's dependencies (read from ``pyproject.toml``) as wheels for the Lambda platform (arm64, the
runtime's CPython), so binary packages such as ``psycopg-binary`` and ``pydantic-core`` are the Linux
aarch64 builds whatever machine synthesizes. The package source is copied next to them.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, ClassVar

import jsii
from aws_cdk import (
    AssetHashType,
    BundlingOptions,
    DockerImage,
    ILocalBundling,
)
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra.cdk.config import REPO_ROOT
from infra.dependencies import project_dependencies

# The runtime every function uses: the newest Python Lambda offers (cdk-nag AwsSolutions-L1).
RUNTIME = lambda_.Runtime.PYTHON_3_14
ARCHITECTURE = lambda_.Architecture.ARM_64
# Lambda's Python 3.12+ runtimes run on Amazon Linux 2023 (glibc 2.34), so wheels for glibc 2.17
# (manylinux2014) and 2.28 both run there. pip does not widen an explicit --platform to older tags, and
# some CPython 3.14 aarch64 wheels exist only as one of them (pydantic-core: 2014; rapidfuzz 3.14: 2_28).
PIP_PLATFORMS = ("manylinux_2_28_aarch64", "manylinux2014_aarch64")
PYTHON_VERSION = "3.14"

PACKAGE_DIR = REPO_ROOT / "layers" / "product_importer"
_IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", ".mypy_cache")


def layer_fingerprint() -> str:
    """Changes when the dependency list, the target platform or any file of the package changes."""
    digest = hashlib.sha256()
    digest.update("\n".join([*PIP_PLATFORMS, PYTHON_VERSION, *project_dependencies()]).encode())
    for path in sorted(PACKAGE_DIR.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            digest.update(str(path.relative_to(PACKAGE_DIR)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


@jsii.implements(ILocalBundling)
class PipLayerBundler:
    """Builds the layer directory (``python/…``) on this machine; CDK never falls back to Docker."""

    # How many times a layer was actually built in this process (the tests check it is once).
    builds: ClassVar[int] = 0

    def try_bundle(self, output_dir: str, *, image: Any = None, **_: Any) -> bool:
        target = Path(output_dir) / "python"
        target.mkdir(parents=True, exist_ok=True)
        command = [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-compile",
            "--target",
            str(target),
            *(option for platform in PIP_PLATFORMS for option in ("--platform", platform)),
            "--implementation",
            "cp",
            "--python-version",
            PYTHON_VERSION,
            "--only-binary=:all:",
            *project_dependencies(),
        ]
        subprocess.run(command, check=True)
        shutil.copytree(PACKAGE_DIR, target / "product_importer", ignore=_IGNORED, dirs_exist_ok=True)
        shutil.rmtree(target / "bin", ignore_errors=True)  # console scripts are useless in a layer
        type(self).builds += 1
        return True


class SharedLayer(Construct):
    """One layer version, bundled once, referenced by every function."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.layer = lambda_.LayerVersion(
            self,
            "Layer",
            description="product_importer package + dependencies (arm64, CPython " + PYTHON_VERSION + ")",
            code=lambda_.Code.from_asset(
                str(PACKAGE_DIR.parent),
                asset_hash_type=AssetHashType.CUSTOM,
                asset_hash=layer_fingerprint(),
                bundling=BundlingOptions(
                    # Never pulled: the local bundler always succeeds (no Docker on build machines).
                    image=DockerImage.from_registry("public.ecr.aws/sam/build-python3.14"),
                    local=PipLayerBundler(),
                ),
            ),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURE],
        )
