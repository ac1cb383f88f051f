"""The real-world files (tests/data/realworld, copied from ../shared/cases/realworld) read offline.

Each file goes through what the pipeline does with it, without a database: ``sniff`` on its first MiB,
then ``parse_chunk`` over its data, whole and cut into small record-aligned pieces (the pieces then
agree with the whole). What a case expects that can be checked without a database is checked: the
outcome (header error or not), counts, encoding, profile, warnings, row errors, and the values of the
row that would win for each SKU (the last valid one). Storage, the API and delivery are the stack's
business (run.py against ``make up``).
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from product_importer.ingest import ROW_FIELDS, HeaderError, ParsedChunk, parse_chunk, sniff
from product_importer.ingest.plan import SNIFF_BYTES, FilePlan, Record
from product_importer.ingest.rows import family_context, family_key, read_records

DATA = Path(__file__).resolve().parent.parent / "data" / "realworld"
CASES = json.loads((DATA / "cases.json").read_text(encoding="utf-8"))
PREFIX, NUMBER = "RW0A1B2C", "12345678"
OFFLINE = {"max-errors-stops-import"}  # stops by max_errors: the pipeline's rule, not the reading's


def substitute(text: str) -> str:
    return text.replace("{P}", PREFIX).replace("{p}", PREFIX.lower()).replace("{N}", NUMBER)


def case_bytes(case: dict[str, Any]) -> bytes:
    raw = (DATA / case["file"]).read_bytes()
    encoding = {"cp1252": "cp1252", "utf-16": "utf-16-le"}.get(case.get("encoding", "utf-8"), "utf-8")
    if encoding == "utf-8":
        return substitute(raw.decode("utf-8", "surrogateescape")).encode("utf-8", "surrogateescape")
    return raw.replace(b"{P}", PREFIX.encode()).replace(b"{p}", PREFIX.lower().encode()).replace(
        b"{N}", NUMBER.encode()
    )


def read(data: bytes, **options: Any) -> tuple[FilePlan, ParsedChunk]:
    plan = sniff(data[:SNIFF_BYTES], file_size=len(data), **options)
    return plan, parse_chunk(data[plan.data_start :], plan, 1)


def record_pieces(region: bytes, plan: FilePlan, size: int) -> list[tuple[bytes, int, list[Record]]]:
    """Cut the data after every ``size`` records (at line ends where no quote is open)."""
    pieces: list[tuple[bytes, int, list[Record]]] = []
    current: list[bytes] = []
    first = 1
    for line in region.splitlines(keepends=True):
        current.append(line)
        records = read_records(b"".join(current), plan, first)
        if len(records) >= size and not any(r.error for r in records):
            pieces.append((b"".join(current), first, records))
            first += len(records)
            current = []
    if current:
        pieces.append((b"".join(current), first, read_records(b"".join(current), plan, first)))
    return pieces


def winners(parsed: ParsedChunk) -> dict[str, dict[str, Any]]:
    rows = {}
    for row in parsed.rows:
        values = dict(zip(ROW_FIELDS, row, strict=True))
        values["attributes"] = json.loads(values["attributes"]) if values["attributes"] else {}
        rows[values["sku_key"]] = values
    return rows


def check_product(expected: dict[str, Any], found: dict[str, Any] | None) -> None:
    expected = json.loads(substitute(json.dumps(expected)))
    sku = expected["sku"]
    if expected.get("_absent"):
        assert found is None, f"{sku} should not be imported"
        return
    assert found is not None, f"{sku} is not imported"
    for key, want in expected.items():
        if key == "sku" or key.startswith("_"):
            continue
        if key == "attributes":
            for name, value in want.items():
                assert found["attributes"].get(name) == value, (sku, name)
        elif key == "price" and want is not None:
            assert found["price"] is not None and Decimal(found["price"]) == Decimal(want), (sku, found["price"])
        elif expected.get("_loose_newlines") and isinstance(want, str):
            assert found[key].replace("\r\n", "\n").replace("\r", "\n") == want.replace("\r\n", "\n"), sku
        else:
            assert found[key] == want, (sku, key, found[key])
    for name in expected.get("_no_attributes", []):
        assert name not in found["attributes"], (sku, name)
    for key, length in expected.get("_len", {}).items():
        assert len(found[key]) == length, (sku, key)
    for key, length in expected.get("_attr_len", {}).items():
        assert len(found["attributes"][key]) == length, (sku, key)
    for key, start in expected.get("_startswith", {}).items():
        assert found[key].startswith(start), (sku, key)
    for key, part in expected.get("_contains", {}).items():
        assert part in found[key], (sku, key)


@pytest.mark.parametrize("case", [c for c in CASES if c["id"] not in OFFLINE], ids=lambda c: c["id"])
def test_a_real_world_file_reads_as_its_author_meant(case: dict[str, Any]):
    expect = case["expect"]
    data = case_bytes(case)
    options = {k: v for k, v in (case.get("create_body") or {}).items() if k in ("encoding", "profile", "mapping")}

    if expect["status"] == "failed":
        with pytest.raises(HeaderError) as error:
            read(data, **options)
        message = str(error.value).lower()
        assert all(p.lower() in message for p in expect.get("error_contains") or [])
        if expect.get("error_contains_any"):
            assert any(p.lower() in message for p in expect["error_contains_any"])
        return

    plan, parsed = read(data, **options)

    total = parsed.rows_seen + parsed.rows_skipped
    for key, value in {
        "rows_total": total,
        "rows_imported": len(parsed.rows),
        "rows_failed": parsed.rows_failed,
        "rows_skipped": parsed.rows_skipped,
        "encoding": plan.encoding,
        "profile": plan.profile,
    }.items():
        if expect.get(key) is not None:
            assert value == expect[key], key
    warnings = json.dumps(plan.import_warnings() + parsed.warnings).lower()
    if expect.get("warnings_nonempty"):
        assert plan.import_warnings()
    for part in expect.get("warnings_contain") or []:
        assert part.lower() in warnings
    for want in expect.get("row_errors") or []:
        hits = [e for e in parsed.errors if e.row == want["row"]]
        if "column" in want:
            hits = [e for e in hits if (e.column or "").lower() == want["column"].lower()]
        if "message_contains" in want:
            hits = [e for e in hits if want["message_contains"].lower() in e.message.lower()]
        assert hits, (want, parsed.errors[:5])
    for error in parsed.errors:
        assert plan.names[0] not in error.message or plan.names[0] in ("sku", "name")  # no header copies
    products = winners(parsed)
    for expected in expect.get("products") or []:
        check_product(expected, products.get(substitute(expected["sku"]).lower()))


@pytest.mark.parametrize(
    "case", [c for c in CASES if c["expect"]["status"] == "completed" and c["id"] not in OFFLINE
             and (DATA / c["file"]).stat().st_size < 10_000],
    ids=lambda c: c["id"],
)
def test_reading_a_real_world_file_in_pieces_equals_reading_it_whole(case: dict[str, Any]):
    data = case_bytes(case)
    plan, whole = read(data)

    parts = []
    firsts: dict[str, list[str]] = {}  # what the splitter knows: each family's first record
    for piece, first, records in record_pieces(data[plan.data_start :], plan, 2):
        key = family_key(records[0].cells or [], plan) if records else None
        context = family_context(firsts[key], plan) if key in firsts else None
        parts.append(parse_chunk(piece, plan, first, family_context=context))
        for record in records:
            if (k := family_key(record.cells or [], plan)) and k not in firsts:
                firsts[k] = list(record.cells or [])

    assert [row for part in parts for row in part.rows] == whole.rows
    assert [e for part in parts for e in part.errors] == whole.errors
    assert sum(p.rows_skipped for p in parts) == whole.rows_skipped
    assert sum(p.rows_seen for p in parts) == whole.rows_seen
