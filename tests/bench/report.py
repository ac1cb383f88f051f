"""docs/bench-results.json and the RESULTS block of docs/benchmarks.md, from the parts measured.

A part not measured in this run keeps its previous figures (each part carries its own date, commit and
number of runs). The flat keys at the top of the JSON are what ``infra/capacity`` and the RESULT line read.
"""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "benchmarks.md"
JSON_OUT = ROOT / "docs" / "bench-results.json"
BEGIN, END = "<!-- RESULTS:BEGIN -->", "<!-- RESULTS:END -->"

RESULT_KEYS = ["insert_x_copy", "update_x_copy", "preview_x_update", "revert_update_x_import",
               "revert_insert_x_import", "cp1252_x_copy", "shopify_x_copy", "storage_insert_mb", "storage_update_mb",
               "consumer_peak_rss_mb", "splitter_mb_per_s", "splitter_quoted_mb_per_s", "splitter_peak_rss_mb",
               "peak_rss_mb", "baseline_insert_x_copy", "baseline_update_x_copy", "e2e_x_copy", "ws_latency_p50_ms",
               "ws_latency_p95_ms", "search_p95_ms"]


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
    return f"{cpu}, {os.cpu_count()} cores, {mem_gb:.0f} GiB RAM, {platform.system()} {platform.release()}, Python {platform.python_version()}"


def flat(parts: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The flat keys (capacity model, RESULT line) from the parts."""
    out: dict[str, Any] = {}
    if "core" in parts:
        core = parts["core"]
        for key in ("rows", "file_mb", "chunk_rows", "workers", "copy_s", "copy_rows_per_s", "core_insert_s",
                    "core_insert_rows_per_s", "core_update_s", "core_update_rows_per_s", "insert_x_copy",
                    "update_x_copy", "peak_rss_mb", "chunk_ms_p50", "chunk_ms_p95", "chunk_ms_insert_p50",
                    "chunk_ms_update_p50"):
            if key in core:
                out[key] = core[key]
    simple = {"preview": ("preview_x_update",),
              "revert": ("revert_update_x_import", "revert_insert_x_import", "revert_insert_after_update_x_import"),
              "e2e": ("e2e_s", "upload_s", "split_s", "first_chunk_s", "consume_s", "e2e_x_copy"),
              "live": ("ws_latency_p50_ms", "ws_latency_p95_ms", "ws_max_gap_s", "search_products", "search_p50_ms",
                       "search_p95_ms")}
    for part, keys in simple.items():
        for key in keys:
            if key in parts.get(part, {}):
                out[key] = parts[part][key]
    storage = parts.get("storage", {})
    for step in ("insert", "update", "preview"):
        if step in storage:
            out[f"storage_{step}_mb"] = storage[step]["history"]
    for name in ("cp1252", "shopify"):
        if name in parts.get("encodings", {}):
            out[f"{name}_x_copy"] = parts["encodings"][name]["x_copy"]
    if "peak_rss_mb" in parts.get("consumer-rss", {}):
        out["consumer_peak_rss_mb"] = parts["consumer-rss"]["peak_rss_mb"]
    split = parts.get("splitter", {})
    if "plain" in split:
        out["splitter_file_mb"] = split["plain"]["file_mb"]
        out["splitter_mb_per_s"] = split["plain"]["mb_per_s"]
        out["splitter_quoted_mb_per_s"] = split["quoted"]["mb_per_s"]
        out["splitter_peak_rss_mb"] = max(split["plain"]["peak_rss_mb"], split["quoted"]["peak_rss_mb"])
    base = parts.get("baseline", {})
    if "old" in base:
        out["baseline_ref"] = base["ref"]
        out["baseline_insert_x_copy"] = base["old"]["insert_x_copy"]
        out["baseline_update_x_copy"] = base["old"]["update_x_copy"]
    return out


def result_line(results: dict[str, Any]) -> str:
    values = flat(results)
    return "RESULT " + " ".join(f"{k}={values[k]}" for k in RESULT_KEYS if k in values)


def merged(results: dict[str, Any], json_path: Path = JSON_OUT) -> dict[str, Any]:
    """This run's parts over the previous file's (a file without parts, from before, is not kept)."""
    parts: dict[str, Any] = {}
    if json_path.exists():
        try:
            parts = dict(json.loads(json_path.read_text()).get("parts") or {})
        except (ValueError, AttributeError):
            parts = {}
    parts.update(results)
    return {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "machine": machine(), **flat(parts),
            "parts": parts}


def write_docs(results: dict[str, Any], json_path: Path = JSON_OUT, doc_path: Path = DOC) -> None:
    data = merged(results, json_path)
    json_path.write_text(json.dumps(data, indent=2) + "\n")
    from tests.bench.report_md import render

    block = "\n".join([BEGIN, render(data), "", "```", result_line(data["parts"]), "```", END])
    text = doc_path.read_text() if doc_path.exists() else "# Benchmarks\n\n" + BEGIN + "\n" + END + "\n"
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        _, tail = rest.split(END, 1)
        text = head + block + tail
    else:
        text += "\n" + block + "\n"
    doc_path.write_text(text)
