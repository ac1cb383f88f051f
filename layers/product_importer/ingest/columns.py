"""From header names to a target per column (CONTRACT §1): mapping > profile > exact name > alias > leftmost.

1. Columns without a name are ignored; of two columns with the same name the leftmost is used and the
   others are ignored (with a warning).
2. A mapping ``{"<header as written>": field | "attribute" | "ignore"}`` decides its columns first; of
   several columns it sends to one field, the profile's choice wins (its per-row pair stays a pair), else
   the column named exactly like the field, else the leftmost.
3. The profile's table picks the column of each field it names (first present) and keeps the columns it
   reserves as attributes; ``per_row`` fields take several columns, tried per row.
4. Fields still without a column: the column named exactly like the field, else the leftmost alias.
5. Every other named column is an attribute.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from product_importer.ingest.errors import InvalidMappingError
from product_importer.ingest.limits import FIELDS
from product_importer.ingest.plan import ATTRIBUTE, IGNORE, TARGETS
from product_importer.ingest.profiles import Profile, field_named, fold_name

_SHOWN_NAME = 60  # characters of a header name quoted in a message


@dataclass(frozen=True)
class ColumnPlan:
    targets: tuple[str, ...]
    fallbacks: tuple[tuple[str, tuple[int, ...]], ...]
    family_column: int | None
    warnings: tuple[str, ...]


def shown(name: str) -> str:
    """A header name as a message quotes it: in quotes, cut to 60 characters."""
    return '"' + (name if len(name) <= _SHOWN_NAME else name[: _SHOWN_NAME - 1] + "…") + '"'


def mapping_problems(mapping: Mapping[str, Any]) -> list[str]:
    """Why a mapping cannot be used, for the API's 422 (empty when it is fine)."""
    problems = []
    for header, target in mapping.items():
        if not isinstance(header, str) or not header.strip():
            problems.append("mapping keys are header names (non-empty text)")
        elif not isinstance(target, str) or target.strip().lower() not in TARGETS:
            problems.append(
                f"mapping of {shown(header)}: {str(target)[:40]!r} is not a field, 'attribute' or 'ignore'"
            )
    return problems


def plan_columns(names: tuple[str, ...], profile: Profile, mapping: Mapping[str, Any] | None) -> ColumnPlan:
    folded = [fold_name(name) for name in names]
    targets: list[str | None] = [None] * len(names)
    warnings: list[str] = []

    # A name of template markers or separators only ("#", a row-number column; "-") folds to nothing but is
    # still a name: its column is kept as an attribute under it (CONTRACT §1), its copies compared as written.
    # Only a column without a name is ignored.
    keys = [key or name.strip().lower() for key, name in zip(folded, names, strict=True)]
    first_of: dict[str, int] = {}
    for i, key in enumerate(keys):
        if not key or key in first_of:
            targets[i] = IGNORE
        else:
            first_of[key] = i
    for key, first in first_of.items():
        copies = [i for i, k in enumerate(keys) if k == key]
        if len(copies) > 1:
            listed = ", ".join(str(i + 1) for i in copies)
            warnings.append(
                f"the column {shown(names[first])} appears {len(copies)} times (columns {listed}): "
                "the leftmost is read, the others are ignored"
            )

    assigned: dict[str, int] = {}  # field -> column
    fallbacks: list[tuple[str, tuple[int, ...]]] = []
    if mapping:
        _apply_mapping(names, folded, first_of, mapping, profile, targets, assigned, fallbacks, warnings)

    for field_name, spellings in profile.per_row.items():
        if field_name in assigned:
            continue
        present = [first_of[k] for k in map(fold_name, spellings) if k in first_of and targets[first_of[k]] is None]
        if present:
            targets[present[0]] = field_name
            assigned[field_name] = present[0]
            kept = {first_of[k] for k in map(fold_name, profile.per_row_attributes) if k in first_of}
            for other in present[1:]:
                targets[other] = ATTRIBUTE if other in kept else IGNORE
            if len(present) > 1:
                fallbacks.append((field_name, tuple(present)))
    for field_name, spellings in profile.columns.items():
        if field_name in assigned:
            continue
        for key in map(fold_name, spellings):
            column = first_of.get(key)
            if column is not None and targets[column] is None:
                targets[column] = field_name
                assigned[field_name] = column
                break
    for key in map(fold_name, profile.attributes):
        column = first_of.get(key)
        if column is not None and targets[column] is None:
            targets[column] = ATTRIBUTE

    candidates: dict[str, list[int]] = {}
    for i, key in enumerate(folded):
        canonical = field_named(key)
        if targets[i] is None and canonical is not None and canonical not in assigned:
            candidates.setdefault(canonical, []).append(i)
    for field_name in FIELDS:
        found = candidates.get(field_name)
        if found:
            exact = [i for i in found if folded[i] == field_name]
            targets[(exact or found)[0]] = field_name
            assigned[field_name] = (exact or found)[0]

    final = tuple(ATTRIBUTE if t is None else t for t in targets)
    family_column = next((first_of[k] for k in map(fold_name, profile.family) if k in first_of), None)
    return ColumnPlan(final, tuple(fallbacks), family_column, tuple(warnings))


def _apply_mapping(
    names: tuple[str, ...],
    folded: list[str],
    first_of: dict[str, int],
    mapping: Mapping[str, Any],
    profile: Profile,
    targets: list[str | None],
    assigned: dict[str, int],
    fallbacks: list[tuple[str, tuple[int, ...]]],
    warnings: list[str],
) -> None:
    problems = mapping_problems(mapping)
    if problems:
        raise InvalidMappingError("; ".join(problems[:5]))
    by_written: dict[str, int] = {}
    for i, name in enumerate(names):
        by_written.setdefault(name, i)
    chosen: list[tuple[int, str, str]] = []
    for header, target in mapping.items():
        column = by_written.get(header.strip())
        if column is None:
            column = first_of.get(fold_name(header))
        if column is None:
            warnings.append(f"the mapping names {shown(header)}, which the file's header does not have")
            continue
        chosen.append((column, header, target.strip().lower()))
    by_field: dict[str, list[int]] = {}
    for column, _header, target in sorted(chosen):
        targets[column] = target
        if target in FIELDS:
            by_field.setdefault(target, []).append(column)
    for field_name, columns in by_field.items():
        # Several columns mapped to one field: the profile's choice, else the column named exactly like the
        # field, else the leftmost (CONTRACT §1); a profile's per-row pair (Shopify: Status, else Published)
        # stays a per-row pair.
        per_row = _ranked(columns, folded, profile.per_row.get(field_name, ()))
        if len(per_row) > 1:
            winner = per_row[0]
            fallbacks.append((field_name, tuple(per_row)))
            # as without a mapping: the pair's other columns the profile keeps stay attributes (Shopify's
            # Product Category behind Type), the rest are only the field's fallback
            kept = {first_of[k] for k in map(fold_name, profile.per_row_attributes) if k in first_of}
            for other in per_row[1:]:
                targets[other] = ATTRIBUTE if other in kept else IGNORE
        else:
            ranked = _ranked(columns, folded, profile.columns.get(field_name, ()))
            exact = [c for c in columns if folded[c] == field_name]
            winner = (ranked or exact or columns)[0]
        assigned[field_name] = winner
        for other in columns:
            if other != winner and targets[other] == field_name:
                warnings.append(
                    f"the mapping sends {shown(names[other])} to {field_name}, which column {winner + 1} "
                    "feeds: it is kept as an attribute"
                )
                targets[other] = ATTRIBUTE


def _ranked(columns: list[int], folded: list[str], spellings: tuple[str, ...]) -> list[int]:
    """``columns`` whose names are among ``spellings``, in the order of ``spellings``."""
    order = {fold_name(name): rank for rank, name in enumerate(spellings)}
    return sorted((c for c in columns if folded[c] in order), key=lambda c: order[folded[c]])
