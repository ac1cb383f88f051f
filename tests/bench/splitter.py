"""The splitter's pass over a file, in a process of its own: speed and peak memory.

``python -m tests.bench.splitter FILE [--chunk-rows N]`` reads the header as the splitter does, then cuts
the whole file with ``ingest.chunking.split_ranges`` and the deployed chunk limits (rows and bytes per
chunk, the record cap), reading it in the splitter's blocks, and prints ``SPLIT {json}``: rows, chunks,
seconds of the cut (the header excluded), and the process's peak resident set (VmHWM).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from tests.bench.core import _ranges, peak_rss_kb


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("file")
    parser.add_argument("--chunk-rows", type=int, default=5000)
    args = parser.parse_args()
    path = Path(args.file)
    ranges = _ranges(path, args.chunk_rows, streaming=True)
    began = time.perf_counter()
    rows = chunks = 0
    for r in ranges:
        rows += r.rows
        chunks += 1
    elapsed = time.perf_counter() - began
    size = path.stat().st_size
    print("SPLIT " + json.dumps({"file_mb": round(size / 2**20), "rows": rows, "chunks": chunks,
                                 "seconds": round(elapsed, 3), "mb_per_s": round(size / 2**20 / elapsed),
                                 "peak_rss_mb": round(peak_rss_kb() / 1024)}), flush=True)


if __name__ == "__main__":
    main()
