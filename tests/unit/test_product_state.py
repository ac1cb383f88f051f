"""``db.fields.ProductState``: a product's versioned state as Python reads it (the revert's general case)."""

from __future__ import annotations

from product_importer.db.fields import DEFAULTS, GROUPS, OPTIONAL_FIELDS, TOMBSTONE_KEEPS, ProductState


def _row(**values: object) -> dict[str, object]:
    row: dict[str, object] = {"sku": "A", "name": "alpha", "deleted": False, **dict(DEFAULTS), "attributes": {},
                              "version": 5 << 32, "attr_versions": None, "v_attributes": None, "attr_floor": 0}
    row |= {f"v_{g}": None for g in GROUPS}
    row.update(values)
    return row


def test_a_tombstones_kept_columns_read_as_absent():
    # A revert's tombstone keeps brand and category in the row (its update stays HOT); they are not values
    kept = {name: f"kept {name}" for name in TOMBSTONE_KEEPS}

    tombstone = ProductState.from_row(_row(deleted=True, **kept))
    live = ProductState.from_row(_row(**kept))

    assert {name: tombstone.values[name] for name in TOMBSTONE_KEEPS} == {n: DEFAULTS[n] for n in TOMBSTONE_KEEPS}
    assert {name: live.values[name] for name in TOMBSTONE_KEEPS} == kept
    assert set(TOMBSTONE_KEEPS) <= set(OPTIONAL_FIELDS)
