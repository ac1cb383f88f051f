"""``python -m infra.capacity`` (or ``python infra/capacity``): print the report, or ``--write`` it into
docs/capacity.md."""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:  # run as ``python infra/capacity``
    sys.path.insert(0, str(REPO_ROOT))

from infra.capacity.inputs import BENCH_JSON, load_inputs  # noqa: E402
from infra.capacity.model import prod_knobs  # noqa: E402
from infra.capacity.report import CAPACITY_MD, report, write_section  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Capacity model: what a 1M / 10M / 100M-row import costs.")
    parser.add_argument("--concurrency", type=int, help="consumer max concurrency (default: topology)")
    parser.add_argument("--chunk-rows", type=int, help="rows per chunk (default: benchmark / settings)")
    parser.add_argument("--max-acu", type=float, help="Aurora max ACU (default: cdk.json prod)")
    parser.add_argument("--bench", type=Path, default=BENCH_JSON, help="benchmark results JSON")
    parser.add_argument(
        "--write", action="store_true", help=f"refresh the generated part of {CAPACITY_MD.name}"
    )
    args = parser.parse_args(argv)
    inputs = load_inputs(args.bench)
    knobs = prod_knobs(inputs)
    if args.concurrency:
        knobs = replace(knobs, max_concurrency=args.concurrency)
    if args.chunk_rows:
        knobs = replace(knobs, chunk_rows=args.chunk_rows)
    if args.max_acu:
        knobs = replace(knobs, max_acu=args.max_acu)
    text = report(inputs, knobs)
    if args.write:
        write_section(CAPACITY_MD, text)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
