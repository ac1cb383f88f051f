"""The few named row rules a profile table can switch on (``ingest.profiles.Profile``), in one place.

They run on a chunk's well-formed records (lists of cells, changed in place) before the column-wise
validation, in this order: undo the exporter's escaping, skip store-view rows, inherit from the family's
first row, skip rows that are no product, name variants after their options, take the parent's name.
A profile that switches none of them costs nothing: ``RowRules.for_plan`` returns None.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Set
from typing import Any, NamedTuple

from product_importer.ingest.encoding import has_undecodable
from product_importer.ingest.plan import FilePlan
from product_importer.ingest.profiles import Profile, fold_name, lookup

# A chunk looks for rows of its own rows found elsewhere in the file (a WooCommerce variation's parent, a
# Shopify family's first row) in the file's first this many bytes (pipeline.consumer bounds its read).
LOOKUP_BYTES = 256 << 20
_LOOKED_UP = f"looked up in the file's first {LOOKUP_BYTES >> 20} MiB"

FORMULA_TRIGGERS = frozenset("=+-@")
PRICED_ROWS_SKIPPED = (
    "rows without a SKU were skipped although they have a price (a platform row without a SKU is no "
    "product): give them a SKU to import them"
)
# What the records before a batch leave for it: {"key": family key, "values": {header name as written: cell}}
# (families) or {"parents": {"sku" or "id:N": [name, stock]}} (parents, within one range).
FamilyContext = Mapping[str, Any]


class Applied(NamedTuple):
    records: list[list[str]]  # the records that are products, changed by the rules
    numbers: list[int]  # their row numbers
    skipped: int  # rows the rules skipped
    warnings: list[str]
    family_tail: dict[str, Any] | None  # the family open at the end, as a family context
    # records the rules fail, as (record, row number, column, message): a variation whose parent is not found
    failed: tuple[tuple[list[str], int, int, str], ...] = ()
    # the parent references (``sku`` lower case, or ``id:N``) of the variations in ``failed``: the caller may
    # look them up elsewhere in the file and apply the rules again with them (``parent_names``)
    missing_parents: frozenset[str] = frozenset()
    # the families (Shopify Handles) of rows that need their family's first row, which the records read do not
    # hold (it is elsewhere in the file): the caller may look them up (``family_values``) and apply the rules
    # again with them as ``{"families": {key: values}}`` in the context
    missing_families: frozenset[str] = frozenset()


def _columns(plan: FilePlan, names: Sequence[str]) -> list[int]:
    first: dict[str, int] = {}
    for i, name in enumerate(plan.names):
        first.setdefault(fold_name(name), i)
    return [first[k] for k in map(fold_name, names) if k in first]


def _column(plan: FilePlan, name: str | None) -> int | None:
    found = _columns(plan, [name]) if name else []
    return found[0] if found else None


class RowRules:
    """A profile's row rules resolved to this file's columns."""

    def __init__(self, plan: FilePlan, profile: Profile) -> None:
        field_index = plan.field_index
        self.unescape = profile.unescape_formulas
        newline_columns = set(_columns(plan, profile.literal_newlines))
        if profile.literal_newlines and "description" in field_index:
            newline_columns.add(field_index["description"])
        self.newline_columns = sorted(newline_columns)
        self.escaped_commas = _columns(plan, profile.escaped_commas)
        self.skip_with = _columns(plan, profile.skip_with)
        self.width = len(plan.names)
        self.family = plan.family_column
        self.inherit = _columns(plan, profile.inherit) if self.family is not None else []
        self.inherit_names = [plan.names[i] for i in self.inherit]
        self.skip_without = field_index.get(profile.skip_without) if profile.skip_without else None
        # (sku column, the column to look at, its values that make a row without a SKU no product)
        unkeyed = _column(plan, profile.skip_unkeyed[0]) if profile.skip_unkeyed else None
        self.skip_unkeyed = (field_index["sku"], unkeyed, frozenset(profile.skip_unkeyed[1])) \
            if profile.skip_unkeyed and unkeyed is not None and "sku" in field_index else None
        self.options = _columns(plan, profile.options)
        self.lone_option = profile.lone_option
        self.name = field_index.get("name")
        self.sku = field_index.get("sku")
        self.price = field_index.get("price")
        self.parent = _column(plan, profile.parent[0]) if profile.parent else None
        self.own_id = _column(plan, profile.parent[1]) if profile.parent else None
        # WooCommerce writes a variation's Stock as "parent" when its parent manages the stock: the parent's
        self.stock = field_index.get("quantity") if profile.parent else None

    @staticmethod
    def for_plan(plan: FilePlan) -> RowRules | None:
        rules = RowRules(plan, lookup(plan.profile))
        return rules if rules.active else None

    @property
    def active(self) -> bool:
        return bool(
            self.unescape or self.newline_columns or self.escaped_commas or self.skip_with or self.inherit
            or self.skip_without is not None or self.skip_unkeyed is not None or self.options
            or self.parent is not None
        )

    def apply(
        self, records: list[list[str]], numbers: Sequence[int], context: FamilyContext | None
    ) -> Applied:
        """Apply the rules to consecutive records (``context``: the family open before the first)."""
        if self.unescape:
            for record in records:
                for i, cell in enumerate(record):
                    if cell[:1] == "'":
                        record[i] = unescape_formula(cell)
        for column in self.newline_columns:
            for record in records:
                if "\\n" in record[column]:
                    record[column] = literal_newlines(record[column])
        for column in self.escaped_commas:
            for record in records:
                if "\\," in record[column]:
                    record[column] = record[column].replace("\\,", ",")
        missing_families: set[str] = set()
        family_tail = self._inherit(records, context, missing_families) if self.inherit else None
        parents = None
        if self.parent is not None and self.name is not None:
            parents = self._parents(records, (context or {}).get("parents"))
            # the next batch of the same range finds these parents too (None: no parent so far)
            family_tail = {"parents": parents} if parents else None

        kept: list[list[str]] = []
        kept_numbers: list[int] = []
        skipped = 0
        warnings: list[str] = []
        failed: list[tuple[list[str], int, int, str]] = []
        missing_parents: set[str] = set()
        for record, number in zip(records, numbers, strict=True):
            if any(record[c].strip() for c in self.skip_with):
                skipped += 1
                continue
            if (self.skip_unkeyed is not None and not record[self.skip_unkeyed[0]].strip()
                    and record[self.skip_unkeyed[1]].strip().lower() in self.skip_unkeyed[2]):
                skipped += 1
                continue
            if self.skip_without is not None and not record[self.skip_without].strip():
                skipped += 1
                if self.price is not None and record[self.price].strip() and not warnings:
                    warnings.append(PRICED_ROWS_SKIPPED)
                continue
            if self.options and self.name is not None:
                self._name_after_options(record)
            if parents is not None and (missing := self._from_parent(record, parents)) is not None:
                failed.append((record, number, *missing))
                missing_parents.add(self._parent_key(record))
                continue
            kept.append(record)
            kept_numbers.append(number)
        return Applied(kept, kept_numbers, skipped, warnings, family_tail, tuple(failed), frozenset(missing_parents),
                       frozenset(missing_families))

    # ---- families (Shopify): a family's rows inherit the empty cells of its first row --------------------

    def _inherit(self, records: list[list[str]], context: FamilyContext | None,
                 missing: set[str]) -> dict[str, Any] | None:
        """Fill the empty inheritable cells of each family's rows from its first row; return the family
        open at the end as a context (the one given, when no record has a family key). ``context`` may also
        give the first rows of families that began elsewhere in the file (``{"families": {key: values}}``);
        ``missing`` gets the families whose first row here has no name: their first row is elsewhere."""
        assert self.family is not None
        firsts: dict[str, list[str]] = {}
        known: Mapping[str, Mapping[str, str]] = (context or {}).get("families") or {}
        for key, values in known.items():
            firsts[key] = [str(values.get(name, "")) for name in self.inherit_names]
        last: str | None = None
        if context and context.get("key"):
            values = context.get("values") or {}
            last = str(context["key"])
            firsts[last] = [str(values.get(name, "")) for name in self.inherit_names]
        family, inherit = self.family, self.inherit
        for record in records:
            key = record[family].strip()
            if not key:
                continue
            last = key
            first = firsts.get(key)
            if first is None:
                firsts[key] = [record[c] for c in inherit]
                if self.name is not None and not record[self.name].strip():
                    missing.add(key)
                continue
            for column, value in zip(inherit, first, strict=True):
                if not record[column].strip():
                    record[column] = value
        if last is None:
            return None
        # Every family this range has seen goes on to its next batch, not only the open one: a family that
        # comes back after another (a sheet sorted by another column) inherits from its first row whatever
        # the read block (at most a chunk's families: the range's own rows)
        families = {key: {name: v for name, v in zip(self.inherit_names, first, strict=True) if v}
                    for key, first in firsts.items()}
        values = families.pop(last)
        return {"key": last, "values": values, **({"families": families} if families else {})}

    def family_values(self, records: list[list[str]], wanted: Set[str]) -> dict[str, dict[str, str]]:
        """The inheritable cells of the first row, among ``records``, of each family ``wanted``."""
        if self.family is None or not wanted:
            return {}
        found: dict[str, dict[str, str]] = {}
        for record in records:
            if len(record) != self.width:
                continue
            key = record[self.family].strip()
            if key in wanted and key not in found and not _rejected(record):
                found[key] = {name: record[c] for name, c in zip(self.inherit_names, self.inherit, strict=True)
                              if record[c]}
        return found

    def family_of(self, record: Sequence[str]) -> str | None:
        """The family a record belongs to, which the splitter keeps in one chunk where it can (None: none).
        Shopify: its Handle. WooCommerce: a variation's parent reference (``id:N`` or the parent's SKU, as
        WooCommerce's exporter writes it), a product's own SKU (else ``id:`` and its ID): a parent and the
        variations that follow it are one family, so a cut never takes a variation away from its parent's
        name (CONTRACT §1 "Platform exports"). A record of the wrong width is a row error, in no family."""
        if len(record) != self.width:
            return None
        if self.family is not None:
            return record[self.family].strip() or None if self.family < len(record) else None
        if self.parent is None or self.parent >= len(record):
            return None
        reference = self._cell(record, self.parent).strip()
        if reference:
            return f"id:{reference[3:].strip()}" if reference[:3].lower() == "id:" else reference.lower()
        if self.sku is not None and self.sku < len(record) and (sku := self._cell(record, self.sku).strip()):
            return sku.lower()
        if self.own_id is not None and self.own_id < len(record) and (own := record[self.own_id].strip()):
            return f"id:{own}"
        return None

    @property
    def has_families(self) -> bool:
        return self.family is not None or (self.parent is not None and self.name is not None)

    def context_of(self, record: Sequence[str]) -> dict[str, Any] | None:
        """What a family's first record leaves to the family's rows in later chunks (None: nothing; a
        record of the wrong width is a row error and no family's first row)."""
        if len(record) != self.width:
            return None
        if self.family is None:  # WooCommerce: the parent's name, for its variations in the next chunk
            if self.parent is None or self.name is None:
                return None
            parents = self._parents([list(map(unescape_formula, record)) if self.unescape else list(record)], None)
            return {"parents": parents} if parents else None
        if self.family >= len(record) or not record[self.family].strip():
            return None
        values = {name: record[c] for name, c in zip(self.inherit_names, self.inherit, strict=True) if record[c]}
        return {"key": record[self.family].strip(), "values": values}

    def _name_after_options(self, record: list[str]) -> None:
        assert self.name is not None
        options = [value for c in self.options if (value := record[c].strip())]
        title = record[self.name].strip()
        if not options or not title or (len(options) == 1 and options[0] == self.lone_option):
            return
        record[self.name] = f"{title} - {' / '.join(options)}"

    # ---- parents (WooCommerce): a variation without a name takes its parent's ----------------------------

    def _parents(self, records: list[list[str]], known: Mapping[str, list[str]] | None) -> dict[str, list[str]]:
        """``[name, stock]`` by ``sku`` (lower case) and by ``id:N``: those of earlier batches, then these
        records' (``records`` as ``apply`` has them: the exporter's escaping undone)."""
        assert self.name is not None
        parents: dict[str, list[str]] = dict(known or {})
        for record in records:
            name = record[self.name].strip()
            if not name:
                continue
            entry = [name, record[self.stock].strip() if self.stock is not None else ""]
            for key in self._own_keys(record):
                parents.setdefault(key, entry)
        return parents

    def _cell(self, record: Sequence[str], column: int) -> str:
        """A cell as ``apply`` reads it: the exporter's escaping undone (``'-P1`` is the SKU ``-P1``)."""
        cell = record[column]
        return unescape_formula(cell) if self.unescape and cell[:1] == "'" else cell

    def _own_keys(self, record: Sequence[str]) -> list[str]:
        """How variations may refer to this row: ``id:N`` by its ID, and its SKU in lower case."""
        keys = []
        if self.own_id is not None and (own := record[self.own_id].strip()):
            keys.append(f"id:{own}")
        if self.sku is not None and (sku := record[self.sku].strip()):
            keys.append(sku.lower())
        return keys

    def parent_names(self, records: list[list[str]], wanted: Set[str] | None) -> dict[str, list[str]]:
        """Of the parents ``wanted`` (keys as in ``Applied.missing_parents``; None: every row that may be a
        parent, one that is no variation), ``[name, stock]`` as ``records`` give them (any records of the
        file, read as a chunk reads them: the exporter's escaping undone)."""
        if self.name is None or self.parent is None or (wanted is not None and not wanted):
            return {}
        found: dict[str, list[str]] = {}
        for raw in records:
            if len(raw) != self.width or not raw[self.name].strip():
                continue
            if wanted is None and raw[self.parent].strip():
                continue
            # keys, name and stock as the rows read them, escaping undone: a variation's Parent "'-P1"
            # (WooCommerce escapes every cell) reads -P1, so its parent's SKU "'-P1" must read -P1 too
            record = list(map(unescape_formula, raw)) if self.unescape else raw
            for key in self._own_keys(record):
                if (wanted is None or key in wanted) and key not in found and not _rejected(raw):
                    found[key] = [record[self.name].strip(),
                                  record[self.stock].strip() if self.stock is not None else ""]
        return found

    def _parent_key(self, record: Sequence[str]) -> str:
        assert self.parent is not None
        reference = record[self.parent].strip()
        return f"id:{reference[3:].strip()}" if reference[:3].lower() == "id:" else reference.lower()

    def _from_parent(self, record: list[str], parents: dict[str, list[str]]) -> tuple[int, str] | None:
        """Give a variation without a name its parent's name, and one whose Stock is ``parent`` (WooCommerce:
        the parent manages its stock) its parent's stock; ``(column, row error)`` when the parent is not found."""
        assert self.name is not None and self.parent is not None
        reference = record[self.parent].strip()
        if not reference:
            return None
        needs_name = not record[self.name].strip()
        needs_stock = self.stock is not None and record[self.stock].strip().lower() == "parent"
        if not needs_name and not needs_stock:
            return None
        entry = parents.get(self._parent_key(record))
        if entry is not None:
            if needs_name:
                record[self.name] = entry[0]
            if needs_stock:
                assert self.stock is not None
                record[self.stock] = entry[1] if entry[1].lower() != "parent" else ""
            return None
        if not needs_name:
            assert self.stock is not None
            return self.stock, (f"quantity is 'parent' (the parent manages this variation's stock), and its parent "
                                f"{reference[:80]!r} is not in the file ({_LOOKED_UP}): write the stock, or import "
                                "the row with its parent's row")
        return self.name, (
            f"name is required: this variation has none, and its parent {reference[:80]!r} is not in the file "
            f"({_LOOKED_UP}; a variation takes its parent's name when the parent's row is in the same file and "
            "the variation refers to it as WooCommerce exports it: by its SKU, or id:N when it has none): give the "
            "row a name, or import it with its parent's row")


def _rejected(record: list[str]) -> bool:
    """A record the consumer fails as a whole (a NUL, bytes that are no text): no family's or parent's row."""
    joined = "".join(record)
    return "\x00" in joined or (not joined.isascii() and has_undecodable(joined))


def unescape_formula(cell: str) -> str:
    """``'=1+1`` → ``=1+1``: the ``'`` an exporter put before a leading ``=``, ``+``, ``-`` or ``@`` removed (as
    WooCommerce's importer does, CONTRACT §1); any other cell as it is."""
    return cell[1:] if cell[:1] == "'" and cell[1:2] in FORMULA_TRIGGERS else cell


def literal_newlines(value: str) -> str:
    r"""WooCommerce's exporter writes line breaks as a literal ``\n`` and a literal ``\n`` as ``\\n``;
    undone as its importer does."""
    return "\\\\n".join(part.replace("\\n", "\n") for part in value.split("\\\\n"))
