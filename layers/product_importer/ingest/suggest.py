"""``POST /api/mappings/suggest``: the reading an import will do, from a file's first bytes (CONTRACT §3).

The UI's mapping step shows it, so the UI never re-implements the header rules: same ``sniff`` (encoding,
delimiter, profile, saved mapping by header set, column plan), samples from the first data rows read as
the consumer reads them. A head cut in the middle of a line (the UI sends at most 64 KB) never makes an
error: the cut line is left out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from product_importer.ingest.encoding import UTF16, utf16_head_to_utf8
from product_importer.ingest.errors import MissingColumnsError
from product_importer.ingest.header import sniff
from product_importer.ingest.limits import FIELDS, REQUIRED_FIELDS
from product_importer.ingest.plan import FilePlan
from product_importer.ingest.rows import read_records
from product_importer.ingest.validate import read_excel_text

SUGGEST_BYTES = 64 * 1024  # what the endpoint reads; a head this long is taken as cut
MAX_SAMPLES = 3
MAX_SAMPLE_CHARS = 100


def suggest(
    head: bytes,
    *,
    saved_mappings: Iterable[Mapping[str, Any]] = (),
    encoding: str | None = None,
    profile: str | None = None,
    mapping: Mapping[str, Any] | None = None,
    truncated: bool | None = None,
) -> dict[str, Any]:
    """``{"encoding", "delimiter", "profile", "columns": [{"header", "field", "samples"}], "missing",
    "likeliest", "warnings", "mapping_id"}``. ``field`` is a field name, ``attribute`` or ``ignore``;
    ``missing`` the required fields no column feeds; ``likeliest`` for each of them the headers most
    likely to hold it, best first (what the failed import's ``error`` would name: ``{"sku": ["Artikel"]}``)
    for the mapping step to offer. ``truncated``: ``head`` is not the whole file (default: when it is at least
    64,000 bytes). Raises ``HeaderError`` for a file no mapping can save (empty, header too large, NUL).
    """
    if truncated is None:
        truncated = len(head) >= 64_000
    try:
        plan = sniff(
            head, encoding=encoding, profile=profile, mapping=mapping, saved_mappings=saved_mappings,
            file_size=None if truncated else len(head),
        )
        missing: list[str] = []
        likeliest: dict[str, list[str]] = {}
    except MissingColumnsError as error:
        assert isinstance(error.plan, FilePlan)
        plan = error.plan
        missing = list(error.missing)
        likeliest = {field: list(error.suggestions.get(field, ())) for field in REQUIRED_FIELDS if field in missing}
    samples = _samples(head, plan, truncated)
    fallback_field = {column: name for name, columns in plan.fallbacks for column in columns}
    columns = [
        {
            "header": name,
            "field": fallback_field.get(i, target),
            "samples": samples[i],
        }
        for i, (name, target) in enumerate(zip(plan.names, plan.targets, strict=True))
    ]
    return {
        "encoding": plan.encoding,
        "delimiter": plan.delimiter,
        "profile": plan.profile,
        "columns": columns,
        "missing": [f for f in REQUIRED_FIELDS if f in missing],
        "likeliest": likeliest,
        "warnings": plan.import_warnings(),
        "mapping_id": plan.mapping_id,
    }


def _samples(head: bytes, plan: FilePlan, truncated: bool) -> list[list[str]]:
    data = utf16_head_to_utf8(head, complete=not truncated) if plan.encoding == UTF16 else head
    body = data[plan.data_start :]
    if truncated:
        cut = max(body.rfind(b"\n"), body.rfind(b"\r"))
        body = body[: cut + 1] if cut >= 0 else b""
    found: list[list[str]] = [[] for _ in plan.names]
    for record in read_records(body, plan, 1):
        if record.error is not None and truncated:
            break  # a quoted value cut by the end of the head
        if record.error is not None or record.cells is None or len(record.cells) != len(plan.names):
            continue
        for i, cell in enumerate(record.cells):
            value = (read_excel_text(cell) if '="' in cell else cell).strip()  # as the import reads it
            if value and len(found[i]) < MAX_SAMPLES and value not in found[i]:
                found[i].append(value[:MAX_SAMPLE_CHARS].encode("utf-8", "replace").decode("utf-8"))
        if all(len(s) >= MAX_SAMPLES for s in found):
            break
    return found


__all__ = ["FIELDS", "SUGGEST_BYTES", "suggest"]
