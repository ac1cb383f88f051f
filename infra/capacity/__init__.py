"""Capacity model: what a 1M / 10M / 100M-row import costs in time, concurrency, Aurora load and dollars.

Reads the measured per-chunk cost from ``docs/bench-results.json`` (written by the benchmark) and the
knobs from ``infra.topology`` and ``cdk.json``; every figure the benchmark does not provide is an
assumption, printed as such. Prices are AWS list prices (us-east-1) with their source.

    .venv/bin/python -m infra.capacity                 # markdown report (docs/capacity.md embeds it)
    .venv/bin/python -m infra.capacity --concurrency 50 --chunk-rows 10000 --max-acu 32

Modules: ``prices`` (AWS prices and limits), ``inputs`` (benchmark figures and assumptions), ``model``
(the estimate), ``report`` (markdown); ``python -m infra.capacity`` runs ``main``.

Plain Python: no AWS calls, no CDK.
"""

from __future__ import annotations

from infra.capacity.inputs import ASSUMED, BENCH_JSON, BENCH_MD, Figure, Inputs, load_inputs
from infra.capacity.model import CDK_JSON, Estimate, Knobs, estimate, monthly_baseline, prod_knobs
from infra.capacity.prices import PRICES, price
from infra.capacity.report import BEGIN, CAPACITY_MD, END, duration, report, write_section

__all__ = [
    "ASSUMED", "BEGIN", "BENCH_JSON", "BENCH_MD", "CAPACITY_MD", "CDK_JSON", "END", "PRICES", "Estimate",
    "Figure", "Inputs", "Knobs", "duration", "estimate", "load_inputs", "monthly_baseline", "price",
    "prod_knobs", "report", "write_section",
]
