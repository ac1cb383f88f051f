"""What a mapping and the reading overrides may say, checked where a user gives them (the API's 422):
the same targets, profiles and encoding names the header reader (``ingest``) accepts."""

from __future__ import annotations

from typing import Any

from product_importer.ingest.encoding import normalize_encoding
from product_importer.ingest.limits import FIELDS, MAX_HEADER_BYTES, MAX_HEADER_COLUMNS
from product_importer.ingest.plan import TARGETS
from product_importer.ingest.profiles import profile_named

# A mapping or a saved header set names any column a header may have: a name as long as a header line may be
# (CONTRACT §1: a column whose name is longer than an attribute name may is fine once a mapping sends it to a
# field or to ignore, which is what the import's error about such a name advises), all of them together no
# longer than a header line either.
_NAMES_TOTAL = MAX_HEADER_BYTES


def _names_checked(names: list[str], what: str) -> None:
    if any(not name or len(name) > MAX_HEADER_BYTES or "\x00" in name for name in names):
        raise ValueError(f"{what} are header names: non-empty, without NUL, at most {MAX_HEADER_BYTES:,} characters")
    if sum(map(len, names)) > _NAMES_TOTAL:
        raise ValueError(f"{what} are header names: at most {_NAMES_TOTAL:,} characters together, as a header line")


def checked_mapping(value: dict[str, Any]) -> dict[str, str]:
    """``{"<header as written>": field | "attribute" | "ignore"}``: names trimmed, targets lower-case."""
    if len(value) > MAX_HEADER_COLUMNS:
        raise ValueError(f"a mapping names at most {MAX_HEADER_COLUMNS} columns")
    _names_checked([header.strip() for header in value], "mapping keys")
    clean: dict[str, str] = {}
    for header, target in value.items():
        name = header.strip()
        folded = target.strip().lower() if isinstance(target, str) else ""
        if folded not in TARGETS:
            raise ValueError(f"mapping of {name[:60]!r}: {str(target)[:40]!r} is not a field "
                             f"({', '.join(FIELDS)}), 'attribute' or 'ignore'")
        clean[name] = folded
    return clean


def checked_profile(value: str) -> str:
    """A profile name in any case (``Shopify``) → its name; ValueError for an unknown one."""
    return profile_named(value).name


def checked_encoding(value: str) -> str:
    """Any usual spelling (``UTF8``, ``cp1252``) → ``utf-8`` / ``utf-16`` / ``windows-1252``."""
    return normalize_encoding(value)


def checked_headers(value: list[str]) -> list[str]:
    names = [name.strip() for name in value]
    if len(names) > MAX_HEADER_COLUMNS:
        raise ValueError(f"a header has at most {MAX_HEADER_COLUMNS:,} columns")
    _names_checked([name for name in names if name], "headers")
    if not any(names):
        raise ValueError("headers names at least one column")
    return names
