"""Which header names most likely meant a field the header lacks (the "missing sku" message, suggest)."""

from __future__ import annotations

from collections.abc import Iterable

from rapidfuzz import fuzz

from product_importer.ingest.profiles import ALIASES, fold_name

MIN_SCORE = 70.0
MAX_CANDIDATES = 3


def likeliest_columns(field: str, names: Iterable[str]) -> list[str]:
    """Up to three header names (as written) that look most like ``field`` or one of its aliases."""
    spellings = (field, *ALIASES[field])
    scored = []
    for position, name in enumerate(names):
        key = fold_name(name)
        if not key:
            continue
        score = max(fuzz.WRatio(key, spelling) for spelling in spellings)
        if score >= MIN_SCORE:
            scored.append((-score, position, name))
    scored.sort()
    return [name for _, _, name in scored[:MAX_CANDIDATES]]
