"""CDK entry point.

``cdk synth|deploy -c stage=prod`` (the CLI runs this file, see cdk.json) or, offline and without the
CLI, ``.venv/bin/python infra/app.py [--stage dev,prod] [--outdir cdk.out]``.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from infra.cdk.jsii_node import use_bundled_node  # noqa: E402

use_bundled_node()  # before aws_cdk is imported: jsii starts Node at import time

import aws_cdk as cdk  # noqa: E402

from infra.cdk.config import cdk_json_context  # noqa: E402
from infra.cdk.stages import build  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Synthesize the Product Importer CDK app")
    parser.add_argument("--stage", help="stage(s) to synthesize, e.g. dev or dev,prod")
    parser.add_argument("--outdir", help="cloud assembly directory (default: cdk.out)")
    args = parser.parse_args(argv)

    run_by_cli = "CDK_CONTEXT_JSON" in os.environ or "CDK_OUTDIR" in os.environ
    # The CLI passes cdk.json's context itself; a plain `python infra/app.py` has to read it.
    context = {} if run_by_cli else cdk_json_context()
    if args.stage:
        context["stage"] = args.stage
    outdir = args.outdir or (None if run_by_cli else str(REPO_ROOT / "cdk.out"))
    app = cdk.App(context=context, outdir=outdir)
    build(app)
    app.synth()


if __name__ == "__main__":
    main()
