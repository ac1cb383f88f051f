"""Row errors through the API: JSON pages, and errors.csv — streamed locally, inline or a 303 to S3 in AWS,
safe in a spreadsheet, downloadable under any file name."""

from __future__ import annotations

import csv
import io
import re
import time
from collections.abc import Iterator
from urllib.parse import parse_qs, unquote, urlparse

import pytest
from product_importer.models import ImportStatus

from tests.integration.api_harness import BUCKET, ApiHarness, api_harness


@pytest.fixture
def api(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[ApiHarness]:
    with api_harness(database_url, monkeypatch) as harness:
        yield harness


@pytest.fixture
def aws_api(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[ApiHarness]:
    """As in AWS (not local mode), with a small inline limit so a test file crosses it."""
    with api_harness(database_url, monkeypatch, local_mode=False, errors_csv_inline_max_bytes=20_000) as harness:
        yield harness


def rows_of(content: bytes) -> list[list[str]]:
    text = content.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline="")))


def many_errors(api: ApiHarness, import_id: str, count: int) -> None:
    api.add_row_errors(import_id, [(n, f"SKU-{n}", "price", f"price must be a decimal (row {n})", "=1+2")
                                   for n in range(1, count + 1)])


def test_row_errors_page_by_row_with_a_cursor(api: ApiHarness) -> None:
    import_id = api.put_import(status=ImportStatus.COMPLETED)
    api.add_row_errors(import_id, [(9, "E", "price", "bad", "x"), (1, "A", "sku", "sku is required", ""),
                                   (3, "B", "price", "bad", "-1"), (3, "B", "quantity", "bad", "-2"),
                                   (7, None, None, "wrong number of fields", None)])
    api.add_row_errors("another", [(2, "Z", "name", "other", "")])

    pages = []
    cursor = None
    while True:
        page = api.client.get(f"/api/imports/{import_id}/errors",
                              params={"limit": 2, **({"cursor": cursor} if cursor else {})}).json()
        pages.append(page)
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert pages[0]["items"][0] == {"row": 1, "sku": "A", "column": "sku", "message": "sku is required", "value": ""}
    assert [(e["row"], e["column"]) for p in pages for e in p["items"]] == [
        (1, "sku"), (3, "price"), (3, "quantity"), (7, None), (9, "price")]
    for bad in ("bm9wZQ==", "%%%", "OTk5OTk5OTk5OTk5OTk5OTk5OTk6MQ=="):
        assert api.client.get(f"/api/imports/{import_id}/errors", params={"cursor": bad}).status_code == 400


def test_errors_csv_neutralises_formulas_for_spreadsheets(api: ApiHarness) -> None:
    import_id = api.put_import(status=ImportStatus.COMPLETED, filename="spring.csv")
    dangerous = ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\tTAB", "\rCR"]
    api.add_row_errors(import_id, [(i + 1, cell, "price", f"message {cell}", cell) for i, cell in enumerate(dangerous)])
    api.add_row_errors(import_id, [(50, "SAFE-1", "name", "plain = fine", "a-b")])

    response = api.client.get(f"/api/imports/{import_id}/errors.csv")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert 'filename="spring-errors.csv"' in response.headers["content-disposition"]
    rows = rows_of(response.content)
    assert rows[0] == ["row", "sku", "column", "message", "value"]
    for row, cell in zip(rows[1:], dangerous, strict=False):
        assert row[1] == "'" + cell and row[4] == "'" + cell
        assert row[3] == f"message {cell}"
    assert rows[-1] == ["50", "SAFE-1", "name", "plain = fine", "a-b"]
    assert len(rows) == 1 + len(dangerous) + 1


def test_locally_errors_csv_streams(api: ApiHarness) -> None:
    import_id = api.put_import(status=ImportStatus.COMPLETED)
    many_errors(api, import_id, 3000)

    response = api.client.get(f"/api/imports/{import_id}/errors.csv")

    assert response.status_code == 200
    assert "content-length" not in response.headers  # a stream, not one buffered body
    rows = rows_of(response.content)
    assert len(rows) == 3001 and rows[-1][0] == "3000" and rows[-1][4] == "'=1+2"


NAMES = {
    "Каталог.csv": "Каталог-errors.csv",
    "商品.csv": "商品-errors.csv",
    "prix été 2026.CSV": "prix été 2026-errors.csv",
    "🚀 launch.csv": "🚀 launch-errors.csv",
    "evil\r\nSet-Cookie: x=1.csv": "evilSet-Cookie: x=1-errors.csv",
    "nul\x00byte.csv": "nulbyte-errors.csv",
    'quote"and\\back;slash.csv': 'quote"and_back;slash-errors.csv',
    "100% 'sure'.csv": "100% 'sure'-errors.csv",
}


@pytest.mark.parametrize("filename", list(NAMES))
def test_errors_csv_downloads_under_any_file_name(api: ApiHarness, filename: str) -> None:
    # given an import with that name: created through the API, or (control characters, which the API
    # refuses in a filename) a partner drop, whose S3 key may hold them
    if any(ord(ch) < 32 for ch in filename):
        import_id = api.put_import(status=ImportStatus.COMPLETED, filename=filename)
    else:
        created = api.client.post("/api/imports", json={"filename": filename})
        assert created.status_code == 201, created.text
        import_id = created.json()["import"]["id"]
    api.add_row_errors(import_id, [(1, "A", "sku", "bad", "")])
    # when its errors are downloaded
    response = api.client.get(f"/api/imports/{import_id}/errors.csv")
    # then the header is plain ASCII, with a quoted fallback and the exact name in filename*
    assert response.status_code == 200
    header = response.headers["content-disposition"]
    assert header.isascii() and "\r" not in header and "\n" not in header and "\x00" not in header
    match = re.fullmatch(r'attachment; filename="([^"\\]*)"; filename\*=UTF-8\'\'([A-Za-z0-9!#$&+\-.^_`|~%]+)', header)
    assert match, header
    assert unquote(match.group(2), encoding="utf-8", errors="strict") == NAMES[filename]
    assert match.group(1).endswith(".csv")
    assert rows_of(response.content)[1][0] == "1"


def test_in_aws_a_small_errors_csv_is_the_response(aws_api: ApiHarness) -> None:
    import_id = aws_api.put_import(status=ImportStatus.COMPLETED, filename="Каталог.csv")
    many_errors(aws_api, import_id, 10)

    response = aws_api.client.get(f"/api/imports/{import_id}/errors.csv", follow_redirects=False)

    assert response.status_code == 200
    assert int(response.headers["content-length"]) == len(response.content) <= 20_000
    assert len(rows_of(response.content)) == 11
    assert "filename*=UTF-8''%D0%9A" in response.headers["content-disposition"]


def test_in_aws_a_larger_errors_csv_is_written_to_s3_and_answered_with_a_303(aws_api: ApiHarness) -> None:
    # given more errors than the inline limit holds
    import_id = aws_api.put_import(status=ImportStatus.COMPLETED, filename="商品.csv")
    many_errors(aws_api, import_id, 2000)
    # when errors.csv is asked for
    response = aws_api.client.get(f"/api/imports/{import_id}/errors.csv", follow_redirects=False)
    # then the answer is a redirect to a short-lived presigned GET that names the download
    assert response.status_code == 303, response.text
    location = urlparse(response.headers["location"])
    query = parse_qs(location.query)
    key = unquote(location.path.removeprefix(f"/{BUCKET}/")) if location.path.startswith(f"/{BUCKET}/") \
        else unquote(location.path.lstrip("/"))
    assert key.startswith(f"exports/{import_id}/") and key.endswith(".csv")
    if "X-Amz-Expires" in query:
        assert int(query["X-Amz-Expires"][0]) <= 300
    else:
        assert 0 < int(query["Expires"][0]) - time.time() <= 305
    assert "商品-errors.csv" in unquote(query["response-content-disposition"][0])
    # and the object holds the whole CSV, as the local stream would give it
    body = aws_api.s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    rows = rows_of(body)
    assert len(rows) == 2001
    assert rows[1] == ["1", "SKU-1", "price", "price must be a decimal (row 1)", "'=1+2"]
    assert rows[-1][0] == "2000"


@pytest.fixture
def aws_api_default_limit(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[ApiHarness]:
    """As in AWS, with the inline limit as deployed (CONTRACT §3: 5 MB)."""
    with api_harness(database_url, monkeypatch, local_mode=False) as harness:
        yield harness


def test_in_aws_an_errors_csv_under_5_mb_that_outgrows_a_lambda_response_once_escaped_goes_to_s3(
    aws_api_default_limit: ApiHarness,
) -> None:
    # given a Russian catalog's row errors: ~4.3 MB of CSV, but each Cyrillic letter (2 bytes) is 6 once the
    # Lambda runtime writes the body as an ASCII JSON string: ~12 MB, over Lambda's 6 MB (a 500 in AWS)
    api = aws_api_default_limit
    import_id = api.put_import(status=ImportStatus.COMPLETED, filename="каталог.csv")
    value = "Цена указана неверно " * 9  # 189 characters, under the 200 a row error keeps
    api.add_row_errors(import_id, [(n, f"АРТ-{n}", "price", "price must be a decimal", value)
                                   for n in range(1, 10_001)])
    # when errors.csv is asked for
    response = api.client.get(f"/api/imports/{import_id}/errors.csv", follow_redirects=False)
    # then it is written to S3 and answered with a 303, whole
    assert response.status_code == 303, len(response.content)
    key = unquote(urlparse(response.headers["location"]).path.lstrip("/")).removeprefix(f"{BUCKET}/")
    body = api.s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    assert len(body) < 5_000_000
    rows = rows_of(body)
    assert len(rows) == 10_001 and rows[-1][:2] == ["10000", "АРТ-10000"]
