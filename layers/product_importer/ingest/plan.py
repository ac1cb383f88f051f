"""The column plan of one file (DESIGN decision 12): what its header says about every data row.

THE SEAM between the byte level (chunking, records, splitter, consumer) and the semantic level (this
package's ``header``/``rows``/``profiles``/``suggest``). Kept stable; change it only together.

1. The splitter reads the first ``SNIFF_BYTES`` (1 MiB) of the object and calls
   ``header.sniff(head, encoding=…, profile=…, mapping=…, saved_mappings=…, drop_key=…, file_size=…)``
   → a ``FilePlan``, or a ``HeaderError`` subclass whose ``str()`` is the user-facing reason
   (``EmptyFileError``, ``HeaderTooLargeError``, ``HeaderNameTooLongError``, ``HeaderNulError``,
   ``MissingColumnsError``, ``InvalidMappingError``, ``HeaderEncodingError``).
2. The plan is stored once per import (``FilePlan.to_json()``: plain JSON, at most ~70 KB for the largest
   header allowed, usually < 2 KB) and rebuilt in the consumer with ``FilePlan.from_json``. The Import
   object gets only ``plan.encoding``, ``plan.profile``, ``plan.mapping`` and ``plan.import_warnings()``
   (capped in number and length).
3. Byte offsets: ``header_start``/``header_end`` (the header record without its line terminator) and
   ``data_start`` (the first byte of the first data record) are offsets in the *data object*. That is the
   uploaded object itself, except when ``plan.transcode`` is true (UTF-16): then it is the UTF-8 object
   that ``encoding.transcode_to_utf8(blocks)`` makes of the whole file (BOM dropped), which the pipeline
   writes once and chunks instead. Chunk bytes always decode with ``plan.data_encoding``
   (``utf-8`` or ``windows-1252``), both ASCII-compatible for ``"``, CR, LF and the delimiter.
4. Records: every record after the header takes a data-row number, 1-based, *including* empty lines and
   all-blank rows (they are skipped and counted, CONTRACT §1). A record ends at LF, CRLF or a lone CR
   outside quotes; the final terminator of the file does not start a record. Blank lines before the
   header and the ``sep=`` line are not data rows.
5. The consumer parses with one of (all return a ``ParsedChunk``):
   - ``rows.parse_chunk(data, plan, first_row, family_context=…)``: the bytes of whole records (the fast
     path; a quote still open at the end of ``data`` fails its line and reading resumes at the next);
   - ``rows.parse_rows(records, plan, first_row, broken={i: (message, excerpt)}, lossy=…, has_nul=…,
     family_context=…)``: records the byte level already split into cells (``[]`` for a blank line and
     for a record it rejected as a whole, e.g. an unterminated quote or a record over 1 MiB);
   - ``rows.parse_records(records, plan, family_context=…)`` with ``Record`` tuples (the same, one tuple
     per record). ``rows.read_records(data, plan, first_row)`` is how parse_chunk reads bytes.
   ``rows_seen`` = imported + failed rows, ``rows_skipped`` apart: ``rows_processed += rows_seen +
   rows_skipped``. ``warnings``: constant strings for the import's warnings (deduplicate).
   Batches of one range parsed one after another: pass each one's ``family_tail`` as the next one's
   ``family_context``, and ``ParsedChunk.combine(parts)`` gives the range's result.
6. Families (Shopify): ``plan.family_column`` is the column whose value groups rows (``Handle``), or None.
   The splitter keeps a family in one chunk where it can; when a chunk starts inside a family, it passes
   ``family_context = rows.family_context(first_record_of_that_family, plan)`` (a small JSON dict,
   ``{"key", "values": {header name: cell}}``; ``rows.family_key(cells, plan)`` gives a record's
   family) so the chunk's rows inherit from the family's first row.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from product_importer.ingest.limits import FIELDS

SNIFF_BYTES = 1 << 20  # what the splitter reads for sniff(): encoding detection looks at the first MiB
ATTRIBUTE = "attribute"
IGNORE = "ignore"
TARGETS = (*FIELDS, ATTRIBUTE, IGNORE)

ENCODING_HINT = (
    "some rows are not valid UTF-8 and fail; if the file was saved in another encoding "
    "(Excel on Windows: Windows-1252), import it again with encoding windows-1252 (a partner drop: "
    "write it with Content-Type text/csv; charset=windows-1252)"
)
MAX_IMPORT_WARNINGS = 20  # what the Import object carries (a DynamoDB item holds 400 KB)
MAX_WARNING_CHARS = 300


class Record(NamedTuple):
    """One data record as the byte level found it.

    ``cells``: the record's cells, decoded with ``plan.data_encoding`` (a UTF-8 file's undecodable bytes
    as surrogate escapes, ``errors="surrogateescape"``), or None. ``error``: set when the byte level
    rejected the record itself ("unterminated quote", "longer than 1 MiB"): the row fails with that
    message; cells, if given, only help the error show the sku and the cell where it went wrong.
    """

    row_no: int
    cells: list[str] | None
    error: str | None = None


@dataclass(frozen=True)
class FilePlan:
    """Everything about reading one file that its first bytes decide (CONTRACT §1)."""

    names: tuple[str, ...]  # header cells as written, trimmed
    targets: tuple[str, ...]  # per column: a FIELDS name, "attribute" or "ignore"
    delimiter: str = ","
    encoding: str = "utf-8"  # "utf-8" | "utf-16" | "windows-1252": how the file is read (Import.encoding)
    profile: str = "generic"  # "generic" | "shopify" | "woocommerce" | "magento"
    header_start: int = 0
    header_end: int = 0
    data_start: int = 0
    bom: int = 0  # bytes of byte-order mark at the start of the uploaded object
    sep_hint: bool = False  # a "sep=X" line came before the header
    transcode: bool = False  # UTF-16: offsets refer to encoding.transcode_to_utf8 of the object
    # field -> columns tried per row, first non-empty cell wins (Shopify: Status, then Published). A
    # field listed here has the first of these columns as its target; the others are "ignore"d.
    fallbacks: tuple[tuple[str, tuple[int, ...]], ...] = ()
    family_column: int | None = None
    mapping: Mapping[str, Any] | None = field(default=None, hash=False, compare=False)  # in effect
    mapping_id: str | None = None  # the saved mapping that applied, if one did
    # A drop's saved mapping bound to its prefix may carry replace options (CONTRACT §2 Replace):
    # ``{"scope", "max_deactivate_percent"}``, None otherwise.
    replace: Mapping[str, Any] | None = field(default=None, hash=False, compare=False)
    warnings: tuple[str, ...] = ()

    # ---- what the rest of the system asks ----------------------------------------------------------

    @property
    def data_encoding(self) -> str:
        """How chunk bytes decode: ``utf-8`` or ``windows-1252`` (UTF-16 is chunked transcoded)."""
        return "utf-8" if self.encoding == "utf-16" else self.encoding

    @property
    def field_index(self) -> dict[str, int]:
        """Canonical field -> its column, for the fields the file has."""
        return {target: i for i, target in enumerate(self.targets) if target in FIELDS}

    @property
    def attribute_columns(self) -> tuple[tuple[str, int], ...]:
        """(name as written, column) of every column kept as an attribute, in column order."""
        return tuple((self.names[i], i) for i, t in enumerate(self.targets) if t == ATTRIBUTE)

    def has(self, field_name: str) -> bool:
        return field_name in self.targets

    @property
    def present_fields(self) -> frozenset[str]:
        """The fields an imported row sets (CONTRACT §1: a column the file lacks leaves the value alone);
        ``attributes`` when the file has attribute columns."""
        present = {t for t in self.targets if t in FIELDS}
        if ATTRIBUTE in self.targets:
            present.add("attributes")
        return frozenset(present)

    def import_warnings(self) -> list[str]:
        """The plan's warnings as the Import object carries them: at most 20, each at most 300 chars."""
        return cap_warnings(self.warnings)

    # ---- storage -------------------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        return {
            "v": 1,
            "names": list(self.names),
            "targets": list(self.targets),
            "delimiter": self.delimiter,
            "encoding": self.encoding,
            "profile": self.profile,
            "header_start": self.header_start,
            "header_end": self.header_end,
            "data_start": self.data_start,
            "bom": self.bom,
            "sep_hint": self.sep_hint,
            "transcode": self.transcode,
            "fallbacks": {name: list(columns) for name, columns in self.fallbacks},
            "family_column": self.family_column,
            "mapping": dict(self.mapping) if self.mapping is not None else None,
            "mapping_id": self.mapping_id,
            "replace": dict(self.replace) if self.replace is not None else None,
            "warnings": list(self.warnings),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FilePlan:
        return cls(
            names=tuple(data["names"]),
            targets=tuple(data["targets"]),
            delimiter=data.get("delimiter", ","),
            encoding=data.get("encoding", "utf-8"),
            profile=data.get("profile", "generic"),
            header_start=int(data.get("header_start", 0)),
            header_end=int(data.get("header_end", 0)),
            data_start=int(data.get("data_start", 0)),
            bom=int(data.get("bom", 0)),
            sep_hint=bool(data.get("sep_hint", False)),
            transcode=bool(data.get("transcode", False)),
            fallbacks=tuple((name, tuple(columns)) for name, columns in (data.get("fallbacks") or {}).items()),
            family_column=data.get("family_column"),
            mapping=data.get("mapping"),
            mapping_id=data.get("mapping_id"),
            replace=data.get("replace"),
            warnings=tuple(data.get("warnings") or ()),
        )

    # ---- compatibility with the old Header (splitter and consumer before the plan is stored) ----------

    @property
    def raw(self) -> bytes:
        """The header as one CSV record (UTF-8): ``resolve_header(plan.raw)`` gives the generic plan."""
        import csv
        import io

        out = io.StringIO()
        csv.writer(out, delimiter=self.delimiter, lineterminator="").writerow(self.names)
        return out.getvalue().encode("utf-8")


def cap_warnings(warnings: tuple[str, ...] | list[str]) -> list[str]:
    kept = [w if len(w) <= MAX_WARNING_CHARS else w[: MAX_WARNING_CHARS - 1] + "…" for w in warnings]
    if len(kept) > MAX_IMPORT_WARNINGS:
        more = len(kept) - (MAX_IMPORT_WARNINGS - 1)
        kept = [*kept[: MAX_IMPORT_WARNINGS - 1], f"and {more} more warnings"]
    return kept
