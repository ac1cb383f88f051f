"""The benchmark's bookkeeping (no timing here): medians of rounds, the targets table, what the docs keep."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from infra import capacity
from tests.bench import summary
from tests.bench.report import BEGIN, END, flat, result_line, write_docs

ROOT = Path(__file__).resolve().parents[2]


def _round(copy_s: float, insert_s: float, update_s: float, preview_s: float) -> dict[str, Any]:
    def one(seconds: float) -> dict[str, Any]:
        return {"s": seconds, "rows": 1000, "chunks": 1, "chunk_ms": [seconds * 1000], "database_ms": [seconds * 500],
                "peak_rss_mb": 60.0, "totals": {"products_updated": 1000}}

    return {"copy_s": copy_s, "insert": one(insert_s), "update": one(update_s), "preview": one(preview_s),
            "storage": {step: {"changes": 2e6, "undo": 3e6, "preview": 0, "products": 1e7, "other": 0}
                        for step in ("insert", "update")}}


def test_ratios_are_medians_of_each_rounds_own_ratio() -> None:
    # Given three rounds whose bare COPY moved a lot
    rounds = [_round(1.0, 2.0, 3.0, 3.3), _round(2.0, 5.0, 4.0, 4.0), _round(1.0, 3.0, 2.0, 2.6)]

    # When summarised
    core = summary.core(rounds, rows=1000, file_mb=0.3, chunk_rows=500, workers=2)
    preview = summary.preview(rounds)

    # Then each ratio is the median of the per-round ratios (not a ratio of medians)
    assert core["insert_x_copy"] == 2.5 and core["insert_x_copy_range"] == [2.0, 3.0]
    assert core["update_x_copy"] == 2.0 and core["update_x_copy_runs"] == [3.0, 2.0, 2.0]
    assert preview["preview_x_update"] == 1.1
    assert summary.storage(rounds)["update"]["history"] == 5.0


def test_targets_are_marked_from_the_measured_figures(tmp_path: Path) -> None:
    # Given a run with an update pass over 3.0x COPY and a preview within 1.2x
    rounds = [_round(1.0, 2.0, 3.5, 3.8)]
    results = {"core": summary.core(rounds, 1000, 0.3, 500, 2), "preview": summary.preview(rounds)}
    doc = tmp_path / "benchmarks.md"
    doc.write_text(f"# Benchmarks\n\nbefore\n\n{BEGIN}\nold figures\n{END}\n\nafter\n")

    # When the docs are written
    write_docs(results, tmp_path / "bench-results.json", doc)

    # Then the block between the markers is replaced, the text around it kept, and the targets marked
    text = doc.read_text()
    assert "old figures" not in text and "before" in text and "after" in text
    assert re.search(r"update pass \(every row changed\) ≤ 3\.0× bare COPY \| 3\.50× .*\| \*\*no\*\*", text)
    assert re.search(r"preview of the update file ≤ 1\.2× importing it \| 1\.09× .*\| \*\*yes\*\*", text)
    assert result_line(results).startswith("RESULT insert_x_copy=2.0 update_x_copy=3.5 preview_x_update=1.09")


def test_a_part_not_run_keeps_its_figures_and_the_capacity_model_reads_the_file(tmp_path: Path) -> None:
    # Given a results file with a splitter part from an earlier run
    path = tmp_path / "bench-results.json"
    splitter = summary.splitter({kind: [{"file_mb": 1024, "rows": 8, "chunks": 2, "mb_per_s": 310, "peak_rss_mb": 40,
                                         "floor_rss_mb": 35}] for kind in ("plain", "quoted")})
    path.write_text(json.dumps({"parts": {"splitter": {**splitter, "date": "earlier"}}}))

    # When only the core part is written now
    write_docs({"core": summary.core([_round(1.0, 2.0, 3.0, 3.0)], 1000, 0.3, 500, 2)}, path, tmp_path / "b.md")

    # Then the splitter's figures stay, with their date, and the flat keys feed the capacity model
    data = json.loads(path.read_text())
    assert data["parts"]["splitter"]["date"] == "earlier"
    assert flat(data["parts"])["splitter_mb_per_s"] == 310
    inputs = capacity.load_inputs(path, tmp_path / "b.md")
    assert inputs.split_mb_per_s.value == 310 and inputs.split_mb_per_s.source.startswith("measured:")
    assert inputs.copy_rows_per_s.value == 1000 and inputs.chunk_ms_p50.source.startswith("measured:")


def test_a_results_file_from_before_parts_is_not_mixed_in(tmp_path: Path) -> None:
    path = tmp_path / "bench-results.json"
    path.write_text(json.dumps({"insert_x_copy": 9.9, "splitter_mb_per_s": 1}))

    write_docs({"core": summary.core([_round(1.0, 2.0, 3.0, 3.0)], 1000, 0.3, 500, 2)}, path, tmp_path / "b.md")

    data = json.loads(path.read_text())
    assert data["insert_x_copy"] == 2.0 and "splitter_mb_per_s" not in data


def test_the_bench_never_runs_in_make_test() -> None:
    # No test module in tests/bench (pytest would collect it) and no test target that names it
    assert not list((ROOT / "tests" / "bench").glob("test_*.py"))
    makefile = (ROOT / "Makefile").read_text()
    test_recipes = re.findall(r"^test[\w-]*:.*\n((?:\t.*\n)*)", makefile, flags=re.MULTILINE)
    assert test_recipes and not any("bench" in recipe for recipe in test_recipes)
