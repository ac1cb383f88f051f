"""What a mapping and the reading overrides may say, checked where a user gives them (the API's 422):
the same targets, profiles and encoding names the header reader (``ingest``) accepts."""

from __future__ import annotations

from typing import Any

from product_importer.ingest.encoding import normalize_encoding
from product_importer.ingest.limits import FIELDS, MAX_ATTRIBUTE_NAME, MAX_HEADER_COLUMNS
from product_importer.ingest.plan import TARGETS
from product_importer.ingest.profiles import profile_named


def checked_mapping(value: dict[str, Any]) -> dict[str, str]:
    """``{"<header as written>": field | "attribute" | "ignore"}``: names trimmed, targets lower-case."""
    if len(value) > MAX_HEADER_COLUMNS:
        raise ValueError(f"a mapping names at most {MAX_HEADER_COLUMNS} columns")
    clean: dict[str, str] = {}
    for header, target in value.items():
        name = header.strip()
        if not name or len(name) > MAX_ATTRIBUTE_NAME or "\x00" in name:
            raise ValueError(f"mapping keys are header names of 1–{MAX_ATTRIBUTE_NAME} characters")
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
    if any(len(name) > MAX_ATTRIBUTE_NAME or "\x00" in name for name in names):
        raise ValueError(f"header names are at most {MAX_ATTRIBUTE_NAME} characters, without NUL")
    if not any(names):
        raise ValueError("headers names at least one column")
    return names
