"""README's Configuration table names every setting ``Settings`` reads, with its default.

Found checking what AWS gets against the docs: ``UNDO_RETENTION_DAYS`` (CONTRACT §2) and several others were
read by the code but not in the table, and ``ERRORS_CSV_INLINE_MAX_BYTES`` was said to default to 5 MiB where
the code (and CONTRACT §3: "above 5 MB") has 5,000,000.
"""

from __future__ import annotations

import re
from pathlib import Path

from product_importer.settings import Settings

README = Path(__file__).resolve().parents[2] / "README.md"


def _rows() -> list[tuple[list[str], str]]:
    table = README.read_text().split("## Configuration")[1].split("\n## ")[0]
    rows = []
    for line in table.splitlines():
        if line.startswith("| `"):
            cells = line.split("|")
            rows.append((re.findall(r"`([A-Z*][A-Z0-9_*]+)`", cells[1]), cells[2].strip()))
    return rows


def _env_name(field: str) -> str:
    alias = Settings.model_fields[field].validation_alias
    return alias if isinstance(alias, str) else field.upper()


def test_every_setting_is_in_the_readme_table() -> None:
    patterns = [name for names, _ in _rows() for name in names]
    missing = [_env_name(f) for f in Settings.model_fields
               if not any(re.fullmatch(p.replace("*", "[A-Z_]*"), _env_name(f)) for p in patterns)]
    assert missing == []


def test_the_readme_gives_the_codes_defaults() -> None:
    defaults = {names[0]: default for names, default in _rows() if len(names) == 1}
    assert defaults["UNDO_RETENTION_DAYS"] == str(Settings.model_fields["undo_retention_days"].default)
    assert defaults["MAX_RECORD_BYTES"] == "1 MiB" and Settings.model_fields["max_record_bytes"].default == 1024**2
    assert Settings.model_fields["errors_csv_inline_max_bytes"].default == 5_000_000
    inline = next(d for names, d in _rows() if "ERRORS_CSV_INLINE_MAX_BYTES" in names)
    assert inline.startswith("5000000")
