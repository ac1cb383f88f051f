"""sniff: the header line (CONTRACT §1) — names, aliases, precedence, sep=, delimiters, spans, failures."""

from __future__ import annotations

import io
import json

import pytest
from product_importer.ingest import FIELDS, EmptyFileError, FilePlan, HeaderError, MissingColumnsError, sniff
from product_importer.ingest.errors import (
    HeaderNameTooLongError,
    HeaderNulError,
    HeaderTooLargeError,
    InvalidMappingError,
    UnknownEncodingError,
    UnknownProfileError,
)
from product_importer.ingest.header import detect_delimiter, read_header, resolve_header
from product_importer.ingest.plan import MAX_IMPORT_WARNINGS

from tests.csv_samples import BOM, catalog

ALIASES = [
    *[(a, "sku") for a in ("product sku", "item sku", "product code", "variant sku", "reference", "ref",
                           "item number", "article number", "part number")],
    *[(a, "name") for a in ("title", "product name", "product title", "item name")],
    *[(a, "description") for a in ("body", "body html", "body (html)", "long description")],
    *[(a, "price") for a in ("unit price", "variant price", "regular price")],
    *[(a, "quantity") for a in ("qty", "stock", "inventory", "inventory quantity", "variant inventory qty")],
    *[(a, "active") for a in ("enabled", "published", "status")],
    *[(a, "brand") for a in ("vendor", "brands")],
    *[(a, "category") for a in ("product type", "categories")],
    *[(a, "barcode") for a in ("gtin", "upc", "ean", "isbn", "variant barcode")],
]


def plan_of(line: str | bytes, **options) -> FilePlan:
    return sniff(line.encode() if isinstance(line, str) else line, **options)


@pytest.mark.parametrize(("alias", "field"), ALIASES)
def test_every_alias_maps_to_its_field(alias: str, field: str):
    others = {"sku": "name", "name": "sku"}.get(field, "sku,name")
    plan = plan_of(f"{alias},{others}")

    assert plan.field_index[field] == 0
    assert plan.names[0] == alias


@pytest.mark.parametrize(
    ("written", "field"),
    [
        ("SKU", "sku"),
        ("  Sku  ", "sku"),
        ("Product_SKU", "sku"),
        ("PRODUCT-sku", "sku"),
        ("product  sku", "sku"),
        ("\u00a0SKU\u00a0", "sku"),  # non-breaking spaces, as pasted from a web page
        ("Product\u00a0SKU", "sku"),
        ("Body_(HTML)", "description"),
        ("Variant-Inventory_Qty", "quantity"),
        ("Reference #", "sku"),  # template markers
        ("Name *", "name"),
        ("Name*", "name"),
        ("Article Number #", "sku"),
        ("Item-Number", "sku"),
        ("*SKU", "sku"),  # eBay File Exchange's required marker, in front
        ("Product Code/SKU", "sku"),  # alternatives that all name one field (BigCommerce)
        ("Currency Code", "currency"),
    ],
)
def test_names_fold_case_spaces_underscore_dash_and_template_markers(written: str, field: str):
    required = "name" if field == "sku" else "sku,name"
    plan = plan_of(f"{written},{required}")

    assert plan.field_index[field] == 0
    assert plan.names[0] == written.strip()


@pytest.mark.parametrize("written", ["Price / International", "Product UPC/EAN", "Google Shopping / Gender"])
def test_alternatives_that_do_not_all_name_one_field_stay_an_attribute(written: str):
    plan = plan_of(f"sku,name,{written}")

    assert plan.attribute_columns == ((written, 2),)


def test_type_is_no_longer_an_alias_of_category():
    plan = plan_of("sku,name,type")

    assert "category" not in plan.field_index
    assert plan.attribute_columns == (("type", 2),)


def test_all_known_columns_by_their_own_names():
    plan = plan_of(",".join(FIELDS))

    assert plan.field_index == {f: i for i, f in enumerate(FIELDS)}
    assert plan.attribute_columns == ()
    assert (plan.delimiter, plan.profile, plan.encoding) == (",", "generic", "utf-8")


def test_the_column_named_like_the_field_wins_over_an_alias_left_of_it():
    plan = plan_of("title,sku,Name,stock")

    assert plan.field_index["name"] == 2
    assert plan.attribute_columns == (("title", 0),)


def test_among_aliases_the_leftmost_wins_and_the_others_become_attributes():
    plan = plan_of("sku,product name,title,qty,stock")

    assert plan.field_index == {"sku": 0, "name": 1, "quantity": 3}
    assert plan.attribute_columns == (("title", 2), ("stock", 4))


def test_two_columns_with_the_same_name_the_leftmost_wins_the_other_is_ignored_with_a_warning():
    plan = plan_of("SKU,name,Color,sku,color,Color ")

    assert plan.field_index["sku"] == 0
    assert plan.targets == ("sku", "name", "attribute", "ignore", "ignore", "ignore")
    assert len(plan.warnings) == 2
    assert '"SKU" appears 2 times (columns 1, 4)' in plan.warnings[0]
    assert '"Color" appears 3 times' in plan.warnings[1]


def test_other_columns_are_attributes_under_their_names_as_written_trimmed():
    plan = plan_of("sku,name, Color ,Size_EU,Material (main)")

    assert plan.attribute_columns == (("Color", 2), ("Size_EU", 3), ("Material (main)", 4))


def test_header_names_are_trimmed_of_invisible_characters_too():
    # Before: "Color\u200b" (a name copied from a web page) and "Weight\ufeff" were attribute names with an
    # invisible character, keys that look like "Color" and "Weight" and are not
    plan = plan_of("sku,name,Color\u200b,\u00a0Size\u00a0,\u2060Weight\ufeff,Half\u200bWidth")

    assert plan.attribute_columns == (("Color", 2), ("Size", 3), ("Weight", 4), ("Half\u200bWidth", 5))


def test_a_column_without_a_name_is_ignored():
    plan = plan_of("sku,name,,color,")

    assert plan.attribute_columns == (("color", 3),)
    assert plan.targets[2] == plan.targets[4] == "ignore"


def test_a_column_named_only_by_a_marker_or_a_separator_is_an_attribute_under_that_name():
    # A row-number column "#" (or "-") folds to nothing, but it has a name: it is kept as an attribute
    # (CONTRACT §1 "Every other column is kept"). Before: ignored as if it had no name, its values
    # dropped without a warning
    plan = plan_of("#,sku,name,-,Note #,#")

    assert plan.attribute_columns == (("#", 0), ("-", 3), ("Note #", 4))
    assert plan.targets[5] == "ignore"
    assert plan.warnings == ('the column "#" appears 2 times (columns 1, 6): the leftmost is read, the others '
                             "are ignored",)


def test_quoted_header_cells():
    plan = plan_of('"sku","Product, Name","a ""quoted"" thing",name')

    assert plan.names == ("sku", "Product, Name", 'a "quoted" thing', "name")
    assert plan.attribute_columns == (("Product, Name", 1), ('a "quoted" thing', 2))


# ---- delimiters and sep= -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "delimiter"),
    [
        ("sku;name;price", ";"),
        ("sku\tname\tprice", "\t"),
        ("sku,name,price", ","),
        ('sku;name;"a,b,c,d"', ";"),  # commas inside quotes do not count
        ('sku,name,"a;b;c;d"', ","),
        ("sku;name,price", ","),  # not clearly ';': a tie stays comma
        ("Product ID;Name *;Categories (x,y,z...);Price;Reference #;Tags (x,y,z...)", ";"),  # PrestaShop
        # Excel's "Unicode Text" (tab) leaves commas in names unquoted: as many commas as tabs, or more, and
        # only the tabs give known columns (before: read as comma-separated, the import failed)
        ("sku\tname\tDimensions (L, W, H)", "\t"),
        ("Reference\tTitle\tPrice, EUR\tSizes: S, M, L, XL", "\t"),
        ("SKU;Name;Price, EUR, incl. VAT, per unit", ";"),
    ],
)
def test_a_header_clearly_separated_by_semicolon_or_tab_switches_the_delimiter(line: str, delimiter: str):
    assert detect_delimiter(line) == delimiter


@pytest.mark.parametrize(
    ("head", "delimiter"),
    [
        (b"sep=;\r\nsku;name\r\n", ";"),
        (BOM + b"sep=,\r\nsku,name\r\n", ","),
        (b"SEP=|\nsku|name\n", "|"),
        (b"sep=\t\nsku\tname\n", "\t"),
        (b'"sep=;";;\nsku;name\n', ";"),  # written back by a spreadsheet
        (b"sep=;\nsku;name;size,colour,weight\n", ";"),  # the hint wins over counting
    ],
)
def test_a_sep_line_sets_the_delimiter_and_is_not_the_header(head: bytes, delimiter: str):
    plan = plan_of(head)

    assert plan.delimiter == delimiter
    assert plan.sep_hint
    assert plan.names[:1] == ("sku",)
    assert head[plan.header_start : plan.header_start + 3] == b"sku"
    assert plan.data_start == len(head)


def test_a_first_column_that_only_starts_like_sep_is_the_header():
    plan = plan_of("sep=x,sku,name\n1,A,b\n")

    assert not plan.sep_hint
    assert plan.names == ("sep=x", "sku", "name")


def test_spans_of_the_header_after_a_bom_and_blank_lines():
    head = BOM + b"\r\n\nSKU,Title\r\nA-1,x\r\n"

    plan = plan_of(head)

    assert (plan.bom, plan.header_start, plan.header_end) == (3, 6, 15)
    assert head[plan.data_start :] == b"A-1,x\r\n"


@pytest.mark.parametrize("above", [b",,,\n", b"  ;  ;\r\n\n", b",\n\t\n,,,,,,\n"])
def test_lines_of_empty_cells_above_the_header_are_blank_rows(above: bytes):
    # Found by review: Excel leaves ",,," when a first row's cells are cleared; it was read as the header
    data = above + b"SKU,Title\nA-1,x\n"

    plan = plan_of(data, file_size=len(data))

    assert plan.names == ("SKU", "Title") and data[plan.data_start :] == b"A-1,x\n"


def test_a_file_of_only_empty_cells_is_empty():
    with pytest.raises(EmptyFileError):
        plan_of(b",,,\n;;\n", file_size=8)


@pytest.mark.parametrize("newline", [b"\n", b"\r\n", b"\r"])
def test_the_data_starts_after_the_headers_line_break(newline: bytes):
    data = b"sku,name" + newline + b"a,b" + newline

    plan = plan_of(data)

    assert data[plan.header_start : plan.header_end] == b"sku,name"
    assert data[plan.data_start :] == b"a,b" + newline


def test_a_quoted_line_break_inside_the_header_is_part_of_it():
    data = b'sku;"long\nname";name\nA;b;c\n'

    plan = plan_of(data)

    assert plan.delimiter == ";"
    assert plan.names == ("sku", "long\nname", "name")
    assert data[plan.data_start :] == b"A;b;c\n"


def test_a_header_only_file_without_a_final_newline():
    plan = plan_of(b"sku,name", file_size=8)

    assert (plan.header_end, plan.data_start) == (8, 8)


# ---- the file cannot be imported ----------------------------------------------------------------------


@pytest.mark.parametrize("data", [b"", BOM, b"\n\n", BOM + b"\r\n", b"sep=;\r\n"])
def test_an_empty_file(data: bytes):
    with pytest.raises(EmptyFileError, match="the file is empty"):
        plan_of(data, file_size=len(data))


def test_a_head_of_nothing_but_blank_lines_has_no_header():
    with pytest.raises(EmptyFileError, match="blank lines"):
        plan_of(b"\r\n" * (1 << 19))


def test_more_than_1024_columns_fails_with_the_count():
    with pytest.raises(HeaderTooLargeError, match="1,025 columns; at most 1,024"):
        plan_of("sku,name," + ",".join(f"c{i}" for i in range(1023)))
    assert len(plan_of("sku,name," + ",".join(f"c{i}" for i in range(1022))).names) == 1024


def test_too_many_columns_that_are_empty_at_the_end_are_named_as_a_spreadsheets_used_range():
    # Excel writes its used range: formatting far right of the data gives up to 16,384 columns
    with pytest.raises(HeaderTooLargeError) as failure:
        plan_of("sku,name,price" + "," * 16381)

    assert str(failure.value) == (
        "the header has 16,384 columns; at most 1,024 are allowed (the last 16,381 have no name and, likely, no "
        "data: the sheet has formatted or cleared cells to the right of its data; delete those columns and "
        "export the file again)")


def test_a_header_over_64_kib_fails():
    names = ",".join(f"attribute number {i:06d} " + "x" * 50 for i in range(1000))  # ~74 KiB
    with pytest.raises(HeaderTooLargeError, match="64 KiB"):
        plan_of(f"sku,name,{names}\nA,x\n")


def test_a_header_one_byte_over_64_kib_says_so_exactly():
    """At 65,537 bytes the message read "the header line is 64 KiB; at most 64 KiB is allowed (is a quote in
    it never closed?)": a size rounded to the limit, and a quote hint for a header without quotes."""
    names = ",".join(f"c{i:05d}" + "x" * 200 for i in range(400))  # names under 255 characters each
    header = "sku,name," + names
    header = header[:65_537].rstrip(",")
    header += "y" * (65_537 - len(header))
    with pytest.raises(HeaderTooLargeError) as error:
        plan_of(f"{header}\nA,x,y\n")
    assert str(error.value) == "the header line is 65,537 bytes; at most 65,536 bytes (64 KiB) are allowed"
    assert len(plan_of(f"{header[:-1]}\nA,x,y\n").names) == header.count(",") + 1  # 65,536 bytes: allowed


def test_an_endless_quote_in_the_header_fails_without_reading_everything():
    head = b'sku,name,"' + b"x" * (2 << 20)

    with pytest.raises(HeaderTooLargeError, match="64 KiB"):
        plan_of(head[: 1 << 20])
    with pytest.raises(HeaderTooLargeError, match="never closed"):
        plan_of(b'sku,name,"oops\nA,b,c\n', file_size=21)


def test_a_header_name_over_255_characters_names_the_column_and_shows_its_start():
    with pytest.raises(HeaderNameTooLongError) as error:
        plan_of("sku,name,price," + "Notes for the team " * 20)

    message = str(error.value)
    assert "column 4" in message and "379 characters" in message and "255" in message
    assert message.count("Notes for the team") < 5


def test_a_header_name_over_255_characters_mapped_to_ignore_or_a_field_is_fine():
    """What the error above advises ("map the column to ignore") can be done: the mapping's key is the name."""
    note = "Notes for the team " * 20
    assert plan_of("sku,name,price," + note, mapping={note.strip(): "ignore"}).targets[3] == "ignore"
    assert plan_of(note + ",name", mapping={note.strip(): "sku"}).targets[0] == "sku"


def test_nul_in_the_header():
    with pytest.raises(HeaderNulError, match="NUL"):
        plan_of(b"sku,name,co\x00lor\n")
    with pytest.raises(HeaderNulError, match="UTF-16 without a byte order mark; import it with encoding utf-16"):
        plan_of("sku,name,color\n".encode("utf-16-le"))
    assert plan_of("sku,name,color\n".encode("utf-16-le"), encoding="utf-16").names == ("sku", "name", "color")


def test_missing_required_columns_are_named_with_the_headers_found_and_the_likeliest():
    with pytest.raises(MissingColumnsError) as both:
        plan_of("Artikelnummer,Produktname,Preis,Menge")
    with pytest.raises(MissingColumnsError) as one:
        plan_of("SKU Code,title,price")  # title is name; "SKU Code" is no alias

    assert both.value.missing == ("sku", "name")
    message = str(both.value)
    assert message.startswith("missing required columns: sku, name.")
    assert '"Artikelnummer", "Produktname", "Preis", "Menge"' in message
    assert both.value.suggestions == {"sku": ["Artikelnummer"], "name": ["Produktname"]}
    assert one.value.missing == ("sku",)
    assert '"SKU Code"' in str(one.value).split("Likeliest")[1]
    assert isinstance(one.value, HeaderError)


@pytest.mark.parametrize(("head", "note"), [
    (b"Product list, May 2026,,\r\n,,\r\nsku,name,price\r\nA,a,1\r\n",
     'The header seems to be on line 3 ("sku", "name", "price"): delete lines 1\u20132, then import the file again.'),
    (b"sep=;\nExported by ShopX\nArtikel;Bezeichnung\nHandle;Title;Variant SKU\n",
     'The header seems to be on line 4 ("Handle", "Title", "Variant SKU"): delete lines 2\u20133, then import'),
    (b"\xff\xfe" + "Report\r\nsku\tname\r\n".encode("utf-16-le"),
     'The header seems to be on line 2 ("sku", "name"): delete line 1, then import the file again.'),
])
def test_a_title_line_above_the_header_is_named_with_the_line_the_header_is_on(head: bytes, note: str):
    # A report's export writes a title above its header: the failure said to add or map columns the file has
    with pytest.raises(MissingColumnsError) as failed:
        plan_of(head)

    assert note in str(failed.value)


def test_no_header_below_no_note_and_a_mapping_means_the_user_chose():
    for head, options in ((b"foo,bar\nbaz,qux\nA,b\n", {}), (b"foo,bar\nsku,name\n", {"mapping": {"foo": "sku"}})):
        with pytest.raises(MissingColumnsError) as failed:
            plan_of(head, **options)
        assert "seems to be on line" not in str(failed.value)


@pytest.mark.parametrize(
    ("header", "suggestions"),
    [
        ("Item Code,Nom", {"sku": ["Item Code"], "name": ["Nom"]}),  # found by a tester: none was offered
        ("Code;Bezeichnung;Preis", {"sku": ["Code"], "name": ["Bezeichnung"]}),
        ("Référence,Désignation", {"sku": ["Référence"], "name": ["Désignation"]}),
    ],
)
def test_the_likeliest_columns_are_found_by_what_their_words_say(header: str, suggestions: dict[str, list[str]]):
    with pytest.raises(MissingColumnsError) as missing:
        plan_of(header)
    assert missing.value.suggestions == suggestions


def test_a_mapping_naming_headers_the_file_lacks_is_named_in_the_failure_and_short_names_are_not_guessed():
    """Found by a tester: --map "Nope=sku" on a foo,bar file failed with 'Likeliest: for sku, "bar"'
    (a partial match of "bar" in "article number") and did not mention the mapping."""
    data = b"foo,bar\n1,2\n"
    with pytest.raises(MissingColumnsError) as missing:
        sniff(data, file_size=len(data), mapping={"Nope": "sku"})
    assert missing.value.suggestions == {"sku": [], "name": []}
    assert str(missing.value).endswith('The mapping names "Nope", which the file\'s header does not have.')


def test_one_column_is_not_offered_for_two_missing_fields():
    # "Product Nmae" (a typo) looks like name's "product name" and, less, like sku's "product code"
    with pytest.raises(MissingColumnsError) as error:
        plan_of("Product Nmae,Price")

    assert error.value.suggestions == {"sku": [], "name": ["Product Nmae"]}
    assert 'for sku, "Product Nmae"' not in str(error.value)


def test_the_missing_message_stays_short_for_a_wide_header():
    with pytest.raises(MissingColumnsError) as error:
        plan_of(",".join(f"column {i}" for i in range(1000)))

    assert len(str(error.value)) < 1500
    assert "and 985 more" in str(error.value)


# ---- mapping, profile, encoding overrides -------------------------------------------------------------


def test_a_mapping_wins_over_aliases_and_exact_names():
    plan = plan_of("ID,Artikel,Bezeichnung,name,sku", mapping={"Artikel": "sku", "Bezeichnung": "name", "ID": "ignore"})

    assert plan.targets == ("ignore", "sku", "name", "attribute", "attribute")
    assert plan.mapping == {"Artikel": "sku", "Bezeichnung": "name", "ID": "ignore"}


def test_a_mapping_matches_names_folded_and_warns_about_names_the_file_lacks():
    plan = plan_of("Item #,Label", mapping={"item": "sku", "LABEL": "name", "Nope": "brand"})

    assert plan.targets == ("sku", "name")
    assert any('"Nope"' in w for w in plan.warnings)


def test_a_mapping_can_send_a_column_to_attributes():
    plan = plan_of("sku,name,brand", mapping={"brand": "attribute"})

    assert plan.attribute_columns == (("brand", 2),)


def test_a_mapping_that_maps_two_columns_to_one_field_keeps_the_leftmost():
    plan = plan_of("a,b,name", mapping={"b": "sku", "a": "sku"})

    assert plan.targets[:2] == ("sku", "attribute")
    assert plan.warnings


def test_an_invalid_mapping_value_is_refused():
    with pytest.raises(InvalidMappingError, match="'colour'"):
        plan_of("sku,name,x", mapping={"x": "colour"})


def test_saved_mappings_apply_by_header_set_for_uploads_and_by_longest_prefix_for_drops():
    saved = [
        {"id": "m1", "mapping": {"Artikel": "sku", "Titel": "name"}, "headers": ["titel", "ARTIKEL", "Preis"]},
        {"id": "m2", "mapping": {"Artikel": "sku", "Titel": "name", "Preis": "price"}, "prefix": "incoming/acme/"},
        {"id": "m3", "mapping": {"Artikel": "sku", "Titel": "name", "Preis": "ignore"}, "prefix": "incoming/acme/eu/"},
    ]
    head = "Artikel,Titel,Preis\nA,x,1\n"

    upload = plan_of(head, saved_mappings=saved)
    drop = plan_of(head, saved_mappings=saved, drop_key="incoming/acme/eu/feed.csv")
    other = plan_of(head, saved_mappings=saved, drop_key="incoming/acme/feed.csv")

    assert (upload.mapping_id, upload.targets) == ("m1", ("sku", "name", "attribute"))
    assert (drop.mapping_id, drop.targets) == ("m3", ("sku", "name", "ignore"))
    assert (other.mapping_id, other.targets) == ("m2", ("sku", "name", "price"))
    with pytest.raises(MissingColumnsError):
        plan_of(head, saved_mappings=saved, drop_key="incoming/other/feed.csv")


def test_a_drop_finds_its_prefix_mapping_whatever_the_unicode_normal_form():
    """CONTRACT §4: a folder made on a Mac arrives decomposed in the S3 key (u + U+0308), a prefix typed
    in the UI composed (and a prefix saved before normalisation may be either)."""
    saved = [{"id": "composed", "mapping": {"Artikel": "sku", "Titel": "name"}, "prefix": "incoming/M\u00fcller/"},
             {"id": "decomposed", "mapping": {"Artikel": "sku", "Titel": "name"}, "prefix": "incoming/Jos\u0065\u0301/"}]
    head = "Artikel,Titel\nA,x\n"

    assert plan_of(head, saved_mappings=saved, drop_key="incoming/Mu\u0308ller/feed.csv").mapping_id == "composed"
    assert plan_of(head, saved_mappings=saved, drop_key="incoming/M\u00fcller/feed.csv").mapping_id == "composed"
    assert plan_of(head, saved_mappings=saved, drop_key="incoming/Jos\u00e9/feed.csv").mapping_id == "decomposed"


def test_an_explicit_mapping_wins_over_saved_ones():
    saved = [{"id": "m1", "mapping": {"a": "sku", "b": "name"}, "headers": ["a", "b"]}]

    plan = plan_of("a,b", saved_mappings=saved, mapping={"b": "sku", "a": "name"})

    assert (plan.mapping_id, plan.targets) == (None, ("name", "sku"))


def test_unknown_overrides_are_header_errors():
    with pytest.raises(UnknownProfileError):
        plan_of("sku,name", profile="prestashop")
    with pytest.raises(UnknownEncodingError):
        plan_of("sku,name", encoding="ebcdic")


# ---- the plan as stored -------------------------------------------------------------------------------


def test_the_plan_round_trips_through_json_and_stays_small():
    plan = plan_of("Handle,Title,Variant SKU,Status,Published,Color,Color", mapping={"Color": "attribute"})

    stored = json.dumps(plan.to_json())

    assert FilePlan.from_json(json.loads(stored)) == plan
    assert FilePlan.from_json(json.loads(stored)).mapping == plan.mapping
    assert len(stored) < 1000


def test_the_import_carries_at_most_20_warnings_of_at_most_300_characters():
    names = ",".join(f"{'c' * 250}{i % 30}" for i in range(90))
    plan = plan_of(f"sku,name,{names}")

    shown = plan.import_warnings()

    assert len(plan.warnings) == 30
    assert len(shown) == MAX_IMPORT_WARNINGS
    assert all(len(w) <= 300 for w in shown)
    assert shown[-1] == "and 11 more warnings"


# ---- the previous interface ---------------------------------------------------------------------------


def test_resolve_header_and_read_header_still_work():
    data = BOM + b"SKU;Title\r\nA-1;x\r\n"

    plan, offset = read_header(io.BytesIO(data))

    assert plan.delimiter == ";"
    assert offset == 3 + len(b"SKU;Title\r\n")
    assert resolve_header(plan.raw).field_index == plan.field_index


def test_read_header_reads_a_long_header():
    long_header = b"sku,name," + b",".join(b"attr_%04d" % i for i in range(1000))  # ~10 KiB
    stream = io.BytesIO(long_header + b"\n" + catalog(2000))

    plan, offset = read_header(stream)

    assert len(plan.attribute_columns) == 1000
    assert offset == len(long_header) + 1
    assert stream.tell() == offset


@pytest.mark.parametrize(
    ("head", "says"),
    [
        (b"PK\x03\x04\x14\x00\x06\x00" + b"\x00" * 40 + b"[Content_Types].xml", "an Excel workbook (.xlsx)"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 60, "an old Excel workbook (.xls)"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "a PDF document"),
        (b"\x1f\x8b\x08\x00" + b"\x00" * 20, "a gzip archive"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "a PNG image"),
        # found by a tester: these said "not valid UTF-8" or "looks like UTF-16 without a byte order mark"
        (b"7z\xbc\xaf\x27\x1c\x00\x04" + b"\x00" * 30, "a 7-Zip archive"),
        (b"BZh91AY&SY" + b"\x00\xff" * 20, "a bzip2 archive"),
        (b"\xfd7zXZ\x00\x00\x04" + b"\x00" * 20, "an xz archive"),
    ],
)
def test_a_file_that_is_not_text_says_what_it_is_and_how_to_make_a_csv(head: bytes, says: str):
    """A workbook saved under a .csv name failed with "the header is full of NUL characters: the file looks
    like UTF-16…", which sent the user the wrong way (CONTRACT §2: a reason a user can act on)."""
    from product_importer.ingest.errors import NotTextError

    with pytest.raises(NotTextError) as raised:
        sniff(head, file_size=len(head))
    assert str(raised.value).startswith(f"the file is {says}") and ", not CSV text:" in str(raised.value)
    assert ("extract it" if "archive" in says else '"CSV UTF-8"') in str(raised.value)


@pytest.mark.parametrize("data", ["\ufeffsku,name\nA-1,Mug\n".encode("utf-32-le"),
                                  "\ufeffsku,name\nA-1,Mug\n".encode("utf-32-be")])
def test_utf32_text_says_to_save_it_as_utf8(data: bytes):
    """Found by a tester: UTF-32 with its byte order mark was told it "looks like UTF-16 without a byte order
    mark; import it with encoding utf-16", which cannot work."""
    from product_importer.ingest.errors import NotTextError

    with pytest.raises(NotTextError) as raised:
        sniff(data, file_size=len(data))
    assert "UTF-32" in str(raised.value) and "CSV UTF-8" in str(raised.value)


def test_a_header_that_begins_like_bzip2_is_text():
    data = b"BZh,name\nA-1,Mug\n"
    with pytest.raises(Exception) as raised:  # (no sku column: the header check, not "a bzip2 archive")
        sniff(data, file_size=len(data))
    assert "bzip2" not in str(raised.value)


def test_utf16_text_is_not_mistaken_for_a_binary_file():
    data = "\ufeffsku\tname\nA-1\tMug\n".encode("utf-16-le")
    assert sniff(data, file_size=len(data)).encoding == "utf-16"


@pytest.mark.parametrize(("field", "names", "expected"), [
    ("sku", ["Product ID", "Product Description", "price"], ["Product ID"]),  # the shared "product" decided
    ("name", ["sku", "Label", "price"], ["Label"]),
    ("sku", ["Artikel", "Name"], ["Artikel"]),
    ("sku", ["Item Code", "Nom"], ["Item Code"]),
])
def test_the_likeliest_columns_look_past_words_like_product_and_item(field: str, names: list[str],
                                                                     expected: list[str]) -> None:
    """The missing-column message suggested "Product Description" before "Product ID" for sku (by the word
    "product" that aliases such as "product sku" share), and nothing for "Label" or "Artikel"."""
    from product_importer.ingest.candidates import likeliest_columns

    rivals = [f for f in ("sku", "name") if f != field]
    assert likeliest_columns(field, names, rivals=rivals) == expected


@pytest.mark.parametrize("header", ["Item Code,Title,Price", "Kid's \"Ref\" no,Title"])
def test_a_missing_column_message_gives_the_cli_option_that_fixes_it(header: str):
    """Found following the README: the CLI printed 'rename the column or map it with a mapping', which
    names no way to map it there. The message now gives a --map a shell reads back as the fix."""
    import shlex

    from product_importer import cli

    with pytest.raises(MissingColumnsError) as missing:
        plan_of(header + "\n")
    message = str(missing.value)
    assert "the UI's mapping step" in message and "saved mapping" in message
    words = shlex.split(message.split("map it (the UI's mapping step, ")[1].split(" in the CLI")[0])
    parser = cli.build_parser()
    args = parser.parse_args(["import", "f.csv", *words])
    mapping = cli.import_options(args, parser).mapping

    assert mapping is not None
    assert plan_of(header + "\nA-1,Widget\n", mapping=mapping) is not None  # the suggested map imports
