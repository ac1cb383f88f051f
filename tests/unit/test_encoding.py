"""Encodings (CONTRACT §1): UTF-8 with or without BOM, UTF-16 with BOM, Windows-1252 detected, overrides."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from product_importer.ingest import ParsedChunk, parse_chunk, sniff
from product_importer.ingest.encoding import (
    decode,
    decode_cp1252,
    detect_encoding,
    normalize_encoding,
    transcode_to_utf8,
)
from product_importer.ingest.errors import HeaderEncodingError
from product_importer.ingest.plan import ENCODING_HINT, FilePlan

# Text a spreadsheet on Windows saves in Windows-1252, from several languages, with the characters
# that set Windows-1252 apart from Latin-1 (€ ™ “ ” ‘ ’ – — … • Œ š ž).
WINDOWS_1252_TEXTS = [
    "Café Crème, Crêpe brûlée",
    "Müller Kaffeemühle groß",
    "Niño pequeño ¿Qué?",
    "Smørbrød på Ærø, Åre",
    "Prix 5 €, Windproof™",
    "The “Splash” edition – Kids’ boots — 2 for 1…",
    "• Œuvre • Škoda • Žiga",
]


def read(data: bytes, **options) -> tuple[FilePlan, ParsedChunk]:
    plan = sniff(data, file_size=len(data), **options)
    body = b"".join(transcode_to_utf8([data])) if plan.transcode else data
    return plan, parse_chunk(body[plan.data_start :], plan, 1)


def csv_text(names: list[str], newline: str = "\r\n", delimiter: str = ",") -> str:
    rows = ["sku" + delimiter + "name", *(f"SKU-{i}{delimiter}\"{n}\"" for i, n in enumerate(names))]
    return newline.join(rows) + newline


# ---- detection ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("head", "encoding", "bom"),
    [
        (b"sku,name\nA,plain\n", "utf-8", 0),
        ("sku,name\nA,Café\n".encode(), "utf-8", 0),
        (b"\xef\xbb\xbfsku,name\n", "utf-8", 3),
        (b"\xff\xfes\x00k\x00u\x00", "utf-16", 2),
        (b"\xfe\xff\x00s\x00k\x00u", "utf-16", 2),
        ("sku,name\nA,Café\n".encode("cp1252"), "windows-1252", 0),
        ("sku,name\nA,Café".encode()[:-1], "utf-8", 0),  # the head ends in the middle of "é"
    ],
)
def test_detection(head: bytes, encoding: str, bom: int):
    detected = detect_encoding(head)

    assert (detected.encoding, detected.bom, detected.invalid_utf8) == (encoding, bom, False)


@pytest.mark.parametrize("text", WINDOWS_1252_TEXTS)
def test_windows_1252_text_of_any_language_is_detected_and_read_whole(text: str):
    data = csv_text([text, "plain ascii row", text.upper()]).encode("cp1252")

    plan, parsed = read(data)

    assert plan.encoding == "windows-1252"
    assert [r[3] for r in parsed.rows] == [text, "plain ascii row", text.upper()]
    assert parsed.errors == []


def test_invalid_bytes_next_to_valid_multibyte_utf8_mean_utf8_whose_bad_rows_fail():
    data = "sku,name\nA,Müller\n".encode() + "B,Müller\n".encode("cp1252") + b"C,ok\n"

    plan, parsed = read(data)

    assert plan.encoding == "utf-8"
    assert [r[2] for r in parsed.rows] == ["A", "C"]
    assert [(e.row, e.column) for e in parsed.errors] == [(2, "name")]
    assert parsed.warnings == [ENCODING_HINT]


def test_bytes_windows_1252_does_not_define_get_no_advice_to_import_as_windows_1252():
    """CONTRACT §1: the warning comes where such rows would decode cleanly as Windows-1252. A UTF-8 file
    whose bad row holds 0x81 0x8D (no characters in Windows-1252) was told to import it again as
    Windows-1252, which fails that row again."""
    data = "sku,name\nA,Müller\n".encode() + b"B,x\x81\x8dy\n" + b"C,ok\n"

    plan, parsed = read(data)

    assert plan.encoding == "utf-8"
    assert [(e.row, e.column) for e in parsed.errors] == [(2, "name")]
    assert "Windows-1252" not in parsed.errors[0].message
    assert ENCODING_HINT not in plan.warnings and ENCODING_HINT not in parsed.warnings


@pytest.mark.parametrize("last", ["Café", "Crème brûlée", "Kids’ boots…"])
def test_a_windows_1252_file_that_ends_in_its_only_accented_letter_without_a_final_newline_is_windows_1252(
        last: str):
    """CONTRACT §1: a whole file (shorter than a MiB) that ends in a byte UTF-8 would continue (é is 0xE9, a
    lead byte) holds invalid UTF-8 and no valid multi-byte character: Windows-1252. It was read as UTF-8 (the
    head's cut character allowance applied to the file's true end) and its last row failed."""
    data = ("sku,name\r\nA,plain\r\nB," + last).encode("cp1252")

    plan, parsed = read(data)

    assert plan.encoding == "windows-1252"
    assert [r[3] for r in parsed.rows] == ["plain", last]
    assert parsed.errors == []


@pytest.mark.parametrize("order", ["utf-16-le", "utf-16-be"])
def test_utf16_without_a_byte_order_mark_is_read_in_the_byte_order_its_text_shows(order: str):
    """An ``encoding`` utf-16 override of a file without a BOM: big-endian text (what Java and Unix tools
    write as UTF-16BE) was read as little-endian, a header of CJK characters ("missing required columns")."""
    data = csv_text(["Café", "Kids’ boots", "x" * 40]).encode(order)

    plan, parsed = read(data, encoding="utf-16")

    assert (plan.encoding, plan.names) == ("utf-16", ("sku", "name"))
    assert [r[3] for r in parsed.rows] == ["Café", "Kids’ boots", "x" * 40]
    assert b"".join(transcode_to_utf8([data[:1], data[1:5], data[5:]])) == b"".join(transcode_to_utf8([data]))


def test_a_utf8_bom_means_utf8_even_with_bad_bytes_later():
    detected = detect_encoding(b"\xef\xbb\xbfsku,name\nA,caf\xe9\n")

    assert (detected.encoding, detected.invalid_utf8) == ("utf-8", True)


def test_only_the_first_mib_decides():
    head = b"sku,name\n" + b"A,x\n" * 300_000  # past 1 MiB of ASCII: the Windows-1252 bytes come later

    assert sniff(head[: 1 << 20]).encoding == "utf-8"


def test_windows_1252s_unassigned_bytes_decode_as_windows_does():
    assert decode_cp1252(b"\x80\x81\x8d\x8f\x90\x9d\x9f") == "€\x81\x8d\x8f\x90\x9dŸ"


@pytest.mark.parametrize(
    ("name", "normal"),
    [("UTF-8", "utf-8"), ("utf8", "utf-8"), ("cp1252", "windows-1252"), ("Windows-1252", "windows-1252"),
     ("UTF-16LE", "utf-16"), ("utf-16", "utf-16"),
     # Latin-1 is read as Windows-1252 (WHATWG): POST /api/imports took it only from a drop's Content-Type
     ("ISO-8859-1", "windows-1252"), ("latin-1", "windows-1252"), ("Latin1", "windows-1252"),
     ("iso_8859-1", "windows-1252")],
)
def test_override_names(name: str, normal: str):
    assert normalize_encoding(name) == normal


def test_a_latin1_override_reads_the_file_as_windows_1252():
    plan, parsed = read("sku,name\nA,Crème\n".encode("latin-1"), encoding="ISO-8859-1")

    assert plan.encoding == "windows-1252"
    assert [row[3] for row in parsed.rows] == ["Crème"]


def test_an_override_wins_over_the_detection():
    data = "sku,name\nA,Café\n".encode("cp1252")

    plan, parsed = read(data, encoding="utf-8")

    assert plan.encoding == "utf-8"
    assert [e.column for e in parsed.errors] == ["name"]

    data = "sku,name\nA,MÃ¼ller\n".encode("cp1252")  # what UTF-8 looks like as Windows-1252: detected UTF-8
    assert read(data)[0].encoding == "utf-8"
    assert read(data, encoding="windows-1252")[1].rows[0][3] == "MÃ¼ller"


def test_a_utf8_bom_is_not_part_of_the_first_name_whatever_the_encoding():
    for encoding in (None, "windows-1252"):
        plan = sniff(b"\xef\xbb\xbfsku,name\n", encoding=encoding)
        assert plan.names == ("sku", "name")


# ---- UTF-16 (Excel's "Unicode Text") ------------------------------------------------------------------


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_a_utf16_file_is_read_through_its_utf8_transcode(codec: str):
    names = ["商品 テスト", "Ελληνικά", "Привет 😀", "Café"]
    text = csv_text(names, delimiter="\t")
    bom = "\ufeff".encode(codec)
    data = bom + text.encode(codec)

    plan, parsed = read(data)

    assert (plan.encoding, plan.transcode, plan.delimiter, plan.bom) == ("utf-16", True, "\t", 2)
    assert plan.data_encoding == "utf-8"
    assert [r[3] for r in parsed.rows] == names
    transcoded = b"".join(transcode_to_utf8([data]))
    assert transcoded == text.encode("utf-8")
    assert transcoded[plan.header_start : plan.header_end] == b"sku\tname"


@given(text=st.text(max_size=40), sizes=st.lists(st.integers(1, 7), min_size=1, max_size=20))
def test_transcoding_in_blocks_of_any_size_equals_transcoding_at_once(text: str, sizes: list[int]):
    data = "\ufeff".encode("utf-16-le") + text.encode("utf-16-le", "surrogatepass")
    blocks, pos = [], 0
    for size in sizes * 20:
        blocks.append(data[pos : pos + size])
        pos += size
    blocks.append(data[pos:])

    assert b"".join(transcode_to_utf8(blocks)) == b"".join(transcode_to_utf8([data]))


def test_an_odd_last_byte_and_lone_surrogates_become_bytes_that_are_no_utf8_either():
    # (so the row holding them fails when the transcoded object is read, instead of a silent U+FFFD)
    data = b"\xff\xfe" + "ab".encode("utf-16-le") + b"\x00\xd8" + "c".encode("utf-16-le") + b"x"

    assert b"".join(transcode_to_utf8([data])) == b"ab\xffc\xff"


def test_utf16_override_without_a_bom_reads_little_endian():
    data = "sku,name\nA,x\n".encode("utf-16-le")

    plan, parsed = read(data, encoding="utf-16")

    assert (plan.bom, [r[2] for r in parsed.rows]) == (0, ["A"])


# ---- chunk decoding ----------------------------------------------------------------------------------


def test_decode_is_lossless_for_utf8_and_marks_undecodable_bytes():
    assert decode("é".encode(), "utf-8") == ("é", False)
    text, lossy = decode(b"caf\xe9", "utf-8")
    assert lossy and text.encode("utf-8", "surrogateescape") == b"caf\xe9"
    assert decode(b"caf\xe9", "windows-1252") == ("café", False)


def test_a_broken_utf16_character_in_the_header_is_named_as_utf16_not_utf8():
    """Found by a tester: the message said "not valid UTF-8 … (Excel on Windows: Windows-1252)", advice that
    cannot help with a UTF-16 file."""
    data = b"\xff\xfe" + "sku,na".encode("utf-16-le") + b"\x00\xd8" + "me\r\nA,b\r\n".encode("utf-16-le")

    with pytest.raises(HeaderEncodingError) as raised:
        sniff(data)

    assert "broken UTF-16 character" in str(raised.value) and "at character 7" in str(raised.value)
    assert "UTF-8" not in str(raised.value).replace("CSV UTF-8", "")


def test_a_utf16_file_read_as_utf8_by_an_override_is_told_to_drop_the_override():
    data = b"\xff\xfe" + "sku,name\r\nA,b\r\n".encode("utf-16-le")

    with pytest.raises(HeaderEncodingError, match="starts with a UTF-16 byte order mark"):
        sniff(data, encoding="utf-8")
    assert sniff(data).encoding == "utf-16"
