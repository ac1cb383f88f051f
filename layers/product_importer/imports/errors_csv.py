"""``errors.csv``: an import's row errors as a CSV that is safe to open in a spreadsheet, in blocks.

Safe: a cell that a spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@``, tab, CR first) gets a
leading apostrophe. A UTF-8 BOM first, so Excel reads the file as UTF-8. The download's name is the
import's file name with ``-errors.csv``, in a ``Content-Disposition`` that any file name survives
(RFC 6266 with an RFC 5987 ``filename*``: Cyrillic, CJK, emoji, and CR/LF/NUL, which are dropped).
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Iterator
from itertools import chain
from urllib.parse import quote

from product_importer.imports.row_errors import RowError

MEDIA_TYPE = "text/csv; charset=utf-8"
HEADER = ("row", "sku", "column", "message", "value")
BLOCK_BYTES = 64 * 1024
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_RFC5987_SAFE = "!#$&+-.^_`|~"
_FALLBACK_UNSAFE = re.compile(r"[^A-Za-z0-9 ._()+,=@-]+")


def neutralise(cell: object) -> str:
    """A cell a spreadsheet will not execute: formula-like text gets a leading apostrophe."""
    text = "" if cell is None else str(cell)
    return "'" + text if text.startswith(_FORMULA_START) else text


def csv_blocks(errors: Iterable[RowError], *, block_bytes: int = BLOCK_BYTES) -> Iterator[bytes]:
    """The CSV in blocks of about ``block_bytes`` (the first one at once: BOM and header)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADER)
    yield ("\ufeff" + buffer.getvalue()).encode("utf-8")
    buffer.seek(0)
    buffer.truncate()
    for error in errors:
        writer.writerow([error.row, *(neutralise(c) for c in (error.sku, error.column, error.message, error.value))])
        if buffer.tell() >= block_bytes:
            yield buffer.getvalue().encode("utf-8", "replace")
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode("utf-8", "replace")


def take_up_to(blocks: Iterator[bytes], limit: int) -> tuple[list[bytes], Iterator[bytes] | None]:
    """Read ``blocks`` until more than ``limit`` bytes came: (what came, None) if they ended within the
    limit, else (what came, an iterator of everything, those first)."""
    head: list[bytes] = []
    size = 0
    for block in blocks:
        head.append(block)
        size += len(block)
        if size > limit:
            return head, chain(head, blocks)
    return head, None


_SUFFIX = "-errors.csv"
MAX_NAME = 255  # a file name's bytes on common file systems (ext4, APFS: 255; NTFS: 255 UTF-16 units)


def download_name(import_filename: str) -> str:
    """``catalog.csv`` → ``catalog-errors.csv``: any name, its ``.csv``, ``.tsv`` or ``.txt`` taken off whatever
    its case; control and format characters (a right-to-left override that would show ``vsc.exe`` as
    ``exe.csv``) and slashes dropped; cut to fit 255 bytes in UTF-8 (found by a tester: ``b.TxT`` gave
    ``b.TxT-errors.csv``, a 255-character name a 262-character one)."""
    name = "".join(ch for ch in import_filename if unicodedata.category(ch) not in ("Cc", "Cs", "Cf"))
    name = name.replace("/", "_").replace("\\", "_").strip()
    stem = name[:-4] if name[-4:].lower() in (".csv", ".tsv", ".txt") else name
    stem = stem.strip() or "import"
    room = MAX_NAME - len(_SUFFIX)
    while len(stem.encode("utf-8")) > room:
        stem = stem[:-1]
    return f"{stem.rstrip()}{_SUFFIX}"


def content_disposition(filename: str) -> str:
    """``attachment`` with an ASCII ``filename`` for old clients and the exact name in ``filename*``."""
    name = "".join(ch for ch in filename if unicodedata.category(ch) not in ("Cc", "Cs", "Cf")).strip() or "download"
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    ascii_name = _FALLBACK_UNSAFE.sub("_", ascii_name).strip()
    stem, dot, extension = ascii_name.rpartition(".")
    if not dot:
        stem, extension = ascii_name, ""
    stem = stem.strip("_-. ") or "download"
    fallback = f"{stem}.{extension}" if extension else stem
    encoded = quote(name, safe=_RFC5987_SAFE, encoding="utf-8")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"
