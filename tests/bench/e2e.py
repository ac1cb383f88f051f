"""The end-to-end figure: one file from upload to ``completed`` through the local stack."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from infra.local.stack import LocalConfig, LocalStack, free_port


def pipeline_run(catalog: Path, *, chunk_rows: int, consumers: int) -> dict[str, Any]:
    state = Path(tempfile.mkdtemp(prefix="pi-bench-"))
    config = LocalConfig(state_dir=state, api_port=free_port(), aws_port=free_port(), ws_port=free_port(),
                         consumers=consumers, chunk_rows=chunk_rows, static_dir=None)
    with LocalStack(config), httpx.Client(base_url=config.api_url, timeout=600) as api:
        size = catalog.stat().st_size
        created = api.post("/api/imports", json={"filename": catalog.name, "size": size}).raise_for_status().json()
        upload, import_id = created["upload"], created["import"]["id"]
        began = time.perf_counter()
        with catalog.open("rb") as handle:
            httpx.post(upload["url"], data=upload["fields"], files={"file": (catalog.name, handle, "text/csv")},
                       timeout=600).raise_for_status()
        uploaded = time.perf_counter()
        first_chunk = split_done = None
        while True:
            imp = api.get(f"/api/imports/{import_id}").json()
            now = time.perf_counter()
            if first_chunk is None and imp["chunks_done"] > 0:
                first_chunk = now
            if split_done is None and imp["chunks_total"] is not None:
                split_done = now
            if imp["status"] in ("completed", "failed"):
                break
            time.sleep(0.2)
        finished = time.perf_counter()
    if imp["status"] != "completed" or imp["rows_processed"] != imp["rows_total"]:
        raise RuntimeError(f"the benchmark import did not complete cleanly: {imp}")
    split_done = split_done or finished
    return {
        "e2e_s": round(finished - began, 2),
        "upload_s": round(uploaded - began, 2),
        "split_s": round(split_done - uploaded, 2),
        "first_chunk_s": round((first_chunk or finished) - uploaded, 2),
        "consume_s": round(finished - uploaded, 2),
    }
