"""The RESULTS block of docs/benchmarks.md: the targets of issues 10, 11, 13 and 14, then each part."""

from __future__ import annotations

from typing import Any


def _x(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}×"


def _range(values: list[float] | None) -> str:
    return "" if not values else f" [{values[0]:.2f}–{values[1]:.2f}]"


def _met(ok: bool | None) -> str:
    return "—" if ok is None else ("**yes**" if ok else "**no**")


def _when(part: dict[str, Any]) -> str:
    runs = part.get("runs")
    shown = f", {runs} run{'s' if runs != 1 else ''}" if runs else ""
    return f"{part.get('date', '?')}, code {part.get('commit', '?')}{shown}"


def targets(parts: dict[str, Any]) -> list[str]:
    core, base = parts.get("core", {}), parts.get("baseline", {})
    preview, revert = parts.get("preview", {}), parts.get("revert", {})
    rss, split, enc, storage = parts.get("consumer-rss", {}), parts.get("splitter", {}), parts.get("encodings", {}), \
        parts.get("storage", {})
    rows: list[tuple[str, str, str, bool | None]] = []
    if "old" in base:
        new, old, ref = base["new"], base["old"], base["baseline_commit"]
        seen = f"{_x(new['insert_x_copy'])} vs {_x(old['insert_x_copy'])} at {ref} (new/old {base['insert_new_over_old']:.3f})"
        rows.append(("10, 11", "insert pass × bare COPY not worse than before this stage", seen,
                     base["insert_new_over_old"] <= 1.0))
        rows.append(("13", "insert pass × bare COPY within 10% of before", seen, base["insert_new_over_old"] <= 1.10))
        seen = f"{_x(new['update_x_copy'])} vs {_x(old['update_x_copy'])} at {ref} (new/old {base['update_new_over_old']:.3f})"
        rows.append(("10", "update pass × bare COPY at most 15% worse than before", seen,
                     base["update_new_over_old"] <= 1.15))
    else:
        rows.append(("10, 11, 13", "insert / update passes against the code before this stage",
                     "not measured in this run (`--baseline-ref 1a9d6ed`)", None))
    if "update_x_copy" in core:
        rows.append(("13", "update pass (every row changed) ≤ 3.0× bare COPY",
                     _x(core["update_x_copy"]) + _range(core.get("update_x_copy_range")), core["update_x_copy"] <= 3.0))
    if "preview_x_update" in preview:
        rows.append(("13", "preview of the update file ≤ 1.2× importing it",
                     _x(preview["preview_x_update"]) + _range(preview.get("preview_x_update_range")),
                     preview["preview_x_update"] <= 1.2))
    if "revert_update_x_import" in revert:
        rows.append(("14", "revert of the update import ≤ its import time",
                     _x(revert["revert_update_x_import"]) + _range(revert.get("revert_update_x_import_range")),
                     revert["revert_update_x_import"] <= 1.0))
        rows.append(("14", "revert of the insert import ≤ 0.5× its import time",
                     _x(revert["revert_insert_x_import"]) + _range(revert.get("revert_insert_x_import_range")),
                     revert["revert_insert_x_import"] <= 0.5))
        rows.append(("14", "… the same after the update import was reverted first (reported)",
                     _x(revert["revert_insert_after_update_x_import"])
                     + _range(revert.get("revert_insert_after_update_x_import_range")), None))
    if "peak_rss_mb" in rss:
        rows.append(("10", f"consumer peak RSS ≤ 300 MB on {rss['file_rows']:,} rows × {rss['description_chars']:,}-"
                           "character descriptions", f"{rss['peak_rss_mb']} MB", rss["peak_rss_mb"] <= 300))
    if "quoted" in split:
        rows.append(("10", "splitter ≥ 100 MB/s on a quote-dense file",
                     f"{split['quoted']['mb_per_s']} MB/s", split["quoted"]["mb_per_s"] >= 100))
        rows.append(("10", "splitter ≥ 300 MB/s on a plain file", f"{split['plain']['mb_per_s']} MB/s",
                     split["plain"]["mb_per_s"] >= 300))
        peak = max(split["plain"]["peak_rss_mb"], split["quoted"]["peak_rss_mb"])
        rows.append(("10", f"splitter peak RSS ≤ 100 MB on a {split['plain']['file_mb']:,} MiB file", f"{peak} MB",
                     peak <= 100))
    for name, label in (("cp1252", "Windows-1252"), ("shopify", "Shopify export")):
        if name in enc:
            rows.append(("11", f"{label} file, insert pass × bare COPY of that file (reported)",
                         _x(enc[name]["x_copy"]) + _range(enc[name].get("x_copy_range")), None))
    for step in ("insert", "update"):
        if step in storage:
            rows.append(("13", f"storage of the {step} import: change records + undo data (reported)",
                         f"{storage[step]['history']} MB", None))
    out = ["| issue | target | measured | met |", "| --- | --- | --- | --- |"]
    out += [f"| {issue} | {target} | {seen} | {_met(ok)} |" for issue, target, seen, ok in rows]
    return out


def passes(parts: dict[str, Any]) -> list[str]:
    core = parts.get("core")
    if not core:
        return []
    rows = core["rows"]
    out = ["", f"**Insert and update passes** ({_when(core)}). File: {rows:,} rows, {core['file_mb']} MB; chunks of at "
               f"most {core['chunk_rows']:,} rows; {core['workers']} warm worker processes.", "",
           "| step | seconds | rows/s | × bare COPY [range of the runs] |", "| --- | ---: | ---: | ---: |",
           f"| (a) bare `COPY` into a products-shaped table with its unique index | {core['copy_s']} | "
           f"{core['copy_rows_per_s']:,} | 1.00 |",
           f"| (b) insert pass (split + consumer: stream, parse, validate, `upsert_chunk`) | {core['core_insert_s']} | "
           f"{core['core_insert_rows_per_s']:,} | {_x(core['insert_x_copy'])}{_range(core['insert_x_copy_range'])} |",
           f"| (c) update pass (every price changed; change records and undo data) | {core['core_update_s']} | "
           f"{core['core_update_rows_per_s']:,} | {_x(core['update_x_copy'])}{_range(core['update_x_copy_range'])} |"]
    preview, revert = parts.get("preview", {}), parts.get("revert", {})
    if "preview_s" in preview:
        out.append(f"| (p) preview of the update file (compare, record, write no product) | {preview['preview_s']} | "
                   f"{round(rows / preview['preview_s']):,} | {_x(preview['preview_x_copy'])} "
                   f"({_x(preview['preview_x_update'])} the update pass) |")
    if "revert_update_s" in revert:
        out.append(f"| (r1) revert of the update import (plan + every chunk) | {revert['revert_update_s']} | "
                   f"{round(rows / revert['revert_update_s']):,} | {_x(revert['revert_update_x_copy'])} "
                   f"({_x(revert['revert_update_x_import'])} its import) |")
        out.append(f"| (r2) then revert of the insert import | {revert['revert_insert_after_update_s']} | "
                   f"{round(rows / revert['revert_insert_after_update_s']):,} | "
                   f"{_x(revert['revert_insert_after_update_x_copy'])} "
                   f"({_x(revert['revert_insert_after_update_x_import'])} its import) |")
        out.append(f"| (r3) revert of an insert import with nothing after it (fresh database; its import "
                   f"{revert['revert_insert_import_s']} s) | {revert['revert_insert_s']} | "
                   f"{round(rows / revert['revert_insert_s']):,} | {_x(revert['revert_insert_x_copy'])} "
                   f"({_x(revert['revert_insert_x_import'])} its import) |")
    out += ["", f"Per-run ratios: insert {core['insert_x_copy_runs']}, update {core['update_x_copy_runs']}. Peak RSS "
                f"per worker process: {core['peak_rss_mb']} MB. Chunk time p50 {core['chunk_ms_p50']} ms, p95 "
                f"{core['chunk_ms_p95']} ms (insert p50 {core['chunk_ms_insert_p50']} ms, of which its PostgreSQL "
                f"transaction {core.get('database_ms_insert_p50', '?')} ms; update p50 {core['chunk_ms_update_p50']} "
                f"ms, of which {core.get('database_ms_update_p50', '?')} ms" + (
                    f"; preview p50 {preview['chunk_ms_p50']} ms, of which {preview['database_ms_p50']} ms"
                    if "chunk_ms_p50" in preview else "") + ")."]
    for name in ("preview", "revert"):
        if parts.get(name, {}).get("error"):
            out.append(f"{name.capitalize()}: not measured ({parts[name]['error']}).")
    if "revert_update_counts" in revert:
        u, a, i = (revert["revert_update_counts"], revert["revert_insert_after_update_counts"],
                   revert["revert_insert_counts"])
        out.append(f"Reverts ({_when(revert)}): (r1) {u['chunks']} chunk(s), {u['restored']:,} restored, "
                   f"{u['conflicts']} conflicts; (r2) {a['chunks']} chunk(s), {a['deleted']:,} deleted; (r3) "
                   f"{i['chunks']} chunk(s), {i['deleted']:,} deleted.")
    return out


def storage(parts: dict[str, Any]) -> list[str]:
    st = parts.get("storage")
    if not st or "insert" not in st:
        return []
    out = ["", f"**Storage per import** (MB each import added, tables with their indexes and TOAST; {_when(st)}):", "",
           "| import | change records | undo data | change records + undo | products (+ search) | preview overlay |"
           " other |", "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    rows = parts.get("core", {}).get("rows", 0)
    for step, label in (("insert", f"insert ({rows:,} new products)"), ("preview", "preview of the update file"),
                        ("update", f"update ({rows:,} products changed)")):
        if step in st:
            s = st[step]
            out.append(f"| {label} | {s['changes']} | {s['undo']} | {s['history']} | {s['products']} | {s['preview']} "
                       f"| {s['other']} |")
    return out


def encodings(parts: dict[str, Any]) -> list[str]:
    enc = parts.get("encodings")
    if not enc:
        return []
    if "cp1252" not in enc:
        return ["", f"Encodings: not measured ({enc.get('error')})."]
    out = ["", f"**Other files, insert pass** ({_when(enc)}):", "",
           "| file | MB | rows (skipped) | products | bare COPY s | insert s | × its bare COPY | × the generic bare COPY |",
           "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for name, label in (("cp1252", "Windows-1252 (accented words, CRLF)"), ("shopify", "Shopify export (36 columns, "
                                                                                      "variant families, image rows)")):
        e = enc[name]
        out.append(f"| {label} | {e['file_mb']} | {e['rows']:,} ({e.get('rows_skipped') or 0:,}) | {e['products']:,} | "
                   f"{e['copy_s']} | {e['insert_s']} | {_x(e['x_copy'])}{_range(e['x_copy_range'])} | "
                   f"{_x(e.get('x_generic_copy'))} |")
    return out


def baseline(parts: dict[str, Any]) -> list[str]:
    base = parts.get("baseline")
    if not base or "old" not in base:
        return []
    out = ["", f"**Old vs new**, interleaved rounds ({_when(base)}; baseline `{base['ref']}` = {base['baseline_commit']}):",
           "", "| code | runs | bare COPY s | insert s | insert × COPY (each run) | update s | update × COPY (each run) |",
           "| --- | ---: | ---: | ---: | --- | ---: | --- |"]
    for key, label in (("new", f"this tree ({base['commit']})"), ("old", f"`{base['ref']}`")):
        c = base[key]
        out.append(f"| {label} | {c['runs']} | {c['copy_s']} | {c['insert_s']} | {_x(c['insert_x_copy'])} "
                   f"{c['insert_x_copy_runs']} | {c['update_s']} | {_x(c['update_x_copy'])} {c['update_x_copy_runs']} |")
    out.append("")
    out.append(f"New / old (median ratios): insert {base['insert_new_over_old']:.3f}, update "
               f"{base['update_new_over_old']:.3f}.")
    for key, label in (("new", "This tree"), ("old", f"`{base['ref']}`")):
        c = base[key]
        if "chunk_ms_insert_p50" in c:
            out.append(f"{label}: chunk p50 insert {c['chunk_ms_insert_p50']} ms (its PostgreSQL transaction "
                       f"{c['database_ms_insert_p50']} ms), update {c['chunk_ms_update_p50']} ms "
                       f"({c['database_ms_update_p50']} ms).")
    return out


def memory_and_splitter(parts: dict[str, Any]) -> list[str]:
    out: list[str] = []
    rss = parts.get("consumer-rss")
    if rss:
        out += ["", f"**Consumer memory** ({_when(rss)}): {rss['file_rows']:,} rows × {rss['description_chars']:,}-"
                    f"character HTML descriptions ({rss['file_mb']} MB) cut by the splitter into {rss['chunks']} chunks "
                    f"(largest {rss['largest_chunk_mb']} MiB), imported one after another by `process_chunk` in one "
                    f"process: peak RSS {rss['peak_rss_mb']} MB ({rss['floor_rss_mb']} MB before the first chunk), "
                    f"{rss['seconds']} s."]
    split = parts.get("splitter")
    if split and "plain" in split:
        out += ["", f"**Splitter** (`split_ranges` over the whole file in a fresh process, the file in the page "
                    f"cache, MB = 2^20 bytes; {_when(split)}):", "",
                "| file | MiB | rows | chunks | MB/s [range] | peak RSS (before the pass) |",
                "| --- | ---: | ---: | ---: | ---: | ---: |"]
        for kind, label in (("plain", "plain (the generic catalog repeated)"),
                            ("quoted", "quote-dense (every field quoted, a line break in every third description)")):
            s = split[kind]
            out.append(f"| {label} | {s['file_mb']:,} | {s['rows']:,} | {s['chunks']:,} | {s['mb_per_s']} "
                       f"[{s['mb_per_s_range'][0]:.0f}–{s['mb_per_s_range'][1]:.0f}] | {s['peak_rss_mb']} MB "
                       f"({s.get('floor_rss_mb', '?')} MB) |")
    return out


def pipeline_and_live(parts: dict[str, Any]) -> list[str]:
    out: list[str] = []
    e2e = parts.get("e2e")
    if e2e:
        out += ["", f"**Local pipeline** ({_when(e2e)}): upload → `completed` {e2e['e2e_s']} s for {e2e['rows']:,} "
                    f"rows, {_x(e2e['e2e_x_copy'])} a bare COPY measured alongside ({e2e['copy_s']} s): upload "
                    f"{e2e['upload_s']} s, splitter {e2e['split_s']} s (first chunk committed after "
                    f"{e2e['first_chunk_s']} s), consumers until completed {e2e['consume_s']} s."]
    live = parts.get("live")
    if live:
        out += ["", f"**Live** ({_when(live)}): WebSocket commit → message p50 {live['ws_latency_p50_ms']} ms, p95 "
                    f"{live['ws_latency_p95_ms']} ms; `GET /api/products?q=` p95 at {live['search_products']:,} "
                    f"products {live['search_p95_ms']} ms."]
    return out


def render(data: dict[str, Any]) -> str:
    parts = data["parts"]
    lines = [f"Machine: {data['machine']}. Written {data['date']}; each part says when it ran, on which commit, and "
             "how many runs. Figures are medians of the runs; a ratio is the median of each run's own ratio "
             "(every run measures its own bare COPY).", "", *targets(parts), *passes(parts), *storage(parts),
             *encodings(parts), *baseline(parts), *memory_and_splitter(parts), *pipeline_and_live(parts)]
    return "\n".join(lines)
