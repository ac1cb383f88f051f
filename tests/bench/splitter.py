"""The splitter's pass over a file, in a process of its own: speed and peak memory.

``python -m tests.bench.splitter FILE [--chunk-rows N]`` reads the header as the splitter does, then cuts
the whole file with ``ingest.chunking.split_ranges`` and the deployed chunk limits (rows and bytes per
chunk, the record cap, row families), reading it in the splitter's blocks, and prints ``SPLIT {json}``:
rows, chunks, seconds of the pass (header included), and the process's resident set before the pass and
at its peak (VmHWM). Only the ingest modules are imported, so the growth is the split's own.
"""

from __future__ import annotations

import argparse
import inspect
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tests.bench.memory import peak_rss_kb, rss_kb


def chunk_limits() -> dict[str, int]:
    """rows / bytes per chunk and the record cap, as the deployed settings default them."""
    limits = {"rows_per_chunk": 5000, "bytes_per_chunk": 8 << 20, "max_record_bytes": 1 << 20}
    try:
        from product_importer.settings import Settings

        fields = Settings.model_fields
        limits["rows_per_chunk"] = int(fields["chunk_rows"].default)
        limits["bytes_per_chunk"] = int(fields["chunk_bytes"].default)
        limits["max_record_bytes"] = int(fields["max_record_bytes"].default)
    except (ImportError, KeyError, TypeError, ValueError):
        pass
    return limits


def ranges(path: Path, chunk_rows: int, *, families: bool = True,
           limits: dict[str, int] | None = None) -> Iterator[Any]:
    """The splitter's cuts of ``path`` (``ByteRange``s), lazily. Works with older trees' ``split_ranges``
    (rows only) too."""
    from product_importer.ingest.chunking import split_ranges
    from product_importer.ingest.header import read_header

    with path.open("rb") as handle:
        header, data_start = read_header(handle)
        handle.seek(data_start)
        options: dict[str, Any] = {"start": data_start, "delimiter": header.delimiter, "rows_per_chunk": chunk_rows}
        accepted = inspect.signature(split_ranges).parameters
        if "bytes_per_chunk" in accepted:
            limits = limits or chunk_limits()
            options["bytes_per_chunk"] = limits["bytes_per_chunk"]
            options["max_record"] = limits["max_record_bytes"]
        column = getattr(header, "family_column", None)
        if families and column is not None and "family_key" in accepted:
            from product_importer.ingest.records import family_key

            options["family_key"] = family_key(header.delimiter, header.data_encoding, column)
        yield from split_ranges(handle, **options)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("file")
    parser.add_argument("--chunk-rows", type=int, default=5000)
    args = parser.parse_args()
    path = Path(args.file)
    limits = chunk_limits()
    from product_importer.ingest import chunking, header, records  # noqa: F401 - loaded before the floor

    floor_kb = rss_kb()
    began = time.perf_counter()
    rows = chunks = 0
    for r in ranges(path, args.chunk_rows, limits=limits):
        rows += r.rows
        chunks += 1
    elapsed = time.perf_counter() - began
    size = path.stat().st_size
    print("SPLIT " + json.dumps({"file_mb": round(size / 2**20), "rows": rows, "chunks": chunks,
                                 "seconds": round(elapsed, 3), "mb_per_s": round(size / 2**20 / elapsed),
                                 "floor_rss_mb": round(floor_kb / 1024), "peak_rss_mb": round(peak_rss_kb() / 1024)}),
          flush=True)


if __name__ == "__main__":
    main()
