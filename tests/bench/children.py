"""Running a benchmark step in a process of its own, with a chosen tree's code, and a baseline tree.

Every database round, the consumer's memory and the splitter's pass run as ``python -m tests.bench.<x>``
in a fresh process: its peak memory is its own, and the code under test is the ``product_importer`` of
the tree given (``layers/`` first on ``PYTHONPATH``; the harness, ``tests.bench``, is always this tree's).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


class StepFailedError(RuntimeError):
    pass


def run_child(module: str, args: list[str], *, tree: Path = ROOT, marker: str) -> dict[str, Any]:
    """Run ``python -m module args`` with ``tree``'s code; its progress goes to our stderr; return the JSON
    of its last ``<marker> {json}`` line."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tree / "layers"), str(ROOT)]),
               PYTHONDONTWRITEBYTECODE="1")
    done = subprocess.run([sys.executable, "-m", module, *args], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                          text=True, check=False)
    lines = [line for line in done.stdout.splitlines() if line.startswith(marker + " ")]
    if done.returncode != 0 or not lines:
        raise StepFailedError(f"{module} {' '.join(args)} failed (exit {done.returncode}):\n{done.stdout[-2000:]}")
    result: dict[str, Any] = json.loads(lines[-1][len(marker) + 1 :])
    return result


def commit_of(ref: str = "HEAD", tree: Path = ROOT) -> str:
    """The short commit of ``ref``; ``+`` when it is this tree's HEAD and the tree has changes."""
    sha = subprocess.run(["git", "-C", str(tree), "rev-parse", "--short", ref], capture_output=True, text=True,
                         check=True).stdout.strip()
    if ref == "HEAD":
        dirty = subprocess.run(["git", "-C", str(tree), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, check=True).stdout.strip()
        sha += "+" if dirty else ""
    return sha


@contextmanager
def baseline_tree(ref: str) -> Iterator[Path]:
    """``ref`` checked out into a temporary worktree (``git worktree add --detach``), removed after."""
    parent = Path(tempfile.mkdtemp(prefix="pi-bench-baseline-"))
    tree = parent / "tree"
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--quiet", "--detach", str(tree), ref], check=True)
    try:
        yield tree
    finally:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)], check=False)
        shutil.rmtree(parent, ignore_errors=True)
        subprocess.run(["git", "-C", str(ROOT), "worktree", "prune"], check=False)


# No checkpoint inside a round: each fresh database starts with one (round.FreshDatabase), and a round's
# WAL (~2.5 GB at 500k rows) stays far below what would start another. A checkpoint in the middle of a
# round made the first change of every page after it log the whole page, landing at random on one pass
# or another (the revert of the update 0.92x its import without one, 1.21x with one, same code), and
# Aurora, the deployed database, has no such checkpoints: its storage applies the log.
BENCH_SETTINGS = {"max_wal_size": "64GB", "checkpoint_timeout": "1d"}


@contextmanager
def postgres_server() -> Iterator[str]:
    """One embedded PostgreSQL for the whole run (every round makes and drops its own databases);
    its admin URL. Configured like Aurora's storage as far as checkpoints go (``BENCH_SETTINGS``)."""
    from product_importer.db.embedded import apply_settings, start_embedded, stop_embedded

    parent = Path(tempfile.mkdtemp(prefix="pi-bench-pg-"))
    url = start_embedded(parent / "data", cleanup="delete")
    apply_settings(url, BENCH_SETTINGS)
    try:
        yield url
    finally:
        stop_embedded(parent / "data")
        shutil.rmtree(parent, ignore_errors=True)
