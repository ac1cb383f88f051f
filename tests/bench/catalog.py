"""Deterministic product catalog CSVs (benchmarks, e2e tests, demos).

- ``write_catalog``: the generic 11-column catalog (``encoding="windows-1252"``: the same catalog with
  accented words, written the way Excel on Windows saves it);
- ``write_shopify``: a Shopify product export (its 36 template columns, families of variants sharing a
  Handle, extra image rows);
- ``write_long_descriptions``: few rows with very long HTML descriptions (the consumer's memory);
- ``write_quote_dense``: every field quoted, quoted line breaks in a third of the rows (the splitter);
- ``grow``: a file repeated up to a size (the splitter's 1 GB files).
"""

from __future__ import annotations

import argparse
import csv
import random
from collections.abc import Iterator
from pathlib import Path

HEADER = ["sku", "name", "description", "price", "currency", "quantity", "active", "brand", "category",
          "barcode", "color"]
_WORDS = ("steel", "cotton", "wireless", "ergonomic", "compact", "vintage", "organic", "premium", "solar",
          "portable", "classic", "smart", "modular", "heavy-duty", "lightweight", "waterproof", "bamboo",
          "ceramic", "carbon", "linen", "walnut", "copper", "granite", "velvet", "titanium", "recycled")
# Words a Windows-1252 file holds (every character is in the code page, none is ASCII-only).
_ACCENTED = ("café", "crème", "brûlée", "façade", "naïve", "größe", "über", "señor", "smörgås", "déjà",
             "zürich", "ærø", "piñata", "ångström", "garçon", "à-la-carte", "fiancée", "jalapeño",
             "coöp", "œuvre", "süß", "€-saver", "“deluxe”", "pâté", "rosé", "kräftig")
_NOUNS = ("lamp", "chair", "kettle", "backpack", "headphones", "desk", "mug", "jacket", "drill", "watch",
          "speaker", "sofa", "bottle", "blender", "rug", "tent", "keyboard", "monitor", "shelf", "pan")
_BRANDS = [f"Brand {c}" for c in "ABCDEFGHIJKLMNOPQRST"]
_CATEGORIES = ("Home", "Garden", "Kitchen", "Outdoor", "Office", "Audio", "Apparel", "Tools", "Sports", "Toys")
_COLORS = ("red", "green", "blue", "black", "white", "grey", "navy", "olive")


def _description(rng: random.Random, words: tuple[str, ...] = _WORDS) -> str:
    target = rng.randint(50, 300)
    chosen: list[str] = []
    length = 0
    while length < target:
        word = rng.choice(words) if rng.random() < 0.6 else rng.choice(_NOUNS)
        if rng.random() < 0.08:
            word += ","  # quoted commas in some descriptions
        chosen.append(word)
        length += len(word) + 1
    return " ".join(chosen)[:target].strip()


def catalog_rows(rows: int, *, seed: int = 42, price_factor: float = 1.0, bad_every: int = 0,
                 words: tuple[str, ...] = _WORDS) -> Iterator[list[object]]:
    """The generic catalog's data rows (``HEADER`` order)."""
    rng = random.Random(seed)
    for i in range(1, rows + 1):
        base_price = rng.randint(100, 99999) / 100
        price = f"{base_price * price_factor:.2f}"
        if bad_every and i % bad_every == 0:
            price = "-1"
        noun = rng.choice(_NOUNS)
        yield [
            f"SKU-{i:08d}",
            f"{rng.choice(words).title()} {noun} {i}",
            _description(rng, words),
            price,
            "USD" if rng.random() < 0.8 else "EUR",
            rng.randint(0, 5000),
            "true" if rng.random() < 0.9 else "false",
            rng.choice(_BRANDS),
            rng.choice(_CATEGORIES),
            f"{rng.randrange(10**12, 10**13)}",
            rng.choice(_COLORS),
        ]


def write_catalog(path: Path, rows: int, *, seed: int = 42, price_factor: float = 1.0,
                  bad_every: int = 0, encoding: str = "utf-8") -> Path:
    """Write ``rows`` products to ``path``. ``price_factor`` changes every price (update passes);
    ``bad_every`` > 0 makes every n-th row invalid (negative price) to exercise row errors;
    ``encoding="windows-1252"``: accented words in names and descriptions, CRLF line ends (Excel)."""
    cp1252 = encoding.replace("-", "").lower() in ("windows1252", "cp1252")
    words = _WORDS + _ACCENTED if cp1252 else _WORDS
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="cp1252" if cp1252 else "utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\r\n" if cp1252 else "\n")
        writer.writerow(HEADER)
        writer.writerows(catalog_rows(rows, seed=seed, price_factor=price_factor, bad_every=bad_every,
                                      words=words))
    return path


# ---- a Shopify product export -------------------------------------------------------------------------

SHOPIFY_HEADER = [
    "Handle", "Title", "Body (HTML)", "Vendor", "Product Category", "Type", "Tags", "Published",
    "Option1 Name", "Option1 Value", "Option2 Name", "Option2 Value", "Option3 Name", "Option3 Value",
    "Variant SKU", "Variant Grams", "Variant Inventory Tracker", "Variant Inventory Qty",
    "Variant Inventory Policy", "Variant Fulfillment Service", "Variant Price", "Variant Compare At Price",
    "Variant Requires Shipping", "Variant Taxable", "Variant Barcode", "Image Src", "Image Position",
    "Image Alt Text", "Gift Card", "SEO Title", "SEO Description", "Variant Image", "Variant Weight Unit",
    "Variant Tax Code", "Cost per item", "Status",
]
_SIZES = ("XS", "S", "M", "L", "XL")


def write_shopify(path: Path, rows: int, *, seed: int = 7) -> Path:
    """``rows`` lines of a Shopify export: products of 1–4 variants (a one-variant product has
    "Default Title"), the product's fields on its first row only, and an extra image row after a
    quarter of the products (Handle and image columns only: skipped by the profile)."""
    rng = random.Random(seed)
    width = len(SHOPIFY_HEADER)
    col = {name: i for i, name in enumerate(SHOPIFY_HEADER)}
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(SHOPIFY_HEADER)
        written = family = 0
        while written < rows:
            family += 1
            noun = rng.choice(_NOUNS)
            handle_name = f"{rng.choice(_WORDS)}-{noun}-{family}"
            variants = rng.choice((1, 1, 2, 3, 4))
            for v in range(variants):
                if written >= rows:
                    break
                row: list[object] = [""] * width
                row[col["Handle"]] = handle_name
                if v == 0:
                    row[col["Title"]] = f"{rng.choice(_WORDS).title()} {noun} {family}"
                    row[col["Body (HTML)"]] = f"<p>{_description(rng)}</p>"
                    row[col["Vendor"]] = rng.choice(_BRANDS)
                    row[col["Product Category"]] = "Home & Garden > Decor"
                    row[col["Type"]] = rng.choice(_CATEGORIES)
                    row[col["Tags"]] = ", ".join(rng.sample(_WORDS, 3))
                    row[col["Published"]] = "true"
                    row[col["Option1 Name"]] = "Title" if variants == 1 else "Size"
                    row[col["Gift Card"]] = "false"
                    row[col["Status"]] = "active" if rng.random() < 0.9 else "draft"
                    row[col["Image Src"]] = f"https://cdn.example.com/{handle_name}-1.jpg"
                    row[col["Image Position"]] = "1"
                row[col["Option1 Value"]] = "Default Title" if variants == 1 else _SIZES[v]
                row[col["Variant SKU"]] = f"SH-{family:07d}-{v}"
                row[col["Variant Grams"]] = str(rng.randint(50, 5000))
                row[col["Variant Inventory Tracker"]] = "shopify"
                row[col["Variant Inventory Qty"]] = str(rng.randint(0, 500))
                row[col["Variant Inventory Policy"]] = "deny"
                row[col["Variant Fulfillment Service"]] = "manual"
                row[col["Variant Price"]] = f"{rng.randint(100, 99999) / 100:.2f}"
                row[col["Variant Requires Shipping"]] = "true"
                row[col["Variant Taxable"]] = "true"
                row[col["Variant Barcode"]] = str(rng.randrange(10**12, 10**13))
                row[col["Variant Weight Unit"]] = "kg"
                writer.writerow(row)
                written += 1
            if written < rows and rng.random() < 0.25:
                row = [""] * width
                row[col["Handle"]] = handle_name
                row[col["Image Src"]] = f"https://cdn.example.com/{handle_name}-2.jpg"
                row[col["Image Position"]] = "2"
                writer.writerow(row)
                written += 1
    return path


# ---- files for the consumer's memory and the splitter's speed -----------------------------------------

def _html_description(rng: random.Random, chars: int) -> str:
    """About ``chars`` characters of HTML, as a Shopify body: paragraphs, lists, attributes in quotes,
    commas, and line breaks between blocks."""
    parts: list[str] = []
    length = 0
    while length < chars:
        words = " ".join(rng.choice(_WORDS) if rng.random() < 0.6 else rng.choice(_NOUNS) for _ in range(40))
        block = (f'<p class="desc" data-id="{rng.randrange(10**6)}">{words}, {rng.choice(_NOUNS)}.</p>\n'
                 if rng.random() < 0.7 else f'<ul><li>{words}</li><li>size: 27" wide</li></ul>\n')
        parts.append(block)
        length += len(block)
    return "".join(parts)[:chars]


def write_long_descriptions(path: Path, rows: int = 5000, *, chars: int = 60_000, seed: int = 3) -> Path:
    """``rows`` products of the generic header whose descriptions are ``chars`` characters of HTML."""
    rng = random.Random(seed)
    pool = [_html_description(rng, chars - 16) for _ in range(32)]  # 16: room for the row's own prefix
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(HEADER)
        for i in range(1, rows + 1):
            description = f"<h1>{i:010d}</h1>" + pool[i % len(pool)]
            writer.writerow([f"LONG-{i:07d}", f"Long product {i}", description.ljust(chars)[:chars],
                             f"{rng.randint(100, 99999) / 100:.2f}", "USD", rng.randint(0, 500), "true",
                             rng.choice(_BRANDS), rng.choice(_CATEGORIES),
                             str(rng.randrange(10**12, 10**13)), rng.choice(_COLORS)])
    return path


def write_quote_dense(path: Path, rows: int, *, seed: int = 42) -> Path:
    """The generic catalog with every field quoted and a line break inside the description of every
    third row."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n", quoting=csv.QUOTE_ALL)
        writer.writerow(HEADER)
        for i, row in enumerate(catalog_rows(rows, seed=seed)):
            if i % 3 == 0:
                text = str(row[2])
                cut = len(text) // 2
                row[2] = text[:cut] + "\n" + text[cut:]
            writer.writerow(row)
    return path


def grow(base: Path, target: Path, size_bytes: int) -> Path:
    """``target``: ``base``'s header, then whole copies of its data until the file holds ``size_bytes``."""
    with target.open("wb") as out, base.open("rb") as src:
        out.write(src.readline())
        start = src.tell()
        while out.tell() < size_bytes:
            src.seek(start)
            while block := src.read(1 << 24):
                out.write(block)
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description="Generate a deterministic product catalog CSV.")
    parser.add_argument("path", type=Path)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--price-factor", type=float, default=1.0)
    parser.add_argument("--bad-every", type=int, default=0)
    parser.add_argument("--encoding", default="utf-8", help="utf-8 or windows-1252")
    parser.add_argument("--kind", choices=("generic", "shopify", "long", "quote-dense"), default="generic")
    args = parser.parse_args()
    if args.kind == "shopify":
        write_shopify(args.path, args.rows, seed=args.seed)
    elif args.kind == "long":
        write_long_descriptions(args.path, args.rows)
    elif args.kind == "quote-dense":
        write_quote_dense(args.path, args.rows, seed=args.seed)
    else:
        write_catalog(args.path, args.rows, seed=args.seed, price_factor=args.price_factor,
                      bad_every=args.bad_every, encoding=args.encoding)


if __name__ == "__main__":
    main()
