"""infra/capacity: reads the benchmark when present, labels assumptions, moves the bottleneck sensibly."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from infra import capacity

pytestmark = pytest.mark.infra


def test_without_benchmark_every_input_is_a_labelled_assumption(tmp_path: Path) -> None:
    inputs = capacity.load_inputs(tmp_path / "missing.json", tmp_path / "missing.md")
    for name in capacity.ASSUMED:
        assert getattr(inputs, name).source.startswith("ASSUMED:"), name
    assert inputs.insert_x_copy is None


def test_measured_figures_replace_assumptions(tmp_path: Path) -> None:
    # Given a benchmark result with two usable figures and one unusable
    bench = tmp_path / "bench-results.json"
    bench.write_text(json.dumps({"chunk_ms_p50": 250, "copy_rows_per_s": 80000, "chunk_rows": 0}))
    md = tmp_path / "benchmarks.md"
    md.write_text("# Benchmarks\n...\nRESULT insert_x_copy=12.5 copy_rows_per_s=80000\n")

    # When the inputs are loaded
    inputs = capacity.load_inputs(bench, md)

    # Then the measured ones are used and labelled, the rest stays assumed
    assert inputs.chunk_ms_p50.value == 250 and inputs.chunk_ms_p50.source.startswith("measured:")
    assert inputs.copy_rows_per_s.value == 80000
    assert inputs.chunk_rows.source.startswith("ASSUMED:")
    assert inputs.insert_x_copy == "RESULT insert_x_copy=12.5 copy_rows_per_s=80000"


def test_benchmark_run_output_is_understood(tmp_path: Path) -> None:
    # Given the JSON tests/bench/run.py writes (subset)
    bench = tmp_path / "bench-results.json"
    bench.write_text(
        json.dumps(
            {"rows": 1_000_000, "file_mb": 150.0, "chunk_rows": 5000, "copy_rows_per_s": 250000,
             "core_insert_rows_per_s": 90000, "chunk_ms_p50": 180.5, "splitter_mb_per_s": 95,
             "insert_x_copy": 2.8, "date": "2026-01-01 00:00 UTC"}
        )
    )  # fmt: skip

    # When loaded
    inputs = capacity.load_inputs(bench, tmp_path / "none.md")

    # Then renamed and derived figures are measured too
    assert inputs.split_mb_per_s.value == 95 and inputs.split_mb_per_s.source.startswith("measured:")
    assert inputs.row_bytes.value == pytest.approx(150.0)
    assert inputs.upsert_factor.source.startswith("ASSUMED:")
    assert inputs.backend_rows_per_s == 250000 * inputs.upsert_factor.value


@pytest.fixture
def model(tmp_path: Path) -> tuple[capacity.Inputs, capacity.Knobs]:
    inputs = capacity.load_inputs(tmp_path / "none.json", tmp_path / "none.md")
    return inputs, capacity.prod_knobs(inputs)


def test_bigger_files_take_longer_and_cost_more(model: tuple[capacity.Inputs, capacity.Knobs]) -> None:
    inputs, knobs = model
    small, medium, large = (capacity.estimate(rows, inputs, knobs) for rows in (10**6, 10**7, 10**8))
    assert small.wall_s < medium.wall_s < large.wall_s
    assert small.total_cost < medium.total_cost < large.total_cost
    assert large.chunks == 10**8 // knobs.chunk_rows
    assert large.peak_concurrency == knobs.max_concurrency + 4


def test_raising_the_binding_limit_raises_throughput(model: tuple[capacity.Inputs, capacity.Knobs]) -> None:
    inputs, knobs = model
    base = capacity.estimate(10**7, inputs, knobs)
    if base.bottleneck.startswith("Aurora"):
        more = capacity.estimate(10**7, inputs, replace(knobs, max_acu=knobs.max_acu * 2, max_concurrency=40))
    else:
        more = capacity.estimate(10**7, inputs, replace(knobs, max_concurrency=knobs.max_concurrency * 2))
    assert more.rows_per_s > base.rows_per_s
    # And more concurrency alone never helps when Aurora is the limit
    aurora_bound = replace(knobs, max_acu=2)
    assert capacity.estimate(10**7, inputs, replace(aurora_bound, max_concurrency=200)).rows_per_s == (
        capacity.estimate(10**7, inputs, aurora_bound).rows_per_s
    )


def test_hundred_million_rows_flags_the_upload_limit(model: tuple[capacity.Inputs, capacity.Knobs]) -> None:
    inputs, knobs = model
    assert any("MAX_UPLOAD_BYTES" in w for w in capacity.estimate(10**8, inputs, knobs).warnings)


def test_write_section_is_idempotent(tmp_path: Path, model: tuple[capacity.Inputs, capacity.Knobs]) -> None:
    doc = tmp_path / "capacity.md"
    doc.write_text(f"intro\n{capacity.BEGIN}\nold\n{capacity.END}\noutro\n")
    text = capacity.report(*model)
    capacity.write_section(doc, text)
    once = doc.read_text()
    capacity.write_section(doc, text)
    assert doc.read_text() == once
    assert once.startswith("intro\n") and once.endswith("outro\n") and "old" not in once
