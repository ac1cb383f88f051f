"""Fuzz harness: any uploaded bytes through the real splitter and consumer, in process, over the fakes.

``run_file(data, ...)`` uploads ``data`` to a fake bucket, splits it with ``pipeline.splitter.split_object``
(the production pass: sniff, UTF-16 transcoding, record-aligned cuts, families) and runs every chunk
message through ``pipeline.consumer.process_chunk``, then checks what CONTRACT §1–§2 promise for any
file: a final status, an ``error`` a user can act on, exact counts, a row number and a message on every
row error, and rows that PostgreSQL can store. ``check_file`` also runs it again with other chunk sizes
and read blocks: the outcome may not depend on where the cuts fall.

``file_bytes()`` is the hypothesis strategy: spreadsheet-like files (headers with aliases, duplicates,
empty names, only delimiters, profiles, ``sep=``) written in a random encoding and line ending, then
mutated (BOMs in the middle, stray quotes, NUL bytes, CR-only line ends, a cut at the end, a byte
flipped, a character cut in half), or plain CSV soup.
"""

from __future__ import annotations

import dataclasses
import io
import json
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st
from product_importer.ingest import records as byte_records
from product_importer.ingest.encoding import has_undecodable
from product_importer.ingest.plan import FilePlan
from product_importer.ingest.rows import family_key
from product_importer.ingest.validate import ROW_FIELDS
from product_importer.models import ChunkMessage, SplitPlan
from product_importer.pipeline.consumer import ConsumerPorts, process_chunk
from product_importer.pipeline.s3events import ObjectCreated
from product_importer.pipeline.splitter import SplitLimits, SplitterPorts, split_object

from tests.unit.fakes import (
    BUCKET,
    FakeChunkLedger,
    FakeJobLedger,
    FakeObjectStore,
    FakePlanStore,
    FakeProgress,
    FakeQueue,
    pending_upload,
)

# What a user must never read in an import's ``error`` (CONTRACT §2): exception text, SQL, host names.
_NOT_FOR_USERS = re.compile(
    r"Traceback|\bFile \"|\b[A-Z][A-Za-z]*(?:Error|Exception)\b|\bNone\b|\bSELECT\b|\bINSERT\b|\bUPDATE\b"
    r"|psycopg|botocore|localhost|127\.0\.0\.1|amazonaws\.com|<[a-z_.]+ object at"
)


@dataclass
class Outcome:
    """What one import of a file came to: its final Import item, its valid rows and its row errors."""

    item: dict[str, Any]
    rows: list[tuple] = field(default_factory=list)
    errors: list[Any] = field(default_factory=list)
    chunks: list[ChunkMessage] = field(default_factory=list)
    plan: SplitPlan | None = None
    data: bytes = b""  # the object the chunks are cut from (the UTF-8 transcoding of a UTF-16 file)

    @property
    def status(self) -> str:
        return str(self.item["status"])

    def summary(self, excerpt: int = 200) -> tuple:
        """What may not depend on the chunk size or the read block (``excerpt``: characters of an error's
        value compared; a record over a tiny test cap keeps as much of itself as the reads had buffered)."""
        errors = [dataclasses.replace(e, value=e.value[:excerpt]) if e.value else e for e in self.errors]
        counts = tuple(self.item.get(k) for k in ("status", "error", "rows_total", "rows_imported", "rows_failed",
                                                 "rows_skipped", "encoding", "profile"))
        return counts, sorted(self.rows, key=repr), sorted(errors, key=repr), sorted(self.item.get("warnings") or [])


def run_file(data: bytes, *, rows_per_chunk: int = 5000, bytes_per_chunk: int = 8 << 20,
             max_record: int = 1 << 20, read_block: int = 1 << 20, options: dict[str, Any] | None = None) -> Outcome:
    """Upload ``data`` (as through ``POST /api/imports``), split it, process every chunk once, in order."""
    objects, progress, ledger, plans, chunks = (FakeObjectStore(), FakeProgress(), FakeChunkLedger(),
                                                FakePlanStore(), FakeQueue())
    jobs = FakeJobLedger(ledger)
    import_id = uuid.uuid4().hex
    pending_upload(progress, import_id, import_no=11)
    progress.items[import_id].update(options=options or {})
    key = f"uploads/{import_id}.csv"
    version = objects.put(key, data)
    splitter = SplitterPorts(
        objects=objects, chunks=chunks, continuations=FakeQueue(), progress=progress, ledger=ledger, plans=plans,
        next_import_number=lambda: 99, saved_mappings=list, jobs=jobs,
        limits=SplitLimits(max_upload_bytes=1 << 30, max_drop_bytes=1 << 30, rows_per_chunk=rows_per_chunk,
                           bytes_per_chunk=bytes_per_chunk, max_record_bytes=max_record))
    split_object(ObjectCreated(bucket=BUCKET, key=key, size=len(data), etag=None, version_id=version,
                               sequencer=None), splitter)
    consumer = ConsumerPorts(objects=objects, progress=progress, ledger=ledger, plans=plans, jobs=jobs,
                             chunks=chunks, read_block=read_block)
    messages = chunks.messages()
    for message in messages:
        process_chunk(message, consumer)
    item = progress.get_item(import_id)
    assert item is not None
    rows = [row for call in ledger.calls for row in call["rows"]]
    errors = [error for call in ledger.calls for error in call["errors"]]
    plan = plans.get(import_id)
    chunked = objects.read_range(BUCKET, plan.key, plan.version_id, 0, plan.size) if plan is not None else data
    return Outcome(item, rows, errors, messages, plan, chunked)


def check_outcome(outcome: Outcome) -> None:
    """CONTRACT §1–§2 for any file, on one import's outcome."""
    item = outcome.item
    status = outcome.status
    assert status in ("completed", "failed"), f"import left {status}"
    if status == "failed":
        error = item.get("error")
        assert isinstance(error, str) and error.strip(), "a failed import says why"
        assert not _NOT_FOR_USERS.search(error), f"error not for users: {error!r}"
        return
    assert item.get("error") is None
    total = item["rows_total"]
    imported, failed, skipped = item["rows_imported"], item["rows_failed"], item["rows_skipped"]
    assert item["rows_processed"] == total == imported + failed + skipped, item
    assert item["chunks_done"] == item["chunks_total"] == len(outcome.chunks)
    assert len(outcome.rows) == imported
    # every failed row has an error with its row number and a message; rows and errors do not overlap
    failed_rows = {e.row for e in outcome.errors}
    assert len(failed_rows) == failed, (sorted(failed_rows), failed)
    imported_rows = [row[0] for row in outcome.rows]
    assert len(set(imported_rows)) == len(imported_rows), "a row imported twice"
    assert not failed_rows & set(imported_rows), "a row both imported and failed"
    for number in (*imported_rows, *failed_rows):
        assert 1 <= number <= total, (number, total)
    for error in outcome.errors:
        assert isinstance(error.message, str) and error.message.strip()
        for text in (error.message, error.sku, error.column, error.value):
            if text is not None:
                text.encode("utf-8")  # PostgreSQL stores it: no lone surrogate
                assert "\x00" not in text
    for row in outcome.rows:
        check_storable(row)
    # chunks: contiguous row numbers
    first = 1
    for message in outcome.chunks:
        assert message.first_row == first
        first += message.rows
    assert first - 1 == total


def check_storable(row: tuple) -> None:
    """A valid row PostgreSQL takes: text without NUL or lone surrogates, attributes as JSON of strings."""
    values = dict(zip(ROW_FIELDS, row, strict=True))
    sku = values["sku"]
    assert isinstance(sku, str) and sku.strip() and sku == sku.strip() and len(sku) <= 64, repr(sku)
    assert values["sku_key"] == sku.lower()
    assert isinstance(values["name"], str) and values["name"].strip()
    for name, value in values.items():
        if isinstance(value, str):
            value.encode("utf-8")
            assert "\x00" not in value, name
    if values["attributes"] is not None:
        attributes = json.loads(values["attributes"])
        assert isinstance(attributes, dict)
        assert all(isinstance(v, str) for v in attributes.values())
        assert "\\u0000" not in values["attributes"]


def check_file(data: bytes, *, small: tuple[int, int, int] = (2, 40, 7), max_record: int = 1 << 20,
               options: dict[str, Any] | None = None) -> Outcome:
    """Import ``data`` whole and cut small (``(rows, bytes, read block)``); both obey the contract and agree."""
    whole = run_file(data, max_record=max_record, options=options)
    check_outcome(whole)
    rows, size, block = small
    cut = run_file(data, rows_per_chunk=rows, bytes_per_chunk=size, read_block=block, max_record=max_record,
                   options=options)
    check_outcome(cut)
    excerpt = 200 if max_record > 256 else max_record // 4
    if scattered_families(whole):
        # rows of a family that comes back after another meet its first row within one chunk only: where the
        # cuts fall may matter, the read block may not (each batch passes every family it saw on)
        reread = run_file(data, max_record=max_record, read_block=block, options=options)
        check_outcome(reread)
        assert reread.summary(excerpt) == whole.summary(excerpt), "the outcome depends on the read block"
        return whole
    assert cut.summary(excerpt) == whole.summary(excerpt), "the outcome depends on where the chunks are cut"
    return whole


def scattered_families(outcome: Outcome) -> bool:
    """Whether a row family is not one run of rows: a Shopify Handle that comes back after another, a
    WooCommerce variation whose parent is found in its chunk but is not the head of its own run. The
    splitter keeps runs together (a run that fills a chunk passes its first row on), so where the
    chunks are cut decides whether such rows meet: not compared."""
    plan = outcome.plan
    if plan is None or (plan.family_column is None and outcome.item.get("profile") != "woocommerce"):
        return False
    file_plan = FilePlan.from_json(plan.file_plan)
    names = [n.lower() for n in file_plan.names]
    runs: list[tuple[str, list[str]]] = []  # (key, its first record)
    variations: list[tuple[int, str]] = []  # (run, parent reference key)
    registered: set[str] = set()
    stream = io.BytesIO(outcome.data[plan.data_start :])
    for batch in byte_records.read_records(stream, start=plan.data_start, end=len(outcome.data),
                                           delimiter=plan.delimiter, encoding=plan.data_encoding, first_row=1,
                                           max_record=plan.max_record_bytes):
        for i, record in enumerate(batch.records):
            joined = "".join(record)
            if i in batch.broken or "\x00" in joined or has_undecodable(joined):
                continue
            key = family_key(record, file_plan)
            if key is None:
                continue
            if not runs or runs[-1][0] != key:
                runs.append((key, record))
            if plan.family_column is None:  # WooCommerce
                cells = dict(zip(names, record, strict=True))
                if cells.get("name", "").strip():
                    registered |= _registers(cells)
                elif (reference := cells.get("parent", "").strip()):
                    variations.append((len(runs) - 1, _reference(reference)))
    keys = [key for key, _ in runs]
    if len(keys) != len(set(keys)):
        return True
    for run, reference in variations:
        head = dict(zip(names, runs[run][1], strict=True))
        if reference in registered and not (head.get("name", "").strip() and reference in _registers(head)):
            return True
    return False


def _registers(cells: dict[str, str]) -> set[str]:
    found = set()
    if own := cells.get("id", "").strip():
        found.add(f"id:{own}")
    if sku := cells.get("sku", "").strip():
        found.add(sku.lower())
    return found


def _reference(reference: str) -> str:
    return f"id:{reference[3:].strip()}" if reference[:3].lower() == "id:" else reference.lower()


# ---- the strategy ------------------------------------------------------------------------------------------

HEADERS = (
    ["sku", "name", "price"],
    ["sku", "name", "description", "price", "currency", "quantity", "active", "brand", "category", "barcode"],
    ["SKU *", "Name *", "Qty", "Color"],
    ["sku", "name", "sku"],  # a duplicate
    ["sku", "", "name", ""],  # empty names
    ["", "", ""],  # only delimiters
    ["Product Code", "Title", "Stock", "Size", "Size"],
    ["sku", "name", 'Colour "main"', "notes\nmore"],
    ["Handle", "Title", "Variant SKU", "Option1 Name", "Option1 Value", "Variant Price", "Status"],  # Shopify
    ["ID", "Type", "SKU", "Name", "Parent", "Regular price", "Published"],  # WooCommerce
    ["sku", "store_view_code", "product_type", "name", "price", "qty"],  # Magento
    ["name", "price"],  # sku missing
    ["sku"],
)

CELLS = st.sampled_from([
    "", " ", "A-1", "a-1", "B-2", "x", "Widget", "12.50", "12,50", "-1", "3.0", "1E+11", "true", "no", "draft",
    "Default Title", "h1", "h2", "variable", "variation", "simple", "id:1", "1", "0", "default", "fr",
    'Monitor 27" IPS', '="0012"', "é", "€", "😀", "\u00a0", "\u200b", "\x00", "a,b", "a;b", "a\tb", "line\nbreak",
    "cr\ronly", '"', '""', "'=1+1", "\\n", "x" * 300,
])

LINE_ENDS = st.sampled_from(["\n", "\r\n", "\r"])
ENCODINGS = st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-16-le-bom", "utf-16-be-bom", "utf-16-le",
                             "windows-1252"])


def _quote(cell: str, delimiter: str, always: bool) -> str:
    if always or any(c in cell for c in (delimiter, '"', "\n", "\r")) or cell != cell.strip():
        return '"' + cell.replace('"', '""') + '"'
    return cell


def encode(text: str, encoding: str) -> bytes:
    if encoding == "utf-8-sig":
        return b"\xef\xbb\xbf" + text.encode("utf-8", "surrogatepass")
    if encoding in ("utf-16", "utf-16-le-bom"):
        return b"\xff\xfe" + text.encode("utf-16-le", "surrogatepass")
    if encoding == "utf-16-be-bom":
        return b"\xfe\xff" + text.encode("utf-16-be", "surrogatepass")
    if encoding == "utf-16-le":
        return text.encode("utf-16-le", "surrogatepass")
    if encoding == "windows-1252":
        return text.encode("cp1252", "replace")
    return text.encode("utf-8", "surrogatepass")


@st.composite
def spreadsheet_text(draw: st.DrawFn) -> str:
    """A file as a spreadsheet or a platform would write it (before encoding)."""
    delimiter = draw(st.sampled_from([",", ",", ";", "\t", "|"]))
    header = list(draw(st.sampled_from(HEADERS)))
    quote_all = draw(st.booleans())
    end = draw(LINE_ENDS)
    mixed = draw(st.integers(0, 4)) == 0
    lines = []
    if draw(st.integers(0, 5)) == 0:
        lines.append(draw(st.sampled_from(["sep=" + delimiter, '"sep=;"', "sep=,", "", ",,,"])))
    lines.append(delimiter.join(_quote(c, delimiter, quote_all) for c in header))
    for _ in range(draw(st.integers(0, 12))):
        width = len(header) + draw(st.sampled_from([0, 0, 0, 0, -1, 1]))
        cells = draw(st.lists(CELLS, min_size=max(width, 0), max_size=max(width, 0)))
        lines.append(delimiter.join(_quote(c, delimiter, quote_all) for c in cells))
    text = ""
    for line in lines:
        text += line + (draw(LINE_ENDS) if mixed else end)
    if draw(st.booleans()):
        text = text.rstrip("\r\n")
    return text


@st.composite
def mutated(draw: st.DrawFn, data: bytes) -> bytes:
    """``data`` with a few byte-level accidents."""
    pieces = [b'"', b"\x00", b"\r", b"\n", b"\r\n", b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\xc3", b"\xe2\x82",
              b"\xff", b"\x81", b"\xed\xa0\x80", b",", b";", b"\t", b'""', b'x"', b"\x00\xd8"]
    for _ in range(draw(st.integers(0, 3))):
        kind = draw(st.sampled_from(["insert", "delete", "flip", "truncate"]))
        pos = draw(st.integers(0, len(data)))
        if kind == "insert":
            data = data[:pos] + draw(st.sampled_from(pieces)) + data[pos:]
        elif kind == "delete" and data:
            data = data[:pos] + data[pos + draw(st.integers(1, 3)):]
        elif kind == "flip" and pos < len(data):
            data = data[:pos] + bytes([draw(st.integers(0, 255))]) + data[pos + 1:]
        elif kind == "truncate":
            data = data[:pos]
    return data


SOUP = st.lists(st.sampled_from([
    b"sku,name\n", b"sku;name\n", b"a", b",", b";", b"\t", b'"', b'""', b"\n", b"\r", b"\r\n", b"\x00",
    "é".encode(), "€".encode("utf-16-le"), b"\xff\xfe", b"\xef\xbb\xbf", b"\xff", b"\xe2\x82", b"A-1,x\n",
]), max_size=40).map(b"".join)


@st.composite
def file_bytes(draw: st.DrawFn) -> bytes:
    if draw(st.integers(0, 6)) == 0:
        return draw(SOUP)
    data = encode(draw(spreadsheet_text()), draw(ENCODINGS))
    return draw(mutated(data))


# ---- platform exports, as the platforms write them, and what CONTRACT §1 says they mean -------------------
#
# Each ``*_export()`` strategy draws the rows of an export (dicts over the platform's real columns, cells as
# the platform writes them); ``*_products(rows)`` is the oracle: {sku: (name, description, price, quantity,
# active, brand, category, barcode)} read by the rules of CONTRACT §1 "Platform exports", written plainly.
# ``export_text`` writes them as the platform's CSV, in any line ending.

Product = tuple[str, str | None, str | None, int, bool, str | None, str | None, str | None]


def export_text(columns: list[str], rows: list[dict[str, str]], newline: str = "\n", *,
                final_newline: bool = True) -> str:
    """RFC 4180 with minimal quoting (a value with a comma, a quote or any line break is quoted)."""
    def cell(value: str) -> str:
        return '"' + value.replace('"', '""') + '"' if any(c in value for c in ',"\r\n') else value
    text = "".join(",".join(map(cell, line)) + newline for line in [columns, *[[r[c] for c in columns] for r in rows]])
    return text if final_newline else text[: -len(newline)]


def row_products(outcome: Outcome) -> dict[str, Product]:
    """An outcome's valid rows in the oracles' shape."""
    index = {name: i for i, name in enumerate(ROW_FIELDS)}
    fields = ("name", "description", "price", "quantity", "active", "brand", "category", "barcode")
    return {row[index["sku"]]: tuple(row[index[f]] for f in fields) for row in outcome.rows}  # type: ignore[misc]


# Shopify's products_export.csv (help.shopify.com/manual/products/import-export/using-csv: the columns in
# the order its admin writes them)
SHOPIFY_EXPORT = [
    "Handle", "Title", "Body (HTML)", "Vendor", "Product Category", "Type", "Tags", "Published", "Option1 Name",
    "Option1 Value", "Option1 Linked To", "Option2 Name", "Option2 Value", "Option2 Linked To", "Option3 Name",
    "Option3 Value", "Option3 Linked To", "Variant SKU", "Variant Grams", "Variant Inventory Tracker",
    "Variant Inventory Qty", "Variant Inventory Policy", "Variant Fulfillment Service", "Variant Price",
    "Variant Compare At Price", "Variant Requires Shipping", "Variant Taxable", "Unit Price Total Measure",
    "Unit Price Total Measure Unit", "Unit Price Base Measure", "Unit Price Base Measure Unit", "Variant Barcode",
    "Image Src", "Image Position", "Image Alt Text", "Gift Card", "SEO Title", "SEO Description",
    "Google Shopping / Google Product Category", "Google Shopping / Gender", "Google Shopping / Age Group",
    "Google Shopping / MPN", "Google Shopping / Condition", "Google Shopping / Custom Product", "Variant Image",
    "Variant Weight Unit", "Variant Tax Code", "Cost per item", "Included / United States", "Price / United States",
    "Compare At Price / United States", "Status",
]
_TITLES = st.sampled_from(["Classic Tee", "Mug, large", 'Cap "Pro"', "Größe Jacke", "Kids’ boots…"])


@st.composite
def _shopify_product(draw: st.DrawFn, handle: str) -> list[dict[str, str]]:
    """One product: its first row, its variants (1–3 options, or Shopify's lone ``Title: Default Title``),
    then image rows (no Variant SKU)."""
    options = ["Size", "Color", "Material"][: draw(st.integers(0, 3))]
    rows = []
    for n in range(draw(st.integers(1, 4)) if options else 1):
        row = dict.fromkeys(SHOPIFY_EXPORT, "")
        row.update({"Handle": handle, "Variant Grams": "0.0", "Variant Inventory Tracker": "shopify",
                    "Variant Inventory Policy": "deny", "Variant Fulfillment Service": "manual",
                    "Variant Weight Unit": "kg", "Variant Requires Shipping": "TRUE", "Variant Taxable": "TRUE"})
        if n == 0:
            row.update({"Title": draw(_TITLES), "Tags": "a, b", "Gift Card": "FALSE",
                        "Body (HTML)": draw(st.sampled_from(["", "<p>Soft</p>", "<p>Line one\r\nline two</p>"])),
                        "Vendor": draw(st.sampled_from(["", "Acme"])), "Type": draw(st.sampled_from(["", "Shirts"])),
                        "Product Category": draw(st.sampled_from(["", "Apparel & Accessories > Clothing"])),
                        "Published": draw(st.sampled_from(["TRUE", "FALSE", ""])),
                        "Status": draw(st.sampled_from(["active", "draft", "archived", ""]))})
            for i, option in enumerate(options, start=1):
                row[f"Option{i} Name"] = option
            if not options:
                row.update({"Option1 Name": "Title", "Option1 Value": "Default Title"})
        elif draw(st.integers(0, 3)) == 0:  # a variant's own status
            row["Status"] = draw(st.sampled_from(["active", "draft"]))
        for i in range(1, len(options) + 1):
            row[f"Option{i} Value"] = draw(st.sampled_from(["S", "XL", "Red", "Default Title"]))
        row.update({"Variant SKU": draw(st.sampled_from([f"{handle}-{n}", f"{handle}-{n}", ""])),
                    "Variant Price": draw(st.sampled_from(["10.00", "0.00", "1299.5"])),
                    "Variant Compare At Price": draw(st.sampled_from(["", "15.00"])),
                    "Variant Inventory Qty": draw(st.sampled_from(["0", "5", "12"])),
                    "Variant Barcode": draw(st.sampled_from(["", "0012345678905"]))})
        rows.append(row)
    for position in range(2, 2 + draw(st.integers(0, 2))):
        image = dict.fromkeys(SHOPIFY_EXPORT, "")
        image.update({"Handle": handle, "Image Src": f"https://cdn.shopify.com/{handle}-{position}.jpg",
                      "Image Position": str(position)})
        rows.append(image)
    return rows


def shopify_export(max_products: int = 4) -> st.SearchStrategy[list[dict[str, str]]]:
    return st.integers(1, max_products).flatmap(
        lambda k: st.tuples(*[_shopify_product(f"handle-{i}") for i in range(k)])).map(
        lambda products: [row for product in products for row in product])


def shopify_products(rows: list[dict[str, str]]) -> dict[str, Product]:
    """CONTRACT §1 *Shopify*: a row with a Variant SKU is a product; its empty Title, Body (HTML), Vendor,
    Type, Product Category, Published and Status take its family's first row's; named ``Title - options``, unless
    its only option value is Default Title; Status wins over Published; category is Type, or Product Category
    where Type is empty."""
    firsts: dict[str, dict[str, str]] = {}
    out: dict[str, Product] = {}
    for row in rows:
        first = firsts.setdefault(row["Handle"], row)
        if not row["Variant SKU"].strip():
            continue

        def inherited(column: str, row: dict[str, str] = row, first: dict[str, str] = first) -> str:
            return row[column] if row[column].strip() else first[column]

        options = [v for i in (1, 2, 3) if (v := row[f"Option{i} Value"].strip())]
        title = inherited("Title").strip()
        name = title if not options or options == ["Default Title"] else f"{title} - {' / '.join(options)}"
        status, published = inherited("Status").strip().lower(), inherited("Published").strip().lower()
        active = status == "active" if status else published != "false"
        out[row["Variant SKU"]] = (name, inherited("Body (HTML)").replace("\r\n", "\n") or None,
                                   row["Variant Price"] or None, int(row["Variant Inventory Qty"] or 0), active,
                                   inherited("Vendor") or None, inherited("Type") or inherited("Product Category") or None,
                                   row["Variant Barcode"] or None)
    return out


# WooCommerce's wc-product-export CSV (WC_Product_CSV_Exporter's default columns, in its order)
WOOCOMMERCE_EXPORT = [
    "ID", "Type", "SKU", "GTIN, UPC, EAN, or ISBN", "Name", "Published", "Is featured?", "Visibility in catalog",
    "Short description", "Description", "Date sale price starts", "Date sale price ends", "Tax status", "Tax class",
    "In stock?", "Stock", "Low stock amount", "Backorders allowed?", "Sold individually?", "Weight (kg)",
    "Length (cm)", "Width (cm)", "Height (cm)", "Allow customer reviews?", "Purchase note", "Sale price",
    "Regular price", "Categories", "Tags", "Shipping class", "Images", "Download limit", "Download expiry days",
    "Parent", "Grouped products", "Upsells", "Cross-sells", "External URL", "Button text", "Position", "Brands",
    "Attribute 1 name", "Attribute 1 value(s)", "Attribute 1 visible", "Attribute 1 global",
]


def woo_escape(value: str) -> str:
    """WC_CSV_Exporter::escape_data: a ``'`` before a leading ``=``, ``+``, ``-`` or ``@``."""
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value


def _woo_unescape(value: str) -> str:
    return value[1:] if value[:1] == "'" and value[1:2] in ("=", "+", "-", "@") and value[1:2] else value


@st.composite
def woocommerce_export(draw: st.DrawFn, max_products: int = 4) -> list[dict[str, str]]:
    """Simple and variable products with their variations (referring to the parent by SKU, or ``id:N`` when it
    has none), every cell escaped as WooCommerce does, line breaks in descriptions as a literal ``\\n``; the
    rows maybe in another order (the exporter writes them by ID, in batches: a variation added later comes
    after other products)."""
    rows: list[dict[str, str]] = []
    next_id = 100
    for _ in range(draw(st.integers(1, max_products))):
        next_id += 1
        own = next_id
        kind = draw(st.sampled_from(["simple", "variable", "variable"]))
        sku = draw(st.sampled_from([f"P{own}", f"-P{own}", f"@P{own}"])) if kind == "simple" or draw(st.booleans()) \
            else ""
        row = dict.fromkeys(WOOCOMMERCE_EXPORT, "")
        row.update({
            "ID": str(own), "Type": kind, "SKU": woo_escape(sku), "Is featured?": "0", "Visibility in catalog": "visible",
            "Name": woo_escape(draw(st.sampled_from(["Hoodie", "=Cap", "Mug, large", '"Quote" tee', "Café"]))),
            "Published": draw(st.sampled_from(["1", "0", "-1"])), "Tax status": "taxable", "In stock?": "1",
            "Description": draw(st.sampled_from(["", "Warm\\nsoft", "a \\\\n literal", "<p>x</p>\\n\\n<p>y</p>"])),
            "Stock": draw(st.sampled_from(["", "5", "0"])), "Regular price": draw(st.sampled_from(["", "20", "19.99"])),
            "Sale price": draw(st.sampled_from(["", "15"])),
            "Categories": draw(st.sampled_from(["", "Clothing > Hoodies", "Clothing, Sale"])),
            "Brands": draw(st.sampled_from(["", "Acme"])), "GTIN, UPC, EAN, or ISBN": draw(st.sampled_from(["", "0012345678905"])),
            "Attribute 1 name": "Size", "Attribute 1 value(s)": "S, M", "Attribute 1 visible": "1",
            "Attribute 1 global": "1"})
        rows.append(row)
        for n in range(draw(st.integers(0, 3)) if kind == "variable" else 0):
            next_id += 1
            variation = dict.fromkeys(WOOCOMMERCE_EXPORT, "")
            variation.update({
                "ID": str(next_id), "Type": "variation", "SKU": f"P{own}-{n}", "Published": "1", "Regular price": "20",
                "Name": draw(st.sampled_from(["", "", "Hoodie - S"])), "Stock": draw(st.sampled_from(["parent", "3", ""])),
                "Parent": draw(st.sampled_from([f"id:{own}", row["SKU"]])) if sku else f"id:{own}",
                "Attribute 1 name": "Size", "Attribute 1 value(s)": "S"})
            rows.append(variation)
    return list(draw(st.permutations(rows))) if draw(st.booleans()) else rows


def woocommerce_products(rows: list[dict[str, str]]) -> dict[str, Product]:
    """CONTRACT §1 *WooCommerce*: the exporter's escaping undone, a literal ``\\n`` in a description a line
    break; a variation without a name takes its parent's (by SKU or ``id:N``); Published 1 is active; a
    variable product without a SKU is only its variations' parent (skipped)."""
    parents: dict[str, dict[str, str]] = {}
    for row in rows:
        if _woo_unescape(row["Name"]).strip():
            parents.setdefault(f"id:{row['ID']}", row)
            if row["SKU"]:
                parents.setdefault(_woo_unescape(row["SKU"]).lower(), row)
    out: dict[str, Product] = {}
    for row in rows:
        sku = _woo_unescape(row["SKU"])
        if not sku and row["Type"] in ("variable", "grouped"):
            continue
        reference = _woo_unescape(row["Parent"])
        parent = parents.get(reference if reference.startswith("id:") else reference.lower()) if reference else None
        name = _woo_unescape(row["Name"]) or (_woo_unescape(parent["Name"]) if parent else "")
        stock = parent["Stock"] if row["Stock"] == "parent" and parent else row["Stock"]
        description = "\\\\n".join(part.replace("\\n", "\n") for part in row["Description"].split("\\\\n"))
        out[sku] = (name, description or None, row["Regular price"] or None, int(stock or 0), row["Published"] == "1",
                    row["Brands"] or None, row["Categories"] or None, row["GTIN, UPC, EAN, or ISBN"] or None)
    return out


# Magento 2's catalog_product.csv (System > Export, Products: its first columns, in its order)
MAGENTO_EXPORT = [
    "sku", "store_view_code", "attribute_set_code", "product_type", "categories", "product_websites", "name",
    "description", "short_description", "weight", "product_online", "tax_class_name", "visibility", "price",
    "special_price", "url_key", "meta_title", "meta_keywords", "meta_description", "created_at", "updated_at",
    "additional_attributes", "qty", "out_of_stock_qty", "is_in_stock", "manage_stock", "configurable_variations",
    "configurable_variation_labels", "associated_skus",
]


@st.composite
def magento_export(draw: st.DrawFn, max_products: int = 4) -> list[dict[str, str]]:
    """Default rows (``store_view_code`` empty) and store-view rows, before or after them, with their own
    name, status or price."""
    rows: list[dict[str, str]] = []
    for n in range(draw(st.integers(1, max_products))):
        product = [dict.fromkeys(MAGENTO_EXPORT, "")]
        product[0].update({
            "sku": f"MG-{n}", "attribute_set_code": "Default", "product_websites": "base",
            "product_type": draw(st.sampled_from(["simple", "configurable", "virtual"])),
            "categories": draw(st.sampled_from(["", "Default Category/Gear,Default Category/Gear/Bags"])),
            "name": draw(st.sampled_from(["Joust Duffle Bag", 'Strive "Shoulder" Pack', "Sac à dos"])),
            "description": draw(st.sampled_from(["", "<p>The sporty Joust\r\nDuffle</p>"])), "weight": "1.000000",
            "product_online": draw(st.sampled_from(["1", "2"])), "tax_class_name": "Taxable Goods",
            "visibility": "Catalog, Search", "price": draw(st.sampled_from(["34.000000", "0.000000", "45.5"])),
            "url_key": f"mg-{n}", "created_at": "3/21/24, 9:30 AM", "additional_attributes": "color=Red,size=M",
            "qty": draw(st.sampled_from(["100.0000", "0.0000", "7"])), "is_in_stock": "1", "manage_stock": "1"})
        for code in draw(st.lists(st.sampled_from(["default", "fr", "de"]), max_size=2, unique=True)):
            view = dict.fromkeys(MAGENTO_EXPORT, "")
            view.update({"sku": f"MG-{n}", "store_view_code": code, "name": draw(st.sampled_from(["", "Sac"])),
                         "product_online": draw(st.sampled_from(["", "2"])), "price": draw(st.sampled_from(["", "1.00"]))})
            product.insert(draw(st.integers(0, len(product))), view)
        rows.extend(product)
    return rows


def magento_products(rows: list[dict[str, str]]) -> dict[str, Product]:
    """CONTRACT §1 *Magento*: store-view rows skipped; ``qty`` the quantity, ``product_online`` 1 active, 2
    inactive; Magento's six decimals (34.000000) are the price exactly."""
    out: dict[str, Product] = {}
    for row in rows:
        if row["store_view_code"]:
            continue
        whole, _, decimals = row["price"].partition(".")
        price = whole + ("." + decimals[:4] if decimals else "")
        out[row["sku"]] = (row["name"], row["description"].replace("\r\n", "\n") or None, price or None,
                           int(float(row["qty"])), row["product_online"] == "1", None, row["categories"] or None, None)
    return out


PLATFORM_EXPORTS = {
    "shopify": (SHOPIFY_EXPORT, shopify_export(), shopify_products),
    "woocommerce": (WOOCOMMERCE_EXPORT, woocommerce_export(), woocommerce_products),
    "magento": (MAGENTO_EXPORT, magento_export(), magento_products),
}
