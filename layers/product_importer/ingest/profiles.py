"""How each kind of file is read: the generic aliases and the platform profiles (CONTRACT §1), as data.

A profile is a ``Profile`` table: which header names recognise the export, which column feeds each
field, which columns stay attributes, the value words it adds, and which of the few named row rules
apply (skip rows, families that inherit from their first row, variant names from options, parents,
undoing an exporter's escaping). The rules themselves are implemented once, in ``ingest.rules``; a
fourth platform is one more table in ``PROFILES``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from product_importer.ingest.errors import UnknownProfileError
from product_importer.ingest.limits import FIELDS

_SEPARATORS = re.compile(r"[\s_\-]+")
_MARKERS = re.compile(r"^[\s*]+|[\s*#]+$")  # template markers: "Name *", "Reference #", eBay's "*Title"
_INVISIBLE_CHARS = "\ufeff\u200b\u200c\u200d\u2060"
_INVISIBLE = str.maketrans("", "", _INVISIBLE_CHARS)
_AROUND = re.compile(rf"^[\s{_INVISIBLE_CHARS}]+|[\s{_INVISIBLE_CHARS}]+$")


def trim_name(name: str) -> str:
    """A header name as written, trimmed (CONTRACT §1): without the spaces (non-breaking ones too) and the
    invisible characters (zero-width spaces and joiners, a byte order mark) around it, which a name copied
    from a web page or a second file pasted below the first brings along."""
    return _AROUND.sub("", name)


def fold_name(name: str) -> str:
    """The comparison form of a header name (CONTRACT §1): trimmed (non-breaking spaces too), lower
    case, runs of space, ``_`` and ``-`` as one space, without a ``*`` or ``#`` marker at the end (or a ``*``
    at the start: eBay's File Exchange writes required columns as ``*Title``)."""
    folded = name.translate(_INVISIBLE).strip().lower()
    folded = _MARKERS.sub("", folded)
    return _SEPARATORS.sub(" ", folded).strip()


# ---- the generic rules: a field's own name and its aliases ---------------------------------------------

ALIASES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "sku": (
            "product sku",
            "item sku",
            "product code",
            "variant sku",
            "reference",
            "ref",
            "item number",
            "article number",
            "part number",
        ),
        "name": ("title", "product name", "product title", "item name"),
        "description": ("body", "body html", "body (html)", "long description"),
        "price": ("unit price", "variant price", "regular price"),
        "currency": ("currency code",),  # Etsy's CURRENCY_CODE
        "quantity": ("qty", "stock", "inventory", "inventory quantity", "variant inventory qty"),
        "active": ("enabled", "published", "status"),
        "brand": ("vendor", "brands"),
        "category": ("product type", "categories"),
        "barcode": ("gtin", "upc", "ean", "isbn", "variant barcode"),
    }
)

# folded name -> canonical field; a field's own name is an alias of itself.
FIELD_BY_NAME: Mapping[str, str] = MappingProxyType(
    {fold_name(alias): canonical for canonical, aliases in ALIASES.items() for alias in (canonical, *aliases)}
)
assert set(ALIASES) == set(FIELDS)


def field_named(folded: str) -> str | None:
    """The field a folded header name is an alias of; a name of alternatives that all name one field
    (BigCommerce's ``Product Code/SKU``) is that field. None: an attribute."""
    found = FIELD_BY_NAME.get(folded)
    if found is None and "/" in folded:
        fields = {FIELD_BY_NAME.get(part.strip()) for part in folded.split("/")}
        if len(fields) == 1:
            found = fields.pop()
    return found

# The words ``active`` understands in every file (any case, trimmed); a profile may add its own.
ACTIVE_WORDS: Mapping[str, bool] = MappingProxyType(
    {
        "": True,
        "true": True,
        "1": True,
        "yes": True,
        "y": True,
        "false": False,
        "0": False,
        "no": False,
        "n": False,
        "active": True,  # the ``status`` column of Shopify and others
        "draft": False,
        "archived": False,
        "inactive": False,  # Amazon's listings report, and others' status columns
        "enabled": True,  # Magento's admin grid and others
        "disabled": False,
    }
)

# What a spreadsheet writes for TRUE and FALSE (and yes / no) in other languages: Excel writes the
# locale's words into a CSV (German WAHR/FALSCH, French VRAI/FAUX, …). Read in every file, any case.
SPREADSHEET_WORDS: Mapping[str, bool] = MappingProxyType(
    {
        "wahr": True, "falsch": False, "ja": True, "nein": False,  # German
        "vrai": True, "faux": False, "oui": True, "non": False,  # French
        "verdadero": True, "verdadeiro": True, "falso": False, "sí": True, "si": True, "sim": True,
        "não": False, "nao": False,  # Spanish, Portuguese, Italian (falso)
        "vero": True,  # Italian
        "waar": True, "onwaar": False,  # Dutch
        "sant": True, "falskt": False, "sand": True, "falsk": False, "sann": True, "usann": False,  # Nordic
        "tosi": True, "epätosi": False,  # Finnish
        "prawda": True, "fałsz": False,  # Polish
        "pravda": True, "nepravda": False,  # Czech
        "doğru": True, "yanliş": False, "yanlış": False,  # Turkish
        "истина": True, "ложь": False,  # Russian
    }
)
assert not set(SPREADSHEET_WORDS) & set(ACTIVE_WORDS)


@dataclass(frozen=True)
class Profile:
    """One way of reading a file. Column names are compared folded (``fold_name``)."""

    name: str
    signature: tuple[str, ...] = ()  # all of these header names: the file is this platform's export
    other_signatures: tuple[tuple[str, ...], ...] = ()  # ... or all of one of these (another version of it)
    columns: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # field -> columns, first present wins
    per_row: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # field -> columns, first non-empty
    per_row_attributes: tuple[str, ...] = ()  # per_row columns after the first kept as attributes too (else ignored)
    attributes: tuple[str, ...] = ()  # columns kept as attributes even where an alias would match
    active_words: Mapping[str, bool] = field(default_factory=dict)  # added to ACTIVE_WORDS
    # The named row rules (ingest.rules), each off unless the table sets it:
    skip_without: str | None = None  # a row whose cell of this field is empty is no product: skipped
    skip_with: tuple[str, ...] = ()  # a row with a non-empty cell in one of these columns: skipped
    # (column, values): a row without a SKU whose cell there is one of these is no product: skipped
    skip_unkeyed: tuple[str, tuple[str, ...]] | None = None
    family: tuple[str, ...] = ()  # rows with the same value in the first of these present are one family ...
    inherit: tuple[str, ...] = ()  # ... whose empty cells in these columns take the family's first row's
    options: tuple[str, ...] = ()  # option value columns: name becomes "<name> - <values joined by ' / '>"
    lone_option: str | None = None  # ... unless the only option value is this one
    parent: tuple[str, str] | None = None  # (parent column, id column): an empty name takes the parent's
    unescape_formulas: bool = False  # "'=…", "'+…", "'-…", "'@…": the exporter's apostrophe removed
    decimal_comma: bool = False  # a ',' in a price or quantity is a decimal point, whatever the delimiter
    escaped_commas: tuple[str, ...] = ()  # columns where the exporter wrote a ',' in a term name as "\,"
    literal_newlines: tuple[str, ...] = ()  # columns (and the description) where a literal \n is a line break

    @property
    def folded_signatures(self) -> list[frozenset[str]]:
        return [frozenset(map(fold_name, names)) for names in (self.signature, *self.other_signatures) if names]


GENERIC = Profile("generic")

# Shopify's product CSV, in both of its formats: the one with "Handle" and "Variant …" columns, and the
# one its admin exports since 2025 ("URL handle", "SKU", "Price", "Inventory quantity", "Description",
# "Published on online store"; help.shopify.com/manual/products/import-export/using-csv).
SHOPIFY = Profile(
    "shopify",
    signature=("Handle", "Title", "Variant SKU"),
    other_signatures=(("URL handle", "Title", "SKU", "Option1 value"),),
    columns={
        "sku": ("Variant SKU", "SKU"),
        "name": ("Title",),
        "description": ("Body (HTML)", "Description"),
        "brand": ("Vendor",),
        "price": ("Variant Price", "Price"),
        "quantity": ("Variant Inventory Qty", "Inventory quantity"),
        "barcode": ("Variant Barcode", "Barcode"),
    },
    # Status wins: draft and archived are inactive. Type, or on a row whose Type is empty, Product Category (the
    # standard taxonomy, which many shops fill instead of their own Type); Product Category stays an attribute too.
    per_row={"active": ("Status", "Published", "Published on online store"), "category": ("Type", "Product Category")},
    per_row_attributes=("Product Category",),
    attributes=("Product Category",),
    active_words={"unlisted": True},  # live, reachable by its link only (a status since 2025)
    skip_without="sku",  # extra images, option-only rows
    family=("Handle", "URL handle"),
    inherit=("Title", "Body (HTML)", "Description", "Vendor", "Type", "Product Category", "Published",
             "Published on online store", "Status"),
    options=("Option1 Value", "Option2 Value", "Option3 Value"),
    lone_option="Default Title",
)

WOOCOMMERCE = Profile(
    "woocommerce",
    signature=("ID", "Type", "SKU", "Regular price"),
    columns={
        "sku": ("SKU",),
        "name": ("Name",),
        "description": ("Description",),
        "price": ("Regular price",),
        "category": ("Categories",),
        "brand": ("Brands",),
        "barcode": ("GTIN, UPC, EAN, or ISBN",),
        "quantity": ("Stock",),
        "active": ("Published",),
    },
    attributes=("Type", "Sale price", "Parent", "ID"),
    # 1 published, 0 private, -1 draft, 2 pending review (WC_Product_CSV_Exporter::get_column_value_published)
    active_words={"-1": False, "2": False},
    parent=("Parent", "ID"),
    unescape_formulas=True,
    # The exporter writes prices with the shop's decimal separator (wc_format_localized_price: "49,90" in a
    # German shop, never a thousands separator), and its importer reads them back (wc_format_decimal).
    decimal_comma=True,
    # Term lists: a comma inside a term's name is written "\," (its importer splits at the other commas)
    escaped_commas=("Categories", "Brands", "Tags"),
    # A variable (or grouped) product without a SKU is only its variations' parent: their rows are the
    # products, and they take its name.
    skip_unkeyed=("Type", ("variable", "grouped")),
    literal_newlines=("Description", "Short description"),
)

MAGENTO = Profile(
    "magento",
    signature=("sku", "store_view_code", "product_type"),
    columns={
        "sku": ("sku",),
        "name": ("name",),
        "description": ("description",),
        "price": ("price",),
        "category": ("categories",),
        "quantity": ("qty",),
        "active": ("product_online",),
    },
    attributes=("product_type", "store_view_code"),
    active_words={"2": False},  # 1 enabled, 2 disabled
    skip_with=("store_view_code",),  # store-view overrides never overwrite the default row
)

PROFILES: Mapping[str, Profile] = MappingProxyType(
    {p.name: p for p in (GENERIC, SHOPIFY, WOOCOMMERCE, MAGENTO)}
)


def profile_named(name: str) -> Profile:
    try:
        return PROFILES[name.strip().lower()]
    except KeyError:
        raise UnknownProfileError(f"unknown profile {name[:40]!r}: use one of {', '.join(PROFILES)}") from None


def lookup(name: str) -> Profile:
    """The profile a plan names (generic for a name no longer known)."""
    return PROFILES.get(name, GENERIC)


def recognise(names: tuple[str, ...] | list[str]) -> Profile:
    """The platform whose export this header is (all of its signature names present), else generic."""
    folded = set(map(fold_name, names))
    for profile in PROFILES.values():
        if any(signature <= folded for signature in profile.folded_signatures):
            return profile
    return GENERIC


def active_words(profile: Profile) -> dict[str, Any]:
    return {**ACTIVE_WORDS, **SPREADSHEET_WORDS, **profile.active_words}
