"""Per-field versions of a product (CONTRACT §1, DESIGN decision 3 made exact; docs/changes-and-undo.md).

Every write — an import row, an edit, a delete, a replace's deactivation — carries a version, and sets a
field only where that field's version is older. A product's state is therefore, per field, the value of
the newest write that set it. The columns (migration 0004):

- ``v_<group>``: the version of each field group; NULL means "the row's ``version``" (what the hot path
  writes for the fields a newer row sets, so a full re-import stores no versions at all). The ``name``
  group is sku (display), name and existence (``deleted``): every import row sets all three.
- attributes: ``attr_versions`` (explicit key versions), ``v_attributes`` (the version of keys in
  ``attributes`` without an entry; NULL = ``version``), ``attr_floor`` (keys in neither: the last reset).
- ``version``: the maximum of all of them.

``ProductState`` is the same state with every version explicit, for the paths that work product by
product in Python (edits, the general case of a revert).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

OPTIONAL_FIELDS = ("description", "price", "currency", "quantity", "active", "brand", "category", "barcode")
GROUPS = ("name", *OPTIONAL_FIELDS)  # one version column each: v_name, v_description, …
GROUP_VALUES: dict[str, tuple[str, ...]] = {"name": ("sku", "name", "deleted"), **{f: (f,) for f in OPTIONAL_FIELDS}}
DEFAULTS: dict[str, Any] = {"description": None, "price": None, "currency": "USD", "quantity": 0, "active": True,
                            "brand": None, "category": None, "barcode": None}
VERSION_COLUMNS = tuple(f"v_{g}" for g in GROUPS)
VALUE_COLUMNS = ("sku", "name", *OPTIONAL_FIELDS, "attributes")
# Everything that makes up a product's versioned state (products, preview_products and undo have them all).
STATE_COLUMNS = (*VALUE_COLUMNS, "version", "deleted", *VERSION_COLUMNS, "v_attributes", "attr_versions",
                 "attr_floor")
# Bits of undo_lost.present: the fields a lost row sets.
FIELD_BITS = {name: 1 << i for i, name in enumerate((*GROUPS, "attributes"))}
ROW_SHIFT = 32


def owner(version: int) -> int:
    """The import (or edit) number that wrote a version."""
    return version >> ROW_SHIFT


class _Missing:
    """One instance (copies included): compared with ``is``."""

    def __repr__(self) -> str:
        return "MISSING"

    def __copy__(self) -> _Missing:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> _Missing:
        return self


MISSING: Any = _Missing()  # an attribute key that is absent (removed or never set)


# Columns a tombstone may keep from its live days (CONTRACT §2 Revert: a tombstone is "absent"): the revert's
# tombstones leave them as they were, so the update changes no indexed column and stays a HOT update (the
# brand and category indexes; ~30% of an insert import's revert). Every reader of a product's old state
# reads them as their defaults when the product is deleted (``ProductState.from_row``, chunk_sql's old state).
TOMBSTONE_KEEPS = ("brand", "category")


@dataclass
class ProductState:
    """One product with explicit per-field versions."""

    values: dict[str, Any]  # sku, name, deleted and OPTIONAL_FIELDS
    versions: dict[str, int]  # per group
    attrs: dict[str, tuple[Any, int]] = field(default_factory=dict)  # key -> (value or MISSING, version)
    attr_floor: int = 0

    @classmethod
    def absent(cls, floor: int = 0) -> ProductState:
        """A product that never existed (or was deleted at ``floor``)."""
        values = {"sku": "", "name": "", "deleted": True, **DEFAULTS}
        return cls(values, dict.fromkeys(GROUPS, floor), {}, floor)

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> ProductState:
        """From a products / preview_products / undo row (a dict with STATE_COLUMNS)."""
        version = int(row["version"])
        values = {name: row[name] for name in ("sku", "name", "deleted", *OPTIONAL_FIELDS)}
        if row["deleted"]:  # a tombstone's kept columns read as absent (TOMBSTONE_KEEPS)
            values |= {name: DEFAULTS[name] for name in TOMBSTONE_KEEPS}
        versions = {g: int(row[f"v_{g}"]) if row[f"v_{g}"] is not None else version for g in GROUPS}
        explicit = row["attr_versions"] or {}
        default = int(row["v_attributes"]) if row["v_attributes"] is not None else version
        attrs: dict[str, tuple[Any, int]] = {k: (v, int(explicit.get(k, default))) for k, v in
                                             (row["attributes"] or {}).items()}
        for k, v in explicit.items():
            if k not in attrs:
                attrs[k] = (MISSING, int(v))
        return cls(values, versions, attrs, int(row["attr_floor"] or 0))

    def key_version(self, key: str) -> int:
        return self.attrs[key][1] if key in self.attrs else self.attr_floor

    def key_write(self, key: str) -> tuple[Any, int, bool]:
        """What this state says of the newest write of ``key``: (value or MISSING, version, listed).

        ``listed`` is False when the key is in neither ``attributes`` nor ``attr_versions``: only the last
        reset (``attr_floor``) speaks for it, as "absent". A PUT's keys share its reset's version
        (``v_attributes = attr_floor``), and a state whose key a newer write took no longer lists what the
        reset did to it: at one version, a listed key is the better word (the revert compares by
        ``(version, listed)``)."""
        if key in self.attrs:
            value, version = self.attrs[key]
            return value, version, True
        return MISSING, self.attr_floor, False

    @property
    def version(self) -> int:
        return max([*self.versions.values(), self.attr_floor, *(v for _, v in self.attrs.values())])

    @property
    def attributes(self) -> dict[str, Any]:
        return {k: v for k, (v, _) in self.attrs.items() if v is not MISSING}

    def visible(self) -> dict[str, Any] | None:
        """What a reader sees (None for a tombstone)."""
        if self.values["deleted"]:
            return None
        return {**{k: v for k, v in self.values.items() if k != "deleted"}, "attributes": self.attributes}

    def columns(self) -> dict[str, Any]:
        """STATE_COLUMNS with every version explicit (a valid encoding of the same state; attribute keys that
        share one version have it in ``v_attributes``)."""
        out: dict[str, Any] = {name: self.values[name] for name in ("sku", "name", "deleted", *OPTIONAL_FIELDS)}
        out["attributes"] = self.attributes
        out["version"] = self.version
        for g in GROUPS:
            out[f"v_{g}"] = self.versions[g]
        key_versions = {k: v for k, (_, v) in self.attrs.items()}
        shared = set(key_versions.values())
        if len(shared) == 1 and all(value is not MISSING for value, _ in self.attrs.values()):
            # every key present at one version: the compact encoding the bulk paths (a fast chunk, a
            # revert's snapshot) can take, instead of one explicit version per key
            out["v_attributes"], out["attr_versions"] = shared.pop(), None
        else:
            out["v_attributes"] = None
            out["attr_versions"] = key_versions or None
        out["attr_floor"] = self.attr_floor
        return out

    # -- writes ------------------------------------------------------------------------------------

    def set_group(self, group: str, values: dict[str, Any], version: int) -> bool:
        """Set a field group where the write is newer; True if it took effect."""
        if self.versions[group] >= version:
            return False
        for name in GROUP_VALUES[group]:
            if name in values:
                self.values[name] = values[name]
        self.versions[group] = version
        return True

    def set_key(self, key: str, value: Any, version: int) -> bool:
        if self.key_version(key) >= version:
            return False
        self.attrs[key] = (value, version)
        return True

    def reset_attributes(self, version: int, values: dict[str, Any] | None = None) -> bool:
        """The attributes become exactly ``values`` as of ``version`` (a PUT; a delete: none): keys written
        by newer versions stay. True if anything took effect."""
        values = values or {}
        took = self.attr_floor < version
        kept = {k: (v, ver) for k, (v, ver) in self.attrs.items() if ver > version}
        for key, value in values.items():
            if key not in kept:
                kept[key] = (value, version)
                took = True
        self.attrs = kept
        self.attr_floor = max(self.attr_floor, version)
        return took


def default_group_values(group: str) -> dict[str, Any]:
    if group == "name":
        return {"deleted": True}
    return {group: DEFAULTS[group]}
