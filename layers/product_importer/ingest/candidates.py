"""Which header names most likely meant a field the header lacks (the "missing sku" message, suggest)."""

from __future__ import annotations

from collections.abc import Iterable

from rapidfuzz import fuzz

from product_importer.ingest.profiles import ALIASES, fold_name

MIN_SCORE = 70.0
MAX_CANDIDATES = 3


def likeliest_columns(field: str, names: Iterable[str], *, rivals: Iterable[str] = ()) -> list[str]:
    """Up to three header names (as written) that look most like ``field`` or one of its aliases (a
    rapidfuzz ``WRatio`` of at least ``MIN_SCORE``). A name that looks more like one of ``rivals`` (the
    other fields the header lacks) is left to that field, so one column is not offered for two."""
    others = tuple(rivals)
    scored = []
    for position, name in enumerate(names):
        key = fold_name(name)
        if not key:
            continue
        score = _score(key, field)
        if score >= MIN_SCORE and all(score >= _score(key, other) for other in others if other != field):
            scored.append((-score, position, name))
    scored.sort()
    return [name for _, _, name in scored[:MAX_CANDIDATES]]


# Words that say what a column holds, in the languages catalogs come in: a suggestion only (the aliases of
# CONTRACT §1 decide what maps by itself). "Item Code" scored 63 for sku and 68 for name by spelling alone.
HINT_SCORE = 85.0
_HINTS = {
    "sku": frozenset({"sku", "code", "id", "ref", "reference", "number", "no", "nr", "num", "artikelnummer",
                      "artikelnr", "artnr", "referenz", "référence", "codigo", "código", "codice", "mpn", "artikel"}),
    "name": frozenset({"name", "title", "titel", "bezeichnung", "produktname", "artikelname", "nom", "désignation",
                       "designation", "libellé", "libelle", "nombre", "nome", "naam", "titre", "titolo", "label"}),
}
# Words that qualify a column without saying what it holds: compared without them, "Product Description"
# no longer looks like "product sku" (it outscored "Product ID" for sku by the shared word alone).
_QUALIFIERS = frozenset({"product", "products", "item", "variant", "article", "produkt"})


def _essential(text: str) -> str:
    words = [w for w in text.split() if w not in _QUALIFIERS]
    return " ".join(words) if words else text


def _score(key: str, field: str) -> float:
    # WRatio scores a short name by partial matches ("bar" in "article number": 72); below four characters
    # only the whole name compares.
    core = _essential(key)
    scorer = fuzz.WRatio if len(core) >= 4 else fuzz.ratio
    spelled = max(scorer(core, _essential(spelling)) for spelling in (field, *ALIASES[field]))
    hinted = HINT_SCORE if _HINTS.get(field, frozenset()) & set(key.split()) else 0.0
    return max(spelled, hinted)
