"""The pure CSV core: header resolution, row-aligned byte ranges, row parsing and validation.

No I/O here beyond reading a binary stream handed in by the caller.
"""

from product_importer.ingest.chunking import ByteRange, split_ranges
from product_importer.ingest.header import (
    FIELDS,
    EmptyFileError,
    Header,
    HeaderError,
    MissingColumnsError,
    read_header,
    resolve_header,
)
from product_importer.ingest.rows import ROW_FIELDS, ParsedChunk, RowError, parse_chunk

__all__ = [
    "FIELDS",
    "ROW_FIELDS",
    "ByteRange",
    "EmptyFileError",
    "Header",
    "HeaderError",
    "MissingColumnsError",
    "ParsedChunk",
    "RowError",
    "parse_chunk",
    "read_header",
    "resolve_header",
    "split_ranges",
]
