"""Medians (and ranges) of the runs, part by part, as ``docs/bench-results.json`` keeps them."""

from __future__ import annotations

import statistics
from typing import Any


def med(values: list[float], digits: int = 2) -> float:
    return round(statistics.median(values), digits)


def spread(values: list[float], digits: int = 2) -> list[float]:
    return [round(min(values), digits), round(max(values), digits)]


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


def _ratio(rounds: list[dict[str, Any]], top: str, bottom: str) -> list[float]:
    return [_get(r, top) / _get(r, bottom) for r in rounds]


def _get(round_: dict[str, Any], path: str) -> float:
    value: Any = round_
    for key in path.split("."):
        value = value[key]
    return float(value)


def core(rounds: list[dict[str, Any]], rows: int, file_mb: float, chunk_rows: int, workers: int) -> dict[str, Any]:
    """(a)–(c): the bare COPY, the insert and update passes."""
    insert_x = _ratio(rounds, "insert.s", "copy_s")
    update_x = _ratio(rounds, "update.s", "copy_s")
    copy_s = med([r["copy_s"] for r in rounds])
    insert_s = med([r["insert"]["s"] for r in rounds])
    update_s = med([r["update"]["s"] for r in rounds])
    insert_ms = [ms for r in rounds for ms in r["insert"]["chunk_ms"]]
    update_ms = [ms for r in rounds for ms in r["update"]["chunk_ms"]]
    return {
        "runs": len(rounds), "rows": rows, "file_mb": file_mb, "chunk_rows": chunk_rows, "workers": workers,
        "copy_s": copy_s, "copy_rows_per_s": round(rows / copy_s),
        "core_insert_s": insert_s, "core_insert_rows_per_s": round(rows / insert_s),
        "core_update_s": update_s, "core_update_rows_per_s": round(rows / update_s),
        "insert_x_copy": med(insert_x), "insert_x_copy_range": spread(insert_x),
        "update_x_copy": med(update_x), "update_x_copy_range": spread(update_x),
        "insert_x_copy_runs": [round(x, 2) for x in insert_x], "update_x_copy_runs": [round(x, 2) for x in update_x],
        "peak_rss_mb": round(max(max(r["insert"]["peak_rss_mb"], r["update"]["peak_rss_mb"]) for r in rounds)),
        "chunk_ms_p50": med(insert_ms + update_ms, 1), "chunk_ms_p95": round(p95(insert_ms + update_ms), 1),
        "chunk_ms_insert_p50": med(insert_ms, 1), "chunk_ms_update_p50": med(update_ms, 1),
        "database_ms_insert_p50": med([ms for r in rounds for ms in r["insert"].get("database_ms", [0])], 1),
        "database_ms_update_p50": med([ms for r in rounds for ms in r["update"].get("database_ms", [0])], 1),
        "chunks": rounds[-1]["insert"]["chunks"],
        "change_records_update": rounds[-1]["update"]["totals"].get("products_updated"),
    }


def storage(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """Bytes each import added, per group of tables (median over the rounds), in MB."""
    out: dict[str, Any] = {"runs": len(rounds)}
    for step in ("insert", "preview", "update"):
        deltas = [r["storage"][step] for r in rounds if step in r.get("storage", {})]
        if deltas:
            out[step] = {group: round(statistics.median(d[group] for d in deltas) / 1e6, 1) for group in deltas[0]}
            out[step]["history"] = round(out[step]["changes"] + out[step]["undo"], 1)
    out["tables_mb"] = rounds[-1].get("sizes_mb", {})
    return out


def preview(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    x = _ratio(rounds, "preview.s", "update.s")
    return {"runs": len(rounds), "preview_s": med([r["preview"]["s"] for r in rounds]),
            "chunk_ms_p50": med([ms for r in rounds for ms in r["preview"]["chunk_ms"]], 1),
            "database_ms_p50": med([ms for r in rounds for ms in r["preview"].get("database_ms", [0])], 1),
            "update_s": med([r["update"]["s"] for r in rounds]),
            "preview_x_update": med(x), "preview_x_update_range": spread(x),
            "preview_x_copy": med(_ratio(rounds, "preview.s", "copy_s"))}


def revert(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """(r1) the update's revert against the update's import; (r3) a fresh insert's revert against that
    insert's import (the target); (r2) the insert's revert after the update's, against the insert pass."""
    upd = _ratio(rounds, "revert_update.s", "update.s")
    ins = _ratio(rounds, "revert_insert.s", "revert_insert.import_s")
    after = _ratio(rounds, "revert_insert_after.s", "insert.s")
    last = rounds[-1]
    counts = ("chunks", "restored", "deleted", "conflicts")
    return {"runs": len(rounds),
            "revert_update_s": med([r["revert_update"]["s"] for r in rounds]),
            "revert_update_x_import": med(upd), "revert_update_x_import_range": spread(upd),
            "revert_insert_s": med([r["revert_insert"]["s"] for r in rounds]),
            "revert_insert_import_s": med([r["revert_insert"]["import_s"] for r in rounds]),
            "revert_insert_x_import": med(ins), "revert_insert_x_import_range": spread(ins),
            "revert_insert_after_update_s": med([r["revert_insert_after"]["s"] for r in rounds]),
            "revert_insert_after_update_x_import": med(after),
            "revert_insert_after_update_x_import_range": spread(after),
            "revert_update_x_copy": med(_ratio(rounds, "revert_update.s", "copy_s")),
            "revert_insert_x_copy": med(_ratio(rounds, "revert_insert.s", "copy_s")),
            "revert_insert_after_update_x_copy": med(_ratio(rounds, "revert_insert_after.s", "copy_s")),
            "revert_update_counts": {k: last["revert_update"][k] for k in counts},
            "revert_insert_counts": {k: last["revert_insert"][k] for k in counts},
            "revert_insert_after_update_counts": {k: last["revert_insert_after"][k] for k in counts}}


def encodings(rounds: list[dict[str, Any]], sizes_mb: dict[str, float]) -> dict[str, Any]:
    out: dict[str, Any] = {"runs": len(rounds)}
    for name in ("cp1252", "shopify"):
        own = _ratio(rounds, f"{name}.s", f"{name}.copy_s")
        entry = {"file_mb": sizes_mb[name], "rows": rounds[-1][name]["rows"],
                 "products": rounds[-1][name]["totals"].get("products_created"),
                 "rows_skipped": rounds[-1][name]["totals"].get("rows_skipped"),
                 "copy_s": med([r[name]["copy_s"] for r in rounds]), "insert_s": med([r[name]["s"] for r in rounds]),
                 "x_copy": med(own), "x_copy_range": spread(own)}
        if all("copy_s" in r for r in rounds):
            entry["x_generic_copy"] = med(_ratio(rounds, f"{name}.s", "copy_s"))
        out[name] = entry
    return out


def baseline(new: list[dict[str, Any]], old: list[dict[str, Any]], ref: str, old_commit: str,
             new_commit: str) -> dict[str, Any]:
    """Interleaved rounds of this tree and the baseline: medians per code, and new / old."""
    def per_code(rounds: list[dict[str, Any]]) -> dict[str, Any]:
        ins, upd = _ratio(rounds, "insert.s", "copy_s"), _ratio(rounds, "update.s", "copy_s")
        return {"runs": len(rounds), "copy_s": med([r["copy_s"] for r in rounds]),
                "insert_s": med([r["insert"]["s"] for r in rounds]), "update_s": med([r["update"]["s"] for r in rounds]),
                "insert_x_copy": med(ins), "insert_x_copy_range": spread(ins),
                "update_x_copy": med(upd), "update_x_copy_range": spread(upd),
                "insert_x_copy_runs": [round(x, 2) for x in ins], "update_x_copy_runs": [round(x, 2) for x in upd],
                **{f"{what}_{step}_p50": med([ms for r in rounds for ms in r[step].get(what, [0])], 1)
                   for what in ("chunk_ms", "database_ms") for step in ("insert", "update")}}

    n, o = per_code(new), per_code(old)
    return {"ref": ref, "baseline_commit": old_commit, "commit": new_commit, "new": n, "old": o,
            "insert_new_over_old": round(n["insert_x_copy"] / o["insert_x_copy"], 3),
            "update_new_over_old": round(n["update_x_copy"] / o["update_x_copy"], 3)}


def splitter(runs: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    out: dict[str, Any] = {"runs": min(len(v) for v in runs.values())}
    for kind, results in runs.items():
        out[kind] = {"file_mb": results[0]["file_mb"], "rows": results[0]["rows"], "chunks": results[0]["chunks"],
                     "mb_per_s": round(statistics.median(r["mb_per_s"] for r in results)),
                     "mb_per_s_range": spread([r["mb_per_s"] for r in results], 0),
                     "peak_rss_mb": max(r["peak_rss_mb"] for r in results),
                     "floor_rss_mb": min(r.get("floor_rss_mb", 0) for r in results)}
    return out
