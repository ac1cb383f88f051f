"""Reading a file's first bytes into its ``FilePlan`` (CONTRACT §1): ``sniff``.

Encoding (``ingest.encoding``), the optional ``sep=X`` line, the header record (quotes and quoted line
breaks allowed; at most 1,024 columns and 64 KiB), its delimiter, the header names, the profile, the
mapping in effect and the column plan (``ingest.columns``). Whatever makes the file unusable raises a
``HeaderError`` subclass with a message for the user. See ``ingest.plan`` for the seam with the byte level.
"""

from __future__ import annotations

import csv
import io
import re
import shlex
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any, BinaryIO

from product_importer.ingest.candidates import likeliest_columns
from product_importer.ingest.columns import plan_columns, shown
from product_importer.ingest.encoding import (
    CP1252,
    UTF16,
    decode_cp1252,
    detect_encoding,
    utf16_head_to_utf8,
)
from product_importer.ingest.errors import (
    EmptyFileError,
    HeaderEncodingError,
    HeaderError,
    HeaderNameTooLongError,
    HeaderNulError,
    HeaderTooLargeError,
    InvalidMappingError,
    MissingColumnsError,
    NotTextError,
    UnknownEncodingError,
    UnknownProfileError,
)
from product_importer.ingest.limits import (
    FIELDS,
    MAX_ATTRIBUTE_NAME,
    MAX_HEADER_BYTES,
    MAX_HEADER_COLUMNS,
    REQUIRED_FIELDS,
)
from product_importer.ingest.plan import ATTRIBUTE, SNIFF_BYTES, FilePlan
from product_importer.ingest.profiles import (
    Profile,
    field_named,
    fold_name,
    profile_named,
    recognise,
    trim_name,
)

__all__ = [
    "FIELDS",
    "MAX_HEADER_BYTES",
    "EmptyFileError",
    "HeaderEncodingError",
    "HeaderError",
    "HeaderNameTooLongError",
    "HeaderNulError",
    "HeaderTooLargeError",
    "InvalidMappingError",
    "MissingColumnsError",
    "UnknownEncodingError",
    "UnknownProfileError",
    "detect_delimiter",
    "read_header",
    "resolve_header",
    "sniff",
]

_QUOTE = 0x22
_CR = 0x0D
_LF = 0x0A
_SPECIAL = re.compile(rb'["\r\n]')
_BLANK_LINES = re.compile(rb"(?:\r\n|\r|\n)*")
# Excel's hint: "sep=X" alone on the first line (a spreadsheet may write it back quoted, with delimiters)
_SEP_LINE = re.compile(rb'"?sep=([^"\r\n])"?[^\S\r\n]*(?:\1[^\S\r\n]*)*(?:\r\n|\r|\n|$)', re.IGNORECASE)
_QUOTED_PART = re.compile(r'"[^"]*"')  # what the delimiter count ignores ("" inside is two such parts)
_SHOWN_HEADERS = 15


def sniff(
    head: bytes,
    *,
    encoding: str | None = None,
    profile: str | None = None,
    mapping: Mapping[str, Any] | None = None,
    saved_mappings: Iterable[Mapping[str, Any]] = (),
    drop_key: str | None = None,
    file_size: int | None = None,
) -> FilePlan:
    """Read a file's first bytes (up to ``SNIFF_BYTES``) into its plan.

    ``encoding``/``profile``/``mapping``: the import's overrides. ``saved_mappings``: candidates
    ``{"id", "mapping", "profile"?, "headers"?, "prefix"?}``; without a ``mapping``, the one whose
    header set equals the file's applies to an upload, the longest ``prefix`` of ``drop_key`` to a
    drop (``drop_key`` given). ``file_size``: the object's size, when known (else ``head`` is taken as
    the whole file when it is shorter than ``SNIFF_BYTES``).
    """
    complete = len(head) >= file_size if file_size is not None else len(head) < SNIFF_BYTES
    if not head:
        raise EmptyFileError()
    not_text = binary_kind(head)
    if not_text is not None:
        raise NotTextError(not_text)
    detected = detect_encoding(head, encoding, complete=complete)
    if detected.encoding == UTF16:
        data = utf16_head_to_utf8(head, complete=complete)
        start = 0
    else:
        data = head
        start = detected.bom

    start = _BLANK_LINES.match(data, start).end()  # type: ignore[union-attr]
    sep_hint: str | None = None
    sep = _SEP_LINE.match(data, start)
    if sep is not None and sep.group(1) not in b"\"\r\n" and sep.group(1).isascii():
        sep_hint = sep.group(1).decode("ascii")
        start = _BLANK_LINES.match(data, sep.end()).end()  # type: ignore[union-attr]
    if start >= len(data):
        raise EmptyFileError() if complete else EmptyFileError("the file's first MiB holds only blank lines")

    while True:
        delimiter = sep_hint or ","
        span = _first_record(data, start, delimiter, complete)
        first = _decode_header(data[span[0] : span[1]], detected.encoding, lenient=True)
        if sep_hint is None:
            chosen = detect_delimiter(first)
            if chosen != delimiter:
                delimiter = chosen
                span = _first_record(data, start, delimiter, complete)
        if any(cell.strip() for cell in _cells(first, delimiter)):
            break
        # A line of empty cells (what a spreadsheet leaves above its data when a row's cells are cleared)
        # is a blank row, as in the data (CONTRACT §1 "Blank rows"): the header is the next line.
        start = _BLANK_LINES.match(data, span[2]).end()  # type: ignore[union-attr]
        if start >= len(data):
            raise EmptyFileError() if complete else EmptyFileError("the file's first MiB holds only blank lines")
    begin, end, data_start = span
    raw = data[begin:end]
    if len(raw) > MAX_HEADER_BYTES:
        # exact bytes near the limit (65,537 bytes read "64 KiB" rounded); the quote hint only when it has one
        size = f"{len(raw):,} bytes" if len(raw) < 2 * MAX_HEADER_BYTES else _size(len(raw))
        hint = " (is a quote in it never closed?)" if b'"' in raw else ""
        raise HeaderTooLargeError(
            f"the header line is {size}; at most {MAX_HEADER_BYTES:,} bytes (64 KiB) are allowed{hint}"
        )
    text = _decode_header(raw, detected.encoding, lenient=False)
    if "\x00" in text:
        raise HeaderNulError(_nul_message(text))
    names = tuple(map(trim_name, _cells(text, delimiter)))
    if len(names) > MAX_HEADER_COLUMNS:
        empty = len(names) - len(_without_empty_tail(names))
        # A spreadsheet writes every column of its used range: cells formatted or cleared far to the right
        # of the data make thousands of empty columns (Excel up to 16,384)
        hint = (f" (the last {empty:,} have no name and, likely, no data: the sheet has formatted or cleared "
                "cells to the right of its data; delete those columns and export the file again)") if empty else ""
        raise HeaderTooLargeError(
            f"the header has {len(names):,} columns; at most {MAX_HEADER_COLUMNS:,} are allowed{hint}"
        )
    saved = None if mapping is not None else choose_saved_mapping(names, saved_mappings, drop_key)
    if saved is not None:
        mapping = saved.get("mapping") or {}
        profile = profile or saved.get("profile")
    chosen_profile: Profile = profile_named(profile) if profile else recognise(names)
    columns = plan_columns(names, chosen_profile, mapping)
    for column, (name, target) in enumerate(zip(names, columns.targets, strict=True), start=1):
        if len(name) > MAX_ATTRIBUTE_NAME and target == ATTRIBUTE:
            raise HeaderNameTooLongError(
                f"the name of column {column} is {len(name):,} characters long; an attribute name has at "
                f"most {MAX_ATTRIBUTE_NAME}: shorten it, or map the column to ignore: {shown(name)}"
            )
    # (A head that is not valid UTF-8 gives no warning here: the rows that fail say it, and only where they
    # would read cleanly as Windows-1252, CONTRACT §1; bytes Windows-1252 does not define got the advice too.)
    warnings = list(columns.warnings)
    plan = FilePlan(
        names=names,
        targets=columns.targets,
        delimiter=delimiter,
        encoding=detected.encoding,
        profile=chosen_profile.name,
        header_start=begin,
        header_end=end,
        data_start=data_start,
        bom=detected.bom,
        sep_hint=sep_hint is not None,
        transcode=detected.encoding == UTF16,
        fallbacks=columns.fallbacks,
        family_column=columns.family_column,
        mapping=dict(mapping) if mapping is not None else None,
        mapping_id=str(saved["id"]) if saved is not None and saved.get("id") is not None else None,
        replace=dict(saved["replace"]) if saved is not None and drop_key and saved.get("prefix")
        and saved.get("replace") else None,
        warnings=tuple(warnings),
    )
    missing = tuple(f for f in REQUIRED_FIELDS if f not in columns.targets)
    if missing:
        # A mapping that names headers the file lacks is most likely why (a typo, another file's mapping).
        notes = [w for w in columns.warnings if w.startswith("the mapping names ")]
        if mapping is None:  # a report's title lines above its header ("Product list, 1 May")?
            below = _header_below(data, data_start, detected.encoding, complete, sep_hint)
            if below is not None:
                line, found = below
                top = _line_number(data, begin)
                lines = f"line {top}" if line == top + 1 else f"lines {top}–{line - 1}"
                notes.append(f"the header seems to be on line {line} ({', '.join(shown(n) for n in found[:5] if n)}"
                             f"{', …' if len(found) > 5 else ''}): delete {lines}, then import the file again")
        error = missing_columns(missing, names, columns.targets, notes=notes)
        error.plan = plan
        raise error
    return plan


_LOOK_BELOW = 10  # records below a header without sku and name that may be the real header


def _header_below(data: bytes, start: int, encoding: str, complete: bool,
                  sep_hint: str | None) -> tuple[int, tuple[str, ...]] | None:
    """A line among the next few below the first (title lines a report writes above its header) whose
    cells name both sku and name by the generic aliases or a platform's profile: ``(its line number in the
    file, its names)``, else None. Only read when the first line fails, so never on the import's hot path."""
    pos = start
    for _ in range(_LOOK_BELOW):
        pos = _BLANK_LINES.match(data, pos).end()  # type: ignore[union-attr]
        if pos >= len(data):
            return None
        text = _decode_header(data[pos : pos + MAX_HEADER_BYTES + 2], encoding, lenient=True)
        delimiter = sep_hint or detect_delimiter(text.splitlines()[0] if text else "")
        try:
            begin, end, after = _first_record(data, pos, delimiter, complete)
        except HeaderError:
            return None
        names = tuple(map(trim_name, _cells(_decode_header(data[begin:end], encoding, lenient=True), delimiter)))
        if len(names) <= MAX_HEADER_COLUMNS and all(f in plan_columns(names, recognise(names), None).targets
                                                    for f in REQUIRED_FIELDS):
            return _line_number(data, begin), names
        pos = after
    return None


def _line_number(data: bytes, pos: int) -> int:
    """The 1-based line of the file at byte ``pos`` (LF, CRLF and a lone CR end a line)."""
    before = data[:pos]
    return before.count(b"\n") + before.count(b"\r") - before.count(b"\r\n") + 1


def _without_empty_tail(names: tuple[str, ...]) -> tuple[str, ...]:
    end = len(names)
    while end and not names[end - 1]:
        end -= 1
    return names[:end]


def choose_saved_mapping(
    names: tuple[str, ...], saved_mappings: Iterable[Mapping[str, Any]], drop_key: str | None
) -> Mapping[str, Any] | None:
    """The saved mapping that applies by itself (CONTRACT §1): for a drop, the longest prefix of its key;
    for an upload, the one whose header set equals the file's (names folded, any order). Key and prefixes
    compare NFC-normalised: a folder made on a Mac arrives decomposed (``u`` + U+0308) in the S3 key, while
    a prefix typed in the UI is composed (CONTRACT §4: the partner is the folder, whatever its form)."""
    if drop_key is not None:
        key = unicodedata.normalize("NFC", drop_key)
        bound = [m for m in saved_mappings
                 if m.get("prefix") and key.startswith(unicodedata.normalize("NFC", str(m["prefix"])))]
        return max(bound, key=lambda m: len(str(m["prefix"])), default=None)
    header_set = {fold_name(n) for n in names if fold_name(n)}
    for candidate in saved_mappings:
        headers = candidate.get("headers")
        if headers and not candidate.get("prefix") and {fold_name(h) for h in headers} == header_set:
            return candidate
    return None


def header_set(names: Iterable[str]) -> frozenset[str]:
    """How saved mappings compare header sets (for the API's 409 on a second mapping of one set)."""
    return frozenset(k for k in map(fold_name, names) if k)


def _how_to_map(pairs: list[tuple[str, str]]) -> str:
    """The three ways to map a column, for a missing-column message read in the UI, the CLI and a partner
    drop's import alike; the CLI's is a command line to paste (shell-quoted; only when every name is short)."""
    if all(len(header) <= 60 for header, _ in pairs):  # a name a message would cut (columns.shown)
        cli = "--map " + " ".join(shlex.quote(f"{header}={field}") for header, field in pairs)
    else:
        cli = "--map 'HEADER=field'"
    return f"the UI's mapping step, {cli} in the CLI, or a saved mapping for partner drops"


def missing_columns(missing: tuple[str, ...], names: tuple[str, ...], targets: tuple[str, ...],
                    notes: Iterable[str] = ()) -> MissingColumnsError:
    free = [name for name, target in zip(names, targets, strict=True) if target not in FIELDS and name]
    suggestions = {field: likeliest_columns(field, free, rivals=missing) for field in missing}
    plural = "s" if len(missing) > 1 else ""
    parts = [f"missing required column{plural}: {', '.join(missing)}."]
    if names and any(names):
        listed = ", ".join(shown(n) for n in names[:_SHOWN_HEADERS] if n)
        more = f" and {len(names) - _SHOWN_HEADERS} more" if len(names) > _SHOWN_HEADERS else ""
        parts.append(f"The header has {len(names)} column{'s' if len(names) != 1 else ''}: {listed}{more}.")
    hints = []
    for field, candidates in suggestions.items():
        if candidates:
            hints.append(f"for {field}, {' or '.join(shown(c) for c in candidates)}")
    if hints:
        pairs = [(candidates[0], field) for field, candidates in suggestions.items() if candidates]
        parts.append(f"Likeliest: {'; '.join(hints)}: rename the column or map it ({_how_to_map(pairs)}).")
    else:
        example = [("<column>", field) for field in missing]
        parts.append(f"Add the column{plural}, or map existing columns to {' and '.join(missing)} "
                     f"({_how_to_map(example)}).")
    parts.extend(note[0].upper() + note[1:] + "." for note in notes)
    return MissingColumnsError(missing, " ".join(parts), found=names, suggestions=suggestions)


def detect_delimiter(text: str) -> str:
    """Comma, unless the line clearly uses ``;`` or TAB: the one of the three whose cells name the most known
    columns (fields and their aliases), else more of those than commas, outside quotes.

    Known names first: Excel's "Unicode Text" is tab-separated and leaves commas in names unquoted, so
    ``sku<TAB>name<TAB>Dimensions (L, W, H)`` holds as many commas as tabs, yet only the tabs give a header."""
    outside = _QUOTED_PART.sub("", text)
    known = {delimiter: _known_names(text, delimiter) for delimiter in (",", ";", "\t")
             if delimiter == "," or delimiter in outside}
    most = max(known.values())
    if most and list(known.values()).count(most) == 1:
        return next(delimiter for delimiter, count in known.items() if count == most)
    best = max((";", "\t"), key=outside.count)  # ';' on a tie
    return best if outside.count(best) > outside.count(",") else ","


def _known_names(text: str, delimiter: str) -> int:
    """How many fields the line's cells name (by their names or aliases), read with ``delimiter``."""
    return len({found for cell in _cells(text, delimiter) if (found := field_named(fold_name(cell))) is not None})


def _cells(text: str, delimiter: str) -> list[str]:
    csv.field_size_limit(max(csv.field_size_limit(), MAX_HEADER_BYTES + 1))
    return next(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), [])


def _decode_header(raw: bytes, encoding: str, *, lenient: bool) -> str:
    if encoding == CP1252:
        return decode_cp1252(raw)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        if lenient:
            return raw.decode("utf-8", "replace")
        if encoding == UTF16:  # transcoded: a unit that was no UTF-16 became a byte that is no UTF-8
            where = len(raw[: exc.start].decode("utf-8", "replace")) + 1
            raise HeaderEncodingError(
                f"the header holds a broken UTF-16 character (a lone surrogate or a stray byte) at character "
                f"{where} of the line; save the file again from its program (Excel: \"CSV UTF-8\" or "
                "\"Unicode Text\") and import that file") from exc
        if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
            raise HeaderEncodingError(
                "the file starts with a UTF-16 byte order mark (Excel's \"Unicode Text\"), but it was read as "
                "UTF-8: import it without an encoding (UTF-16 is detected) or with encoding utf-16") from exc
        raise HeaderEncodingError(
            f"the header is not valid UTF-8 (byte {exc.start + 1} of the line); if the file was saved "
            "in another encoding (Excel on Windows: Windows-1252), import it with that encoding"
        ) from exc


# Files that are not text, by their first bytes: what a user uploads by mistake under a .csv name.
_SAVE_AS_CSV = 'open it in its program and save the sheet as "CSV UTF-8" (or "Unicode Text"), then import that file'
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"PK\x03\x04", "an Excel workbook (.xlsx) or another zip archive"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Excel workbook (.xls) or another Office document"),
    (b"%PDF-", "a PDF document"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"BZh", "a bzip2 archive"),
    (b"\xfd7zXZ\x00", "an xz archive"),
    (b"\x28\xb5\x2f\xfd", "a Zstandard archive"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"\xff\xfe\x00\x00", "UTF-32 text"),  # (before UTF-16's \xff\xfe: found by a tester)
    (b"\x00\x00\xfe\xff", "UTF-32 text"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"{\\rtf", "an RTF document"),
)


def binary_kind(head: bytes) -> str | None:
    """What the file is when its first bytes say it is not text (``"the file is an Excel workbook …"``),
    else None. A UTF-16 BOM (``\\xff\\xfe``) is text; JPEG starts ``\\xff\\xd8``."""
    for magic, kind in _SIGNATURES:
        if magic == b"BZh" and not head[3:4].isdigit():
            continue  # ("BZh" + the block size digit; a header may begin "BZh…" as text)
        if head.startswith(magic):
            if kind == "UTF-32 text":
                return ("the file is UTF-32 text, which is not read: save it as CSV UTF-8 (or as Unicode Text, "
                        "UTF-16) and import that file")
            action = _SAVE_AS_CSV if magic == b"PK\x03\x04" or not kind.endswith(" archive") else (
                "extract it and import the CSV inside")
            return f"the file is {kind}, not CSV text: {action}"
    return None


def _nul_message(text: str) -> str:
    nuls = text.count("\x00")
    if nuls * 3 >= len(text):
        return (
            "the header is full of NUL characters: the file looks like UTF-16 without a byte order "
            "mark; import it with encoding utf-16 (the CLI's --encoding utf-16), or save it as CSV UTF-8 (or as "
            "Unicode Text, which has the mark)"
        )
    return "the header contains a NUL character; remove it from the column names"


def _size(n: int) -> str:
    return f"{n / 1024:,.0f} KiB" if n >= 10 * 1024 else f"{n:,} bytes"


def _first_record(data: bytes, start: int, delimiter: str, complete: bool) -> tuple[int, int, int]:
    """``(begin, end, next_start)`` of the record at ``start``: ``end`` excludes its line terminator.

    CSV quoting as the ``csv`` module (and the byte level) reads it: a quote opens a quoted field only
    at the start of a field. A record that does not end within ``data`` raises HeaderTooLargeError,
    unless ``data`` is the whole file (then the file is one line, or its quote never closes).
    """
    limit = MAX_HEADER_BYTES + 2
    pos = begin = start
    size = len(data)
    separator = ord(delimiter)
    while True:
        special = _SPECIAL.search(data, pos, min(size, begin + limit))
        if special is None:
            if complete and size < begin + limit:
                return begin, size, size
            break
        i = special.start()
        char = data[i]
        if char == _QUOTE:
            if i != begin and data[i - 1] != separator:
                pos = i + 1  # a literal quote inside an unquoted field
                continue
            pos = i + 1
            while True:  # inside a quoted field
                closing = data.find(b'"', pos, begin + limit)
                if closing < 0:
                    if complete and size < begin + limit:
                        raise HeaderTooLargeError("a quote in the header line is never closed")
                    raise HeaderTooLargeError(
                        "the header line is longer than 64 KiB (is a quote in it never closed?)"
                    )
                if closing + 1 < size and data[closing + 1] == _QUOTE:
                    pos = closing + 2
                    continue
                pos = closing + 1
                break
            continue
        next_start = i + 2 if char == _CR and i + 1 < size and data[i + 1] == _LF else i + 1
        return begin, i, next_start
    raise HeaderTooLargeError("the header line is longer than 64 KiB")


# ---- the previous interface, kept for callers that do not store a plan yet -------------------------------


def resolve_header(raw: bytes) -> FilePlan:
    """The generic plan of one header record (UTF-8 bytes as in the file, a BOM allowed)."""
    return sniff(raw, file_size=len(raw))


def read_header(stream: BinaryIO) -> tuple[FilePlan, int]:
    """Sniff the first ``SNIFF_BYTES`` of ``stream`` (positioned at 0): ``(plan, plan.data_start)``.

    A seekable stream is left positioned at the data.
    """
    head = b""
    while len(head) < SNIFF_BYTES:
        block = stream.read(SNIFF_BYTES - len(head))
        if not block:
            break
        head += block
    eof = len(head) < SNIFF_BYTES
    plan = sniff(head, file_size=len(head) if eof else None)
    seekable = getattr(stream, "seekable", None)
    if seekable is not None and seekable():
        stream.seek(plan.data_start)
    return plan, plan.data_start
