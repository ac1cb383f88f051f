"""suggest: what POST /api/mappings/suggest answers — the reading the import will do, from the first bytes."""

from __future__ import annotations

import json

import pytest
from product_importer.ingest import EmptyFileError
from product_importer.ingest.suggest import suggest

from tests.csv_samples import catalog


def test_a_generic_file():
    answer = suggest(b"SKU;Title;Preis;Farbe\nA-1;Lamp;12,50;rot\nA-2;Desk;99;blau\n")

    assert (answer["encoding"], answer["delimiter"], answer["profile"], answer["missing"]) == (
        "utf-8", ";", "generic", [])
    assert answer["columns"] == [
        {"header": "SKU", "field": "sku", "samples": ["A-1", "A-2"]},
        {"header": "Title", "field": "name", "samples": ["Lamp", "Desk"]},
        {"header": "Preis", "field": "attribute", "samples": ["12,50", "99"]},
        {"header": "Farbe", "field": "attribute", "samples": ["rot", "blau"]},
    ]
    json.dumps(answer)


def test_samples_read_excels_text_formulas_as_the_import_does():
    answer = suggest(b'sku,name,barcode\n="QA-0012",Lamp,="0042"\nB-7,Desk,99\n')

    assert [c["samples"] for c in answer["columns"]] == [["QA-0012", "B-7"], ["Lamp", "Desk"], ["0042", "99"]]


def test_missing_columns_are_listed_not_raised():
    answer = suggest(b"Artikelnummer,Bezeichnung,Preis\n1,x,2\n")

    assert answer["missing"] == ["sku", "name"]
    assert [c["field"] for c in answer["columns"]] == ["attribute", "attribute", "attribute"]


def test_a_head_cut_in_the_middle_of_a_line_or_a_quoted_value_gives_no_errors():
    head = catalog(3000)[: 64 * 1024]
    cut_in_quotes = b'sku,name,description\nA,x,"first line\nB,y,"a long quoted value that the cut'

    answer = suggest(head)
    quoted = suggest(cut_in_quotes, truncated=True)

    assert len(head) == 64 * 1024 and answer["missing"] == []
    assert answer["columns"][0]["samples"] == ["SKU-00001", "SKU-00002", "SKU-00003"]
    assert quoted["columns"][0]["samples"] == []
    assert quoted["missing"] == []


def test_a_shopify_export_shows_its_profile_and_both_active_columns():
    head = b"Handle,Title,Variant SKU,Published,Status\ntee,Tee,T-1,TRUE,active\n"

    answer = suggest(head)

    assert answer["profile"] == "shopify"
    assert [c["field"] for c in answer["columns"]] == ["attribute", "name", "sku", "active", "active"]


def test_windows_1252_and_utf16_heads():
    cp = suggest("sku,name\nA,Crème\n".encode("cp1252"))
    u16 = suggest("\ufeffsku\tname\nA\t商品\n".encode("utf-16-le"))

    assert (cp["encoding"], cp["columns"][1]["samples"]) == ("windows-1252", ["Crème"])
    assert (u16["encoding"], u16["delimiter"], u16["columns"][1]["samples"]) == ("utf-16", "\t", ["商品"])


def test_a_saved_mapping_for_the_header_set_applies():
    saved = [{"id": "m1", "mapping": {"Artikel": "sku", "Titel": "name"}, "headers": ["Artikel", "Titel"]}]

    answer = suggest(b"Artikel,Titel\n1,x\n", saved_mappings=saved)

    assert (answer["mapping_id"], answer["missing"]) == ("m1", [])


def test_an_empty_head_is_an_error():
    with pytest.raises(EmptyFileError):
        suggest(b"")
