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
        if families and "family_key" in accepted:
            options["family_key"] = _family_key(path, header, limits)
        yield from split_ranges(handle, **options)


def _family_key(path: Path, header: Any, limits: dict[str, int] | None) -> Any:
    """The splitter's record → family function for ``path`` (None: the file has no families), as the tree
    under test builds it: from the file's plan (rows.family_key, since b0e0f4d), or from the header's family
    column (before)."""
    from product_importer.ingest.records import family_key

    if "family_of" not in inspect.signature(family_key).parameters:
        column = getattr(header, "family_column", None)
        return None if column is None else family_key(header.delimiter, header.data_encoding, column)
    from functools import partial

    from product_importer.ingest import rows
    from product_importer.ingest.header import SNIFF_BYTES, sniff

    with path.open("rb") as handle:
        file_plan = sniff(handle.read(SNIFF_BYTES), file_size=path.stat().st_size)
    if not rows.has_families(file_plan):
        return None
    return family_key(file_plan.delimiter, file_plan.data_encoding, partial(rows.family_key, plan=file_plan),
                      (limits or chunk_limits())["max_record_bytes"])


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
