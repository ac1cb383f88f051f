"""``make bench``: every speed and memory target of the issues, against a bare COPY measured in the same run.

    python -m tests.bench.run [--only core,preview,revert,encodings,consumer-rss,splitter,e2e,live]
                              [--runs 5] [--rows 500000] [--baseline-ref 1a9d6ed]

Parts (all by default):

- ``core``: (a) a bare ``COPY`` of the 500k-row file, (b) our insert pass of it, (c) the update pass
  (every price changed, a change record per product), and the storage each import adds;
- ``preview``: a preview of the update file against the same catalog, timed against importing it;
- ``revert``: the update import's revert (against its import time), then the insert import's;
- ``encodings``: the insert pass of a Windows-1252 file and of a Shopify export, each against a bare
  ``COPY`` of that file;
- ``consumer-rss``: the consumer's peak memory on 5,000 rows of 60,000-character descriptions;
- ``splitter``: the splitter's speed on a plain and on a quote-dense ~1 GB file, and its peak memory;
- ``e2e``: upload → ``completed`` through the local stack; ``live``: WebSocket latency and search p95.

The database parts run ``--runs`` rounds, each in a fresh process and database with its own bare COPY;
figures are medians of the rounds (ratios: the median of each round's ratio). ``--baseline-ref REF`` also
checks REF out into a temporary worktree and interleaves ``--runs`` rounds of its insert and update passes
with as many of this tree's (old, new, new, old, …), reporting both.

Results go into docs/benchmarks.md (between the RESULTS markers) and docs/bench-results.json; a part not
run keeps its previous figures there, with their own date and commit.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.bench import summary
from tests.bench.catalog import (
    grow,
    write_catalog,
    write_long_descriptions,
    write_quote_dense,
    write_shopify,
)
from tests.bench.children import ROOT, StepFailedError, baseline_tree, commit_of, postgres_server, run_child
from tests.bench.report import machine, result_line, write_docs

DATA = ROOT / ".local" / "bench"
PARTS = ("core", "preview", "revert", "encodings", "consumer-rss", "splitter", "e2e", "live")
DB_PARTS = ("core", "preview", "revert", "encodings")


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _make(path: Path, write: Any) -> Path:
    """``path``, generated once (into a temporary name first: an interrupted run leaves nothing half-written)."""
    if not path.exists():
        _say(f"generating {path.name} …")
        partial = path.with_suffix(".partial")
        write(partial)
        partial.rename(path)
    return path


def files_for(parts: set[str], args: argparse.Namespace) -> dict[str, Path]:
    rows = args.rows
    DATA.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}
    if parts & {"core", "preview", "revert", "e2e", "splitter"} or args.baseline_ref:
        files["generic"] = _make(DATA / f"catalog-{rows}.csv", lambda p: write_catalog(p, rows, seed=42))
    if parts & {"core", "preview", "revert"} or args.baseline_ref:
        files["repriced"] = _make(DATA / f"catalog-{rows}-repriced.csv",
                                  lambda p: write_catalog(p, rows, seed=42, price_factor=1.1))
    if "encodings" in parts:
        files["cp1252"] = _make(DATA / f"catalog-{rows}-cp1252.csv",
                                lambda p: write_catalog(p, rows, seed=42, encoding="windows-1252"))
        files["shopify"] = _make(DATA / f"shopify-{rows}.csv", lambda p: write_shopify(p, rows))
    if "consumer-rss" in parts:
        n, chars = args.consumer_rows, args.consumer_chars
        files["long"] = _make(DATA / f"long-{n}x{chars}.csv", lambda p: write_long_descriptions(p, n, chars=chars))
    if "splitter" in parts:
        mb = args.splitter_mb
        quoted = _make(DATA / f"quoted-{rows}.csv", lambda p: write_quote_dense(p, rows))
        files["split-plain"] = _make(DATA / f"split-plain-{rows}-{mb}mb.csv",
                                     lambda p: grow(files["generic"], p, mb << 20))
        files["split-quoted"] = _make(DATA / f"split-quoted-{rows}-{mb}mb.csv", lambda p: grow(quoted, p, mb << 20))
    return files


# ---- the parts ---------------------------------------------------------------------------------------------

def _round(admin: str, files: dict[str, Path], parts: set[str], args: argparse.Namespace, label: str,
           tree: Path = ROOT) -> dict[str, Any]:
    argv = ["--admin-url", admin, "--parts", ",".join(p for p in DB_PARTS if p in parts), "--label", label,
            "--rows", str(args.rows), "--chunk-rows", str(args.chunk_rows), "--workers", str(args.workers)]
    for name in ("generic", "repriced", "cp1252", "shopify"):
        if name in files:
            argv += [f"--{name}", str(files[name])]
    _say(f"--- round {label}")
    return run_child("tests.bench.round", argv, tree=tree, marker="ROUND")


def _stamp(figures: dict[str, Any], began: float, commit: str) -> dict[str, Any]:
    return {**figures, "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "commit": commit,
            "elapsed_s": round(time.perf_counter() - began)}


def database_parts(admin: str, files: dict[str, Path], parts: set[str], args: argparse.Namespace,
                   commit: str) -> dict[str, Any]:
    """The full rounds of this tree: core, preview, revert, encodings (as selected)."""
    began = time.perf_counter()
    rounds = [_round(admin, files, parts, args, f"new {i + 1}/{args.runs} ({commit})") for i in range(args.runs)]
    out: dict[str, Any] = {}
    errors = {part: r["errors"][part] for r in rounds for part in r.get("errors", {})}
    mb = {name: round(path.stat().st_size / 1e6, 1) for name, path in files.items()}
    ok = [r for r in rounds if "insert" in r]
    if "core" in parts and ok:
        out["core"] = summary.core(ok, args.rows, mb["generic"], args.chunk_rows, args.workers)
        out["storage"] = summary.storage(ok)
    if "preview" in parts:
        done = [r for r in ok if "preview" in r]
        out["preview"] = summary.preview(done) if done else {"error": errors.get("preview", "not run")}
    if "revert" in parts:
        done = [r for r in ok if "revert_insert" in r]
        out["revert"] = summary.revert(done) if done else {"error": errors.get("revert", "not run")}
    if "encodings" in parts:
        done = [r for r in rounds if "cp1252" in r and "shopify" in r]
        out["encodings"] = summary.encodings(done, mb) if done else {"error": errors.get("encodings", "not run")}
    for name in out:
        out[name] = _stamp(out[name], began, commit)
        if name in errors:
            out[name]["errors_seen"] = errors[name]
    return out


def baseline_part(admin: str, files: dict[str, Path], args: argparse.Namespace, commit: str) -> dict[str, Any]:
    """Interleaved rounds of the insert and update passes, this tree and ``--baseline-ref``; with
    ``core`` selected and no full rounds, this tree's rounds are the ``core`` figures too."""
    began = time.perf_counter()
    new: list[dict[str, Any]] = []
    old: list[dict[str, Any]] = []
    with baseline_tree(args.baseline_ref) as tree:
        old_commit = commit_of("HEAD", tree)
        for i in range(args.runs):
            order = ("new", "old") if i % 2 == 0 else ("old", "new")
            for which in order:
                label = f"{which} {i + 1}/{args.runs} ({commit if which == 'new' else old_commit})"
                result = _round(admin, files, {"core"}, args, label, tree=ROOT if which == "new" else tree)
                expected = (ROOT if which == "new" else tree) / "layers"
                if Path(result["code"]) != expected.resolve():
                    raise StepFailedError(f"the {which} round ran the code in {result['code']}, not {expected}")
                (new if which == "new" else old).append(result)
    out = {"baseline": _stamp(summary.baseline(new, old, args.baseline_ref, old_commit, commit), began, commit)}
    mb = round(files["generic"].stat().st_size / 1e6, 1)
    out["core"] = _stamp(summary.core(new, args.rows, mb, args.chunk_rows, args.workers), began, commit)
    out["storage"] = _stamp(summary.storage(new), began, commit)
    return out


def consumer_part(admin: str, files: dict[str, Path], args: argparse.Namespace, commit: str) -> dict[str, Any]:
    from tests.bench.splitter import ranges

    began = time.perf_counter()
    path = files["long"]
    cuts = [{"chunk_no": r.chunk_no, "start": r.start, "end": r.end, "first_row": r.first_row, "rows": r.rows,
             "context": list(r.context) if r.context else None}
            for r in ranges(path, args.chunk_rows)]
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(cuts, handle)
    try:
        result = run_child("tests.bench.consumer_rss", ["--admin-url", admin, "--file", str(path), "--ranges",
                                                        handle.name, "--chunk-rows", str(args.chunk_rows)],
                           marker="RSS")
    finally:
        Path(handle.name).unlink(missing_ok=True)
    result.update(file_mb=round(path.stat().st_size / 1e6), file_rows=args.consumer_rows,
                  description_chars=args.consumer_chars)
    _say(f"consumer: peak RSS {result['peak_rss_mb']} MB over {result['chunks']} chunks "
         f"({result['floor_rss_mb']} MB before the first)")
    return _stamp(result, began, commit)


def splitter_part(files: dict[str, Path], args: argparse.Namespace, commit: str) -> dict[str, Any]:
    began = time.perf_counter()
    runs: dict[str, list[dict[str, Any]]] = {"plain": [], "quoted": []}
    for kind in runs:  # into the page cache: the splitter reads S3 at network speed, not from disk
        with files[f"split-{kind}"].open("rb") as handle:
            while handle.read(1 << 24):
                pass
    for i in range(args.runs):
        for kind in (("plain", "quoted") if i % 2 == 0 else ("quoted", "plain")):
            result = run_child("tests.bench.splitter", [str(files[f"split-{kind}"]), "--chunk-rows",
                                                        str(args.chunk_rows)], marker="SPLIT")
            _say(f"splitter {kind} {i + 1}/{args.runs}: {result['mb_per_s']} MB/s, peak RSS {result['peak_rss_mb']} MB")
            runs[kind].append(result)
    return _stamp(summary.splitter(runs), began, commit)


def e2e_part(files: dict[str, Path], args: argparse.Namespace, commit: str, admin: str) -> dict[str, Any]:
    from tests.bench.e2e import pipeline_run
    from tests.bench.round import bare_copy, database_url

    began = time.perf_counter()
    import psycopg

    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS bench_e2e_copy")
        conn.execute("CREATE DATABASE bench_e2e_copy")
    copy_s = bare_copy(database_url(admin, "bench_e2e_copy"), files["generic"])
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute("DROP DATABASE bench_e2e_copy WITH (FORCE)")
    result = pipeline_run(files["generic"], chunk_rows=args.chunk_rows, consumers=args.workers)
    result.update(copy_s=round(copy_s, 2), e2e_x_copy=round(result["e2e_s"] / copy_s, 2), rows=args.rows)
    _say(f"(d) local pipeline {result['e2e_s']} s, {result['e2e_x_copy']}x its bare COPY")
    return _stamp(result, began, commit)


def live_part(args: argparse.Namespace, commit: str) -> dict[str, Any]:
    from tests.bench import live

    began = time.perf_counter()
    return _stamp(live.run_all(products=args.search_products, rows=args.live_rows), began, commit)


# ---- the run -----------------------------------------------------------------------------------------------

def run(args: argparse.Namespace, parts: set[str]) -> tuple[dict[str, Any], list[str]]:
    commit = commit_of()
    files = files_for(parts, args)
    results: dict[str, Any] = {}
    failed: list[str] = []

    def attempt(name: str, step: Any, *, several: bool = False) -> None:
        began = time.perf_counter()
        try:
            got = step()
        except (StepFailedError, RuntimeError, OSError, subprocess.CalledProcessError) as exc:
            failed.append(name)
            _say(f"!!! {name} failed: {exc}")
            return
        _say(f"=== {name}: {time.perf_counter() - began:.0f} s")
        if several:
            for key, value in got.items():
                results.setdefault(key, value)  # the full rounds' core figures win over the baseline's
        else:
            results[name] = got

    with postgres_server() as admin:
        db = parts & set(DB_PARTS)
        if db and not (args.baseline_ref and db == {"core"}):
            attempt("database parts", lambda: database_parts(admin, files, db, args, commit), several=True)
        if args.baseline_ref:
            attempt("baseline", lambda: baseline_part(admin, files, args, commit), several=True)
        if "consumer-rss" in parts:
            attempt("consumer-rss", lambda: consumer_part(admin, files, args, commit))
        if "e2e" in parts:
            attempt("e2e", lambda: e2e_part(files, args, commit, admin))
    if "splitter" in parts:
        attempt("splitter", lambda: splitter_part(files, args, commit))
    if "live" in parts:
        attempt("live", lambda: live_part(args, commit))
    return results, failed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", help=f"comma-separated parts: {','.join(PARTS)} (default: all)")
    parser.add_argument("--runs", type=int, default=5, help="rounds of each timed part; medians are reported")
    parser.add_argument("--rows", type=int, default=500_000, help="rows of the catalog files")
    parser.add_argument("--chunk-rows", type=int, default=5000)
    parser.add_argument("--workers", type=int, default=2, help="worker processes (warm consumers)")
    parser.add_argument("--consumer-rows", type=int, default=5000)
    parser.add_argument("--consumer-chars", type=int, default=60_000, help="description length (consumer-rss)")
    parser.add_argument("--splitter-mb", type=int, default=1024, help="size of the splitter's files (MiB)")
    parser.add_argument("--live-rows", type=int, default=100_000, help="rows of the import whose WebSocket "
                        "messages are timed (live)")
    parser.add_argument("--search-products", type=int, default=1_000_000, help="products in the search p95 (live)")
    parser.add_argument("--baseline-ref", help="also time this git ref's insert/update passes, interleaved")
    parser.add_argument("--no-e2e", action="store_true", help="skip the local-pipeline figure")
    parser.add_argument("--no-live", action="store_true", help="skip the WebSocket / search figures")
    parser.add_argument("--no-write", action="store_true", help="do not update docs/")
    args = parser.parse_args()
    parts = set(args.only.split(",")) if args.only else set(PARTS)
    unknown = parts - set(PARTS)
    if unknown:
        parser.error(f"unknown parts {sorted(unknown)}; choose from {','.join(PARTS)}")
    if args.no_e2e:
        parts.discard("e2e")
    if args.no_live:
        parts.discard("live")
    if args.runs < 1:
        parser.error("--runs must be at least 1")

    _say(f"machine: {machine()}; parts: {','.join(p for p in PARTS if p in parts)}; {args.runs} runs, "
         f"{args.rows:,} rows" + (f"; baseline {args.baseline_ref}" if args.baseline_ref else ""))
    results, failed = run(args, parts)
    if not args.no_write and results:
        write_docs(results)
    print(result_line(results))
    if failed:
        _say(f"parts that failed: {', '.join(failed)}")
        sys.exit(1)


if __name__ == "__main__":
    main()
