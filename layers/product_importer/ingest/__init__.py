"""The pure CSV core: encodings, header and column plan, row-aligned byte ranges, row parsing and validation.

No I/O here beyond reading a binary stream handed in by the caller. The seam between the byte level
(``chunking``, ``records``) and the semantic level (``header.sniff`` → ``FilePlan`` →
``rows.parse_chunk`` / ``rows.parse_records``) is described in ``ingest.plan``.
"""

from product_importer.ingest.chunking import ByteRange, split_ranges
from product_importer.ingest.errors import EmptyFileError, HeaderError, MissingColumnsError
from product_importer.ingest.header import read_header, resolve_header, sniff
from product_importer.ingest.limits import FIELDS
from product_importer.ingest.plan import FilePlan, Record
from product_importer.ingest.rows import (
    ROW_FIELDS,
    ParsedChunk,
    RowError,
    parse_chunk,
    parse_records,
    parse_rows,
)

Header = FilePlan  # the name before the plan

__all__ = [
    "FIELDS",
    "ROW_FIELDS",
    "ByteRange",
    "EmptyFileError",
    "FilePlan",
    "Header",
    "HeaderError",
    "MissingColumnsError",
    "ParsedChunk",
    "Record",
    "RowError",
    "parse_chunk",
    "parse_records",
    "parse_rows",
    "read_header",
    "resolve_header",
    "sniff",
    "split_ranges",
]
