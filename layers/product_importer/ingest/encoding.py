"""Which character encoding a file is in, and decoding it (CONTRACT §1 "Encoding").

- A UTF-16 byte-order mark means UTF-16 (Excel's "Unicode Text"). UTF-16's bytes are not
  ASCII-compatible (a quote byte can be half of another character), so such a file is chunked as a
  UTF-8 transcode: ``transcode_to_utf8`` is the one definition of that object, and the plan's byte
  offsets refer to it.
- Otherwise the first MiB decides: valid UTF-8 (with or without a BOM) is UTF-8; bytes that are not
  valid UTF-8 and not one valid multi-byte UTF-8 character anywhere in the head mean Windows-1252 for
  the whole file; invalid bytes next to valid multi-byte characters mean UTF-8 whose bad rows fail alone.
- An override (``POST /api/imports`` ``encoding``) wins over the detection.

Decoding Windows-1252 maps its five unassigned bytes to the C1 controls of the same number, as
Windows does, so every byte decodes.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from product_importer.ingest.errors import UnknownEncodingError

UTF8 = "utf-8"
UTF16 = "utf-16"
CP1252 = "windows-1252"
ENCODINGS = (UTF8, UTF16, CP1252)

UTF8_BOM = b"\xef\xbb\xbf"
UTF16_LE_BOM = b"\xff\xfe"
UTF16_BE_BOM = b"\xfe\xff"

_NAMES = {
    "utf8": UTF8,
    "utf-8": UTF8,
    "utf-8-sig": UTF8,
    "utf_8": UTF8,
    "utf16": UTF16,
    "utf-16": UTF16,
    "utf-16le": UTF16,
    "utf-16be": UTF16,
    "utf_16": UTF16,
    "unicode": UTF16,
    "windows-1252": CP1252,
    "windows1252": CP1252,
    "cp1252": CP1252,
    "cp-1252": CP1252,
    "x-cp1252": CP1252,
    # ISO-8859-1 (Latin-1) is read as Windows-1252, as the WHATWG Encoding Standard (browsers) reads it: the two
    # differ only in 0x80-0x9F, control characters in Latin-1 that no spreadsheet writes
    "iso-8859-1": CP1252,
    "iso8859-1": CP1252,
    "iso_8859-1": CP1252,
    "iso88591": CP1252,
    "latin1": CP1252,
    "latin-1": CP1252,
    "l1": CP1252,
}

# One valid multi-byte UTF-8 character (RFC 3629: no overlongs, no surrogates, at most U+10FFFF).
_MULTIBYTE_UTF8 = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]"
    rb"|\xe0[\xa0-\xbf][\x80-\xbf]|[\xe1-\xec\xee\xef][\x80-\xbf]{2}|\xed[\x80-\x9f][\x80-\xbf]"
    rb"|\xf0[\x90-\xbf][\x80-\xbf]{2}|[\xf1-\xf3][\x80-\xbf]{3}|\xf4[\x80-\x8f][\x80-\xbf]{2}"
)
_UNDECODABLE = re.compile("[\udc80-\udcff]")  # what surrogateescape makes of undecodable bytes


def _cp1252_table() -> str:
    chars = []
    for byte in range(256):
        try:
            chars.append(bytes([byte]).decode("cp1252"))
        except UnicodeDecodeError:
            chars.append(chr(byte))  # 0x81, 0x8D, 0x8F, 0x90, 0x9D: the C1 control, as Windows does
    return "".join(chars)


_CP1252_DECODE_TABLE = _cp1252_table()
_CP1252_UNDEFINED = re.compile(rb"[\x81\x8d\x8f\x90\x9d]")
# the same, with the undefined bytes as surrogate escapes (what has_undecodable finds)
_CP1252_LOSSY_TABLE = "".join(chr(0xDC00 + b) if b in b"\x81\x8d\x8f\x90\x9d" else c
                              for b, c in enumerate(_CP1252_DECODE_TABLE))


def normalize_encoding(name: str) -> str:
    """``utf-8``, ``utf-16`` or ``windows-1252`` for any usual spelling of them; else UnknownEncodingError."""
    found = _NAMES.get(name.strip().lower().replace(" ", "-"))
    if found is None:
        raise UnknownEncodingError(f"unknown encoding {name[:40]!r}: use one of {', '.join(ENCODINGS)}")
    return found


@dataclass(frozen=True)
class Detected:
    encoding: str  # one of ENCODINGS
    bom: int  # bytes of byte-order mark at the start
    invalid_utf8: bool = False  # read as UTF-8 although the head holds invalid bytes (their rows fail)


def detect_encoding(head: bytes, override: str | None = None, *, complete: bool = False) -> Detected:
    """Decide the file's encoding from its first bytes (up to 1 MiB; may end mid-character unless
    ``complete``: ``head`` is the whole file, so a character cut at its end is no UTF-8, as in a
    Windows-1252 file whose last byte is ``é`` with no final newline)."""
    if head.startswith((UTF16_LE_BOM, UTF16_BE_BOM)) and not head.startswith(UTF16_LE_BOM + b"\x00\x00"):
        utf16_bom = 2
    else:
        utf16_bom = 0
    if override is not None:
        encoding = normalize_encoding(override)
        if encoding == UTF16:
            return Detected(UTF16, utf16_bom)
        bom = len(UTF8_BOM) if head.startswith(UTF8_BOM) else 0
        invalid = encoding == UTF8 and not valid_utf8(head, complete=complete)
        return Detected(encoding, bom, invalid)
    if utf16_bom:
        return Detected(UTF16, utf16_bom)
    bom = len(UTF8_BOM) if head.startswith(UTF8_BOM) else 0
    if valid_utf8(head, complete=complete):
        return Detected(UTF8, bom)
    if bom or _MULTIBYTE_UTF8.search(head):
        return Detected(UTF8, bom, invalid_utf8=True)
    return Detected(CP1252, 0)


def valid_utf8(head: bytes, *, complete: bool) -> bool:
    """Valid UTF-8, allowing the head to end in the middle of a character unless it is the whole file."""
    if head.isascii():
        return True
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=complete)
    except UnicodeDecodeError:
        return False
    return True


def decode(data: bytes, encoding: str) -> tuple[str, bool]:
    """Decode chunk bytes (``utf-8`` or ``windows-1252``): ``(text, lossy)``.

    A UTF-8 chunk with invalid bytes decodes with surrogate escapes (``lossy``): their rows fail alone.
    """
    if encoding == CP1252:
        if _CP1252_UNDEFINED.search(data) is None:
            return decode_cp1252(data), False
        # The five bytes Windows-1252 leaves undefined are no text: their rows fail alone, as undecodable
        # bytes do in a UTF-8 file (CONTRACT §1), instead of storing an invisible C1 control.
        return codecs.charmap_decode(data, "strict", _CP1252_LOSSY_TABLE)[0], True
    try:
        return data.decode("utf-8"), False
    except UnicodeDecodeError:
        return data.decode("utf-8", "surrogateescape"), True


def decode_cp1252(data: bytes) -> str:
    return codecs.charmap_decode(data, "strict", _CP1252_DECODE_TABLE)[0]


def has_undecodable(text: str) -> bool:
    return _UNDECODABLE.search(text) is not None


def undecodable_as_cp1252(text: str) -> str | None:
    """A cell read from a UTF-8 file with surrogate escapes, read as Windows-1252 instead (for a hint).

    None when that would not give clean text either (C1 controls: the bytes are no Windows-1252 text).
    """
    raw = text.encode("utf-8", "surrogateescape")
    decoded = decode_cp1252(raw)
    if any("\x80" <= c <= "\x9f" for c in decoded):
        return None
    return decoded


def transcode_to_utf8(blocks: Iterable[bytes]) -> Iterator[bytes]:
    """The UTF-8 object a UTF-16 file is chunked as: its text after the BOM, encoded as UTF-8.

    Without a BOM (an ``encoding`` override), the byte order the text shows (``_utf16_decoder``). Bytes that
    are no UTF-16 (a lone surrogate, an odd last byte) become the byte 0xFF, which is no UTF-8 either: the row that holds them fails on its
    own when the object is read (CONTRACT §1, as for a UTF-8 file), instead of a silent U+FFFD. Streams
    block by block: memory stays flat whatever the size.
    """
    decoder: codecs.IncrementalDecoder | None = None
    pending = b""
    for block in blocks:
        if decoder is None:
            pending += block
            if len(pending) < _ORDER_SAMPLE:
                continue
            decoder, skip = _utf16_decoder(pending)
            block, pending = pending[skip:], b""
        text = decoder.decode(block)
        if text:
            yield text.encode("utf-8", "surrogateescape")
    if decoder is None:
        decoder, skip = _utf16_decoder(pending)
        pending = pending[skip:]
    tail = decoder.decode(pending, final=True)
    if tail:
        yield tail.encode("utf-8", "surrogateescape")


def _not_utf16(error: UnicodeError) -> tuple[str, int]:
    """Decoding error handler: a unit that is no UTF-16 becomes U+DCFF, which ``surrogateescape``
    encodes as the byte 0xFF (invalid UTF-8)."""
    if not isinstance(error, UnicodeDecodeError):
        raise error
    return "\udcff", error.end


codecs.register_error("product-importer-not-utf16", _not_utf16)


_ORDER_SAMPLE = 64  # bytes of a UTF-16 file without a byte order mark that show its byte order


def _utf16_decoder(first: bytes) -> tuple[codecs.IncrementalDecoder, int]:
    """The decoder of a UTF-16 file from its first bytes (at least ``_ORDER_SAMPLE`` unless the file is
    shorter), and the bytes of BOM to skip. Without a BOM (the import's ``encoding`` says utf-16), the byte
    order the text shows: a CSV is mostly ASCII, whose zero bytes come second in little-endian (``s\0k\0``,
    what Windows writes) and first in big-endian (``\0s\0k``); a tie is little-endian."""
    if first.startswith(UTF16_BE_BOM):
        return codecs.getincrementaldecoder("utf-16-be")("product-importer-not-utf16"), 2
    if first.startswith(UTF16_LE_BOM):
        return codecs.getincrementaldecoder("utf-16-le")("product-importer-not-utf16"), 2
    sample = first[:_ORDER_SAMPLE]
    order = "utf-16-be" if sample[0::2].count(0) > sample[1::2].count(0) else "utf-16-le"
    return codecs.getincrementaldecoder(order)("product-importer-not-utf16"), 0


def utf16_head_to_utf8(head: bytes, *, complete: bool) -> bytes:
    """``transcode_to_utf8`` of a file's first bytes; unless ``complete``, a cut last character is dropped."""
    decoder, skip = _utf16_decoder(head)
    text = decoder.decode(head[skip:], final=complete)
    return text.encode("utf-8", "surrogateescape")
