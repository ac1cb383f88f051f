"""The command line against a fake deployment (httpx.MockTransport, CONTRACT §3 shapes): import and its
options, --dry-run (preview), changes, apply, revert; exit codes 0 / 3 / 1 (CONTRACT §7)."""

from __future__ import annotations

import io
import json
import os
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from product_importer import cli
from rich.console import Console

from tests.unit.cli_fakes import API, FakeNetwork, an_import, created, json_reply, uploads_accepted


@pytest.fixture(autouse=True)
def _no_waiting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "POLL_S", 0.0)


@pytest.fixture
def csv(tmp_path: Path) -> Path:
    path = tmp_path / "c.csv"
    path.write_text("sku,name,Colour\nA,a,red\nB,b,blue\n")
    return path


def run(fake: FakeNetwork, *args: str) -> int:
    return cli.main(["--api", API, *args], transport=fake.transport)


def deployment(*states: dict[str, Any], import_id: str = "imp-1") -> FakeNetwork:
    """POST /api/imports creates ``import_id``; its GETs answer ``states`` in turn."""
    fake = FakeNetwork().on("POST", "/api/imports", created(states[0] | {"status": "pending"}))
    fake.on("GET", f"/api/imports/{import_id}", *(json_reply(s) for s in states))
    return uploads_accepted(fake)


# -- import -------------------------------------------------------------------------------------------


def test_import_uploads_the_file_follows_it_and_prints_the_summary(
    csv: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # given an import that is processing at the first poll and completed at the second
    fake = deployment(an_import(status="processing", rows_processed=1), an_import())
    # when the file is imported
    code = run(fake, "import", str(csv))
    # then the file went up as a multipart POST (fields first, a Content-Length), and the summary is printed
    out, err = capsys.readouterr()
    assert code == cli.EXIT_OK
    assert "import imp-1  c.csv" in err
    assert fake.json_sent("POST", "/api/imports") == {"filename": "c.csv", "size": csv.stat().st_size,
                                                      "content_type": "text/csv"}
    [upload] = [s for s in fake.sent if s.host.startswith("uploads.")]
    assert upload.headers["Content-Length"] == str(len(upload.body))
    assert upload.headers["Content-Type"].startswith("multipart/form-data; boundary=")
    assert upload.body.index(b'name="key"') < upload.body.index(b'name="policy"') < upload.body.index(b'name="file"')
    assert csv.read_bytes() in upload.body
    assert "status:     completed" in out
    assert "2 of 2 processed, 2 imported, 0 failed" in out
    assert "2 created, 0 updated, 0 unchanged" in out


def test_import_with_row_errors_exits_3_and_shows_the_first_ones(
    csv: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = deployment(an_import(rows_imported=1, rows_failed=1, products_created=1))
    fake.on("GET", "/api/imports/imp-1/errors", json_reply({"items": [
        {"row": 2, "sku": "B", "column": "price", "message": "not a number", "value": "x"}], "next_cursor": None}))

    assert run(fake, "import", str(csv)) == cli.EXIT_ROW_ERRORS
    out = capsys.readouterr().out
    assert "row 2: price: not a number (value 'x')" in out
    assert f"product-importer errors imp-1 --api {API} > errors.csv" in out


def test_a_row_error_without_a_value_prints_no_python_none(
    csv: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A whole-row error (a wrong field count) has no column and no value: the summary printed '(value None)'."""
    fake = deployment(an_import(rows_imported=1, rows_failed=1, products_created=1))
    fake.on("GET", "/api/imports/imp-1/errors", json_reply({"items": [
        {"row": 3, "sku": None, "column": None, "message": "expected 3 fields, found 1", "value": None}],
        "next_cursor": None}))

    assert run(fake, "import", str(csv)) == cli.EXIT_ROW_ERRORS
    out = capsys.readouterr().out
    assert "  row 3: -: expected 3 fields, found 1\n" in out
    assert "None" not in out


def test_a_failed_import_exits_1_with_the_reason(csv: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fake = deployment(an_import(status="failed", error="the file has no name column"))
    assert run(fake, "import", str(csv)) == cli.EXIT_FAILED
    assert "reason:     the file has no name column" in capsys.readouterr().out


def test_a_file_that_failed_before_any_row_shows_its_reason_without_zero_counts(
    csv: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found following the README: a file refused at its header printed 'rows: 0 of 0 processed, 0 imported'
    and 'products: 0 created, …' under the reason; a file that failed after some rows keeps its counts."""
    fake = deployment(an_import(status="failed", error="missing required column: sku", rows_processed=0,
                                rows_imported=0, products_created=0))
    assert run(fake, "import", str(csv)) == cli.EXIT_FAILED
    out = capsys.readouterr().out
    assert "reason:     missing required column: sku" in out
    assert "rows:" not in out and "products:" not in out

    part_way = deployment(an_import(status="failed", error="a chunk failed 5 times", rows_processed=5000,
                                    rows_total=10000, rows_imported=5000, products_created=5000))
    assert run(part_way, "import", str(csv)) == cli.EXIT_FAILED
    out = capsys.readouterr().out
    assert "rows:       5,000 of 10,000 processed" in out and "products:   5,000 created" in out


def test_a_refused_request_exits_1_with_the_detail(csv: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fake = FakeNetwork().on("POST", "/api/imports", json_reply({"detail": "only .csv files"}, 422))
    assert run(fake, "import", str(csv)) == cli.EXIT_FAILED
    assert "error: only .csv files" in capsys.readouterr().err


@pytest.mark.parametrize("command", [["import", "CSV"], ["status", "imp-1"], ["errors", "imp-1"], ["changes", "imp-1"]])
def test_an_address_that_is_not_the_api_is_named_not_a_traceback(
    csv: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    """--api pointed at the UI (which answers every path with its index.html) crashed with a traceback, and
    ``errors ID > errors.csv`` wrote the page into the file and exited 0."""
    page = httpx.Response(200, text="<!doctype html><html></html>", headers={"Content-Type": "text/html"})

    code = cli.main(["--api", API, *[str(csv) if a == "CSV" else a for a in command]],
                    transport=httpx.MockTransport(lambda request: page))

    captured = capsys.readouterr()
    assert code == cli.EXIT_FAILED
    assert "--api takes the service's address" in captured.err and "Traceback" not in captured.err
    assert "<html" not in captured.out


ERRORS_CSV = "\ufeffrow,sku,column,message,value\r\n4,A-4,name,name is required,\r\n".encode()


def errors_csv_deployment() -> FakeNetwork:
    return FakeNetwork().on("GET", "/api/imports/imp-1/errors.csv", httpx.Response(
        200, content=ERRORS_CSV, headers={"Content-Type": "text/csv; charset=utf-8"}))


def test_errors_to_a_pipe_is_plain_csv_and_to_a_file_keeps_excels_byte_order_mark(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """CONTRACT §7: ``errors ID`` writes the CSV to stdout. Found by an audit: piped into a program (``csv``,
    ``cut``, a test's captured output) its first column was named "\ufeffrow", the API file's byte-order mark
    glued to it. The mark is for Excel, which opens the file that ``errors ID > errors.csv`` writes."""
    read_end, write_end = os.pipe()
    with os.fdopen(write_end, "w") as pipe:
        monkeypatch.setattr(sys, "stdout", pipe)
        assert run(errors_csv_deployment(), "errors", "imp-1") == cli.EXIT_OK
    with os.fdopen(read_end, "rb") as piped:
        assert piped.read() == ERRORS_CSV.removeprefix(b"\xef\xbb\xbf")

    target = tmp_path / "errors.csv"
    with target.open("w") as file:
        monkeypatch.setattr(sys, "stdout", file)
        assert run(errors_csv_deployment(), "errors", "imp-1") == cli.EXIT_OK
    assert target.read_bytes() == ERRORS_CSV


def test_an_unreachable_api_says_so_without_http_0(csv: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    assert cli.main(["--api", API, "status", "imp-1"], transport=httpx.MockTransport(refuse)) == cli.EXIT_FAILED
    err = capsys.readouterr().err
    assert err.startswith("error: cannot reach") and "HTTP 0" not in err


@pytest.mark.parametrize(("api", "hint"), [
    ("http://127.0.0.1:8000", "is the local stack running? start it with `make up`"),
    ("https://importer.example.com", "check the address given with --api"),
])
def test_an_unreachable_api_says_what_to_do(api: str, hint: str, capsys: pytest.CaptureFixture[str]) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    assert cli.main(["--api", api, "status", "imp-1"], transport=httpx.MockTransport(refuse)) == cli.EXIT_FAILED
    assert hint in capsys.readouterr().err


def test_an_api_address_without_its_scheme_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    # httpx refuses the URL before any connection (the real transport, nothing listens anywhere)
    assert cli.main(["--api", "importer.example.com", "status", "imp-1"]) == cli.EXIT_FAILED
    assert "--api takes the service's address with its scheme" in capsys.readouterr().err


def test_the_import_options_go_into_the_request(csv: Path) -> None:
    # given every option of CONTRACT §7
    fake = deployment(an_import())
    # when the file is imported with them
    code = run(fake, "import", str(csv), "--map", "Colour=attribute", "--map", "a=b=name", "--map", "Old=ignore",
               "--profile", "shopify", "--max-errors", "10", "--replace", "--scope", "partner",
               "--max-deactivate", "5")
    # then POST /api/imports carries them as CONTRACT §3 names them
    assert code == cli.EXIT_OK
    body = fake.json_sent("POST", "/api/imports")
    assert body["mapping"] == {"Colour": "attribute", "a=b": "name", "Old": "ignore"}
    assert body["profile"] == "shopify"
    assert body["max_errors"] == 10
    assert body["replace"] == {"scope": "partner", "max_deactivate_percent": 5}
    assert "mode" not in body


@pytest.mark.parametrize("order", ["file first", "file last"])
def test_one_map_takes_several_pairs_as_the_contract_writes_it(csv: Path, order: str) -> None:
    """CONTRACT §7: ``[--map "HEADER=field" ...]``. Found by an audit: ``--map A=sku B=name`` was a usage
    error (exit 2, 'unrecognized arguments: B=name'); only a repeated ``--map`` worked."""
    fake = deployment(an_import())
    pairs = ["--map", "Artikel=sku", "Bez=name", "Old=ignore"]
    args = [str(csv), *pairs] if order == "file first" else [*pairs, str(csv)]
    assert run(fake, "import", *args) == cli.EXIT_OK
    assert fake.json_sent("POST", "/api/imports")["mapping"] == {"Artikel": "sku", "Bez": "name", "Old": "ignore"}


@pytest.mark.parametrize(("given", "sent"), [("12.5", 12.5), ("0", 0), ("100", 100), ("7.0", 7)])
def test_max_deactivate_takes_any_percentage_the_api_takes(csv: Path, given: str, sent: float) -> None:
    """CONTRACT §2: ``max_deactivate_percent`` is 0-100 (the API takes 12.5). Found by an audit:
    ``--max-deactivate 12.5`` was a usage error ('invalid _percent value')."""
    fake = deployment(an_import())
    assert run(fake, "import", str(csv), "--replace", "--max-deactivate", given) == cli.EXIT_OK
    assert fake.json_sent("POST", "/api/imports")["replace"] == {"scope": "all", "max_deactivate_percent": sent}


def test_partner_lets_scope_partner_replace_a_partners_products(csv: Path) -> None:
    """CONTRACT §7: ``--replace`` takes ``--scope all|partner``; §2: scope partner needs a partner (422 without).
    Found by an audit: the CLI could not give one, so ``--scope partner`` always failed."""
    fake = deployment(an_import(partner="acme"))
    assert run(fake, "import", str(csv), "--replace", "--scope", "partner", "--partner", "acme") == cli.EXIT_OK
    body = fake.json_sent("POST", "/api/imports")
    assert body["partner"] == "acme" and body["replace"] == {"scope": "partner"}


def test_import_without_a_file_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    fake = FakeNetwork()
    with pytest.raises(SystemExit) as usage:
        run(fake, "import", "--map", "Artikel=sku")
    assert usage.value.code == 2 and "required: file" in capsys.readouterr().err
    assert fake.sent == []


def test_replace_alone_replaces_everything_with_the_servers_default_cap(csv: Path) -> None:
    fake = deployment(an_import(replace={"scope": "all", "max_deactivate_percent": 20, "status": "done"},
                                products_deactivated=3))
    assert run(fake, "import", str(csv), "--replace") == cli.EXIT_OK
    assert fake.json_sent("POST", "/api/imports")["replace"] == {"scope": "all"}


def test_a_held_replace_says_how_to_carry_it_out(csv: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fake = deployment(an_import(replace={"scope": "all", "max_deactivate_percent": 20, "status": "held"},
                                warnings=["the replace would deactivate 60% of the products in scope"]))
    assert run(fake, "import", str(csv), "--replace") == cli.EXIT_OK
    out = capsys.readouterr().out
    assert "warning:    the replace would deactivate 60%" in out
    assert f"carry it out with `product-importer confirm-replace imp-1 --api {API}`" in out


def test_a_previewed_held_replace_says_to_apply_then_confirm(csv: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # a preview deactivates nothing, so confirm-replace on it is refused (409): the way is apply, then confirm
    fake = preview_deployment(replace={"scope": "partner", "max_deactivate_percent": 20, "status": "held"})
    assert run(fake, "import", str(csv), "--dry-run", "--replace") == cli.EXIT_OK
    out = capsys.readouterr().out
    assert f"apply it (`product-importer apply imp-1 --api {API}`), then confirm" in out
    assert "confirm-replace imp-1" not in out


@pytest.mark.parametrize(
    "args",
    [
        ["--map", "no-equals-sign"],
        ["--map", "=name"],
        ["--scope", "all"],
        ["--max-deactivate", "10"],
        ["--replace", "--max-deactivate", "101"],
        ["--replace", "--max-deactivate", "nan"],
        ["--replace", "--max-deactivate", "-0.5"],
        ["--replace", "--max-deactivate", "ten"],
        ["--profile", "prestashop"],
    ],
)
def test_bad_options_are_refused_before_anything_is_sent(csv: Path, args: list[str]) -> None:
    fake = FakeNetwork()
    with pytest.raises(SystemExit) as usage:
        run(fake, "import", str(csv), *args)
    assert usage.value.code == 2
    assert fake.sent == []


# -- --dry-run -----------------------------------------------------------------------------------------

CHANGES = [
    {"sku": "A", "action": "update", "changes": {"price": {"from": "1.00", "to": "2.00"},
                                                "attributes": {"from": {"Colour": "red"}, "to": {"Colour": "blue"}}}},
    {"sku": "B", "action": "create", "changes": {}},
]
SUMMARY = {"create": 1, "update": 1, "unchanged": 0, "deactivate": 0, "fields": {"price": 1, "attributes": 1}}


def preview_deployment(**fields: Any) -> FakeNetwork:
    previewed = an_import(mode="preview", status="previewed", products_created=1, products_updated=1, **fields)
    fake = deployment(an_import(mode="preview", status="processing"), previewed)
    fake.on("GET", "/api/imports/imp-1/changes/summary", json_reply(SUMMARY))
    fake.on("GET", "/api/imports/imp-1/changes", lambda request: json_reply(
        {"items": [c for c in CHANGES if c["action"] == request.url.params.get("action")], "next_cursor": None}))
    return fake


def test_a_dry_run_previews_and_prints_the_planned_changes_and_how_to_apply(
    csv: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # given a deployment that previews the file
    fake = preview_deployment()
    # when the file is imported with --dry-run
    code = run(fake, "import", str(csv), "--dry-run")
    # then the import was created as a preview, followed to previewed, and its plan printed
    out = capsys.readouterr().out
    assert code == cli.EXIT_OK
    assert fake.json_sent("POST", "/api/imports")["mode"] == "preview"
    assert "status:     previewed" in out
    assert "1 to create, 1 to update, 0 unchanged" in out
    assert "changes:    1 create, 1 update, 0 unchanged, 0 deactivate" in out
    assert "fields:     attributes 1, price 1" in out
    assert "update     A  price: 1.00 → 2.00; attributes: {\"Colour\": \"red\"} → {\"Colour\": \"blue\"}" in out
    assert "create     B" in out
    assert "to apply:   product-importer apply imp-1" in out
    # what would change comes first, by action (unchanged products only when nothing would change)
    changes = [s.params for s in fake.api_calls() if s.path == "/api/imports/imp-1/changes"]
    assert changes == [{"action": "update", "limit": "20"}, {"action": "create", "limit": "19"}]


def test_a_dry_run_shows_the_one_update_among_many_unchanged(csv: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Found by a tester: 1 update among 19,999 unchanged, and the first 20 lines were all 'unchanged'."""
    fake = preview_deployment()
    summary = {"create": 0, "update": 1, "unchanged": 19_999, "deactivate": 0, "fields": {"name": 1}}
    fake.on("GET", "/api/imports/imp-1/changes/summary", json_reply(summary))

    assert run(fake, "import", str(csv), "--dry-run") == cli.EXIT_OK

    out = capsys.readouterr().out
    assert "first changes:\n  update     A" in out and "unchanged  " not in out


def test_a_dry_run_with_row_errors_exits_3(csv: Path) -> None:
    fake = preview_deployment(rows_imported=1, rows_failed=1)
    fake.on("GET", "/api/imports/imp-1/errors", json_reply({"items": [], "next_cursor": None}))
    assert run(fake, "import", str(csv), "--dry-run") == cli.EXIT_ROW_ERRORS


# -- changes ----------------------------------------------------------------------------------------------


def test_changes_prints_the_summary_then_every_page(capsys: pytest.CaptureFixture[str]) -> None:
    pages = iter([{"items": CHANGES[:1], "next_cursor": "c2"}, {"items": CHANGES[1:], "next_cursor": None}])
    fake = FakeNetwork().on("GET", "/api/imports/imp-1/changes/summary", json_reply(SUMMARY))
    fake.on("GET", "/api/imports/imp-1/changes", lambda request: json_reply(next(pages)))

    assert run(fake, "changes", "imp-1", "--action", "update") == cli.EXIT_OK

    out = capsys.readouterr().out.splitlines()
    assert out[0] == "changes:    1 create, 1 update, 0 unchanged, 0 deactivate"
    assert [line.split()[:2] for line in out[2:]] == [["update", "A"], ["create", "B"]]
    params = [s.params for s in fake.api_calls() if s.path.endswith("/changes")]
    assert params == [{"limit": "500", "action": "update"}, {"limit": "500", "action": "update", "cursor": "c2"}]


def test_changes_stops_at_the_limit(capsys: pytest.CaptureFixture[str]) -> None:
    fake = FakeNetwork().on("GET", "/api/imports/imp-1/changes/summary", json_reply(SUMMARY))
    fake.on("GET", "/api/imports/imp-1/changes", json_reply({"items": CHANGES[:1], "next_cursor": "c2"}))
    assert run(fake, "changes", "imp-1", "--limit", "1") == cli.EXIT_OK
    assert [s.params for s in fake.api_calls() if s.path.endswith("/changes")] == [{"limit": "1"}]


# -- apply ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("final", "code"), [
    ({}, cli.EXIT_OK),
    ({"rows_failed": 1, "rows_imported": 1}, cli.EXIT_ROW_ERRORS),
    ({"status": "failed", "error": "a chunk failed 5 times"}, cli.EXIT_FAILED),
])
def test_apply_follows_the_new_import_as_import_does(
    final: dict[str, Any], code: int, capsys: pytest.CaptureFixture[str]
) -> None:
    # given a preview imp-1 whose apply creates imp-2
    applied = an_import("imp-2", preview_of="imp-1", status="processing")
    fake = FakeNetwork().on("POST", "/api/imports/imp-1/apply", json_reply({"import": applied}, 201))
    fake.on("GET", "/api/imports/imp-2", json_reply(applied), json_reply(an_import("imp-2", **final)))
    fake.on("GET", "/api/imports/imp-2/errors", json_reply({"items": [], "next_cursor": None}))
    # when it is applied, then the new import is followed to its end and summarised
    assert run(fake, "apply", "imp-1") == code
    out, err = capsys.readouterr()
    assert "import imp-2  c.csv" in err
    assert f"status:     {final.get('status', 'completed')}" in out


def test_apply_of_an_expired_preview_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    fake = FakeNetwork().on("POST", "/api/imports/imp-1/apply", json_reply({"detail": "preview expired"}, 409))
    assert run(fake, "apply", "imp-1") == cli.EXIT_FAILED
    assert "error: preview expired" in capsys.readouterr().err


# -- revert --------------------------------------------------------------------------------------------------


def reverting(**revert: Any) -> dict[str, Any]:
    state = {"restored": 0, "deleted": 0, "conflicts": 0, "requested_at": "2026-01-02T00:00:00.000Z",
             "status": "running", "previous_status": "completed", **revert}
    return an_import(status="reverting" if state["status"] == "running" else "reverted", revert=state)


def test_revert_follows_it_live_and_prints_restored_deleted_conflicts(capsys: pytest.CaptureFixture[str]) -> None:
    fake = FakeNetwork().on("POST", "/api/imports/imp-1/revert", json_reply({"import": reverting()}, 202))
    fake.on("GET", "/api/imports/imp-1", json_reply(reverting(restored=1)),
            json_reply(reverting(status="done", restored=3, deleted=2)))

    assert run(fake, "revert", "imp-1") == cli.EXIT_OK

    out = capsys.readouterr().out
    assert "revert:     3 restored, 2 deleted, 0 conflicts" in out
    assert [s.method for s in fake.api_calls()] == ["POST", "GET", "GET"]


def test_a_revert_with_conflicts_exits_3_and_names_them(capsys: pytest.CaptureFixture[str]) -> None:
    fake = FakeNetwork().on("POST", "/api/imports/imp-1/revert",
                            json_reply({"import": reverting(status="done", restored=1, conflicts=2)}, 202))
    fake.on("GET", "/api/imports/imp-1/revert/conflicts", json_reply({"items": [
        {"sku": "A", "changed_by": {"import_id": "imp-9"}, "at": "2026-01-03T00:00:00.000Z"},
        {"sku": "B", "changed_by": {"edit": True}, "at": "2026-01-04T00:00:00.000Z"}], "next_cursor": None}))

    assert run(fake, "revert", "imp-1") == cli.EXIT_ROW_ERRORS

    out = capsys.readouterr().out
    assert "1 restored, 0 deleted, 2 conflicts" in out
    assert "A: by import imp-9" in out and "B: by an edit" in out


def test_a_failed_revert_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    failed = an_import(status="completed", revert={"status": "failed", "error": "the database went away",
                                                    "restored": 0, "deleted": 0, "conflicts": 0})
    fake = FakeNetwork().on("POST", "/api/imports/imp-1/revert", json_reply({"import": reverting()}, 202))
    fake.on("GET", "/api/imports/imp-1", json_reply(failed))
    assert run(fake, "revert", "imp-1") == cli.EXIT_FAILED
    assert "reason:     the database went away" in capsys.readouterr().out


def test_a_revert_refused_by_the_api_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    fake = FakeNetwork().on("POST", "/api/imports/imp-1/revert",
                            json_reply({"detail": "undo data expired"}, 409))
    assert run(fake, "revert", "imp-1") == cli.EXIT_FAILED
    assert "error: undo data expired" in capsys.readouterr().err


def test_status_of_a_reverted_import_shows_the_revert(capsys: pytest.CaptureFixture[str]) -> None:
    fake = FakeNetwork().on("GET", "/api/imports/imp-1", json_reply(reverting(status="done", restored=4)))
    assert run(fake, "status", "imp-1") == cli.EXIT_OK
    assert "4 restored" in capsys.readouterr().out


def test_status_json_prints_the_import_object(capsys: pytest.CaptureFixture[str]) -> None:
    fake = FakeNetwork().on("GET", "/api/imports/imp-1", json_reply(an_import()))
    assert run(fake, "status", "imp-1", "--json") == cli.EXIT_OK
    assert json.loads(capsys.readouterr().out)["id"] == "imp-1"


def test_the_network_down_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    assert cli.main(["--api", API, "status", "imp-1"], transport=httpx.MockTransport(refuse)) == cli.EXIT_FAILED
    assert "cannot reach" in capsys.readouterr().err


# -- what a person reads -------------------------------------------------------------------------------------


def test_a_422_reads_as_sentences_not_a_python_dump(csv: Path, capsys: pytest.CaptureFixture[str]) -> None:
    detail = [{"type": "value_error", "loc": ["body", "mapping"], "input": {"Item Code": "skuu"}, "ctx": {"error": {}},
               "msg": "Value error, mapping of 'Item Code': 'skuu' is not a field, 'attribute' or 'ignore'"}]
    fake = FakeNetwork().on("POST", "/api/imports", httpx.Response(422, json={"detail": detail}))

    assert run(fake, "import", str(csv), "--map", "Item Code=skuu") == cli.EXIT_FAILED

    err = capsys.readouterr().err
    assert "error: mapping: mapping of 'Item Code': 'skuu' is not a field, 'attribute' or 'ignore'" in err
    assert "value_error" not in err and "ctx" not in err


def test_giving_up_waiting_is_not_a_failure(csv: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fake = deployment(an_import(status="processing", rows_total=None))

    assert run(fake, "import", str(csv), "--timeout", "0") == cli.EXIT_STILL_RUNNING

    assert f"the import goes on; check with `product-importer status imp-1 --api {API}`" in capsys.readouterr().out


def test_output_into_a_closed_pipe_ends_quietly_with_the_commands_own_code(csv: Path) -> None:
    """`product-importer import --dry-run … | head` exited 1 with a BrokenPipeError traceback."""

    class ClosedPipe(io.StringIO):
        def write(self, text: str) -> int:
            raise BrokenPipeError

    fake = preview_deployment(rows_imported=1, rows_failed=1)
    fake.on("GET", "/api/imports/imp-1/errors", json_reply({"items": [], "next_cursor": None}))
    saved = sys.stdout
    sys.stdout = ClosedPipe()
    try:
        code = run(fake, "import", str(csv), "--dry-run")
    finally:
        sys.stdout = saved
    assert code == cli.EXIT_ROW_ERRORS


def test_ctrl_c_says_the_import_goes_on(csv: Path, capsys: pytest.CaptureFixture[str],
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(*_args: Any, **_kwargs: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "summarise", interrupted)
    fake = deployment(an_import(status="completed"))

    assert run(fake, "import", str(csv)) == cli.EXIT_INTERRUPTED

    assert (f"the import goes on in the service; follow it with `product-importer status imp-1 --api {API}`"
            in capsys.readouterr().err)


def test_ctrl_c_during_the_upload_discards_the_pending_import(csv: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """It said "the import goes on in the service" although nothing was uploaded: the import stayed pending
    until it expired a day later."""
    def interrupted(_request: httpx.Request) -> httpx.Response:
        raise KeyboardInterrupt

    fake = FakeNetwork().on("POST", "/api/imports", created(an_import(status="pending")))
    fake.on("POST", "/", interrupted, host="uploads.s3.eu-west-1.amazonaws.com")
    fake.on("DELETE", "/api/imports/imp-1", httpx.Response(204))

    assert run(fake, "import", str(csv)) == cli.EXIT_INTERRUPTED

    err = capsys.readouterr().err
    assert "nothing was imported; import imp-1 is discarded" in err and "goes on" not in err
    assert [(s.method, s.path) for s in fake.sent][-1] == ("DELETE", "/api/imports/imp-1")


def test_status_of_a_running_revert_is_an_answer_not_a_timeout(capsys: pytest.CaptureFixture[str]) -> None:
    """``status`` waits for nothing, yet on a reverting import it said "gave up waiting" and exited 4."""
    fake = FakeNetwork().on("GET", "/api/imports/imp-1", json_reply(reverting(restored=1)))

    assert run(fake, "status", "imp-1") == cli.EXIT_OK

    out = capsys.readouterr().out
    assert "(revert running)" in out and "1 restored" in out and "gave up" not in out


def test_the_hints_name_the_deployment_given_with_api(csv: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A hint copied from the output must reach the same deployment: it names --api unless it is the default."""
    fake = preview_deployment()
    assert run(fake, "import", str(csv), "--dry-run") == cli.EXIT_OK
    out = capsys.readouterr().out
    assert f"to apply:   product-importer apply imp-1 --api {API}   (to discard: product-importer discard imp-1 --api {API})" in out
    assert cli.Api(cli.DEFAULT_API).command("status", "x") == "product-importer status x"
    assert cli.Api(cli.DEFAULT_API + "/").command("status", "x") == "product-importer status x"


def test_discard_deletes_the_preview(capsys: pytest.CaptureFixture[str]) -> None:
    fake = FakeNetwork().on("DELETE", "/api/imports/pre-1", httpx.Response(204))
    assert run(fake, "discard", "pre-1") == cli.EXIT_OK
    assert [(s.method, s.path) for s in fake.api_calls()] == [("DELETE", "/api/imports/pre-1")]
    assert "discarded pre-1" in capsys.readouterr().out


def test_discard_refused_exits_1_with_the_reason(capsys: pytest.CaptureFixture[str]) -> None:
    fake = FakeNetwork().on("DELETE", "/api/imports/imp-1", json_reply(
        {"detail": "only a previewed or pending import can be discarded"}, 409))
    assert run(fake, "discard", "imp-1") == cli.EXIT_FAILED
    assert "only a previewed or pending import can be discarded" in capsys.readouterr().err


def test_confirm_replace_carries_it_out_and_follows_it(capsys: pytest.CaptureFixture[str]) -> None:
    held = an_import(replace={"scope": "all", "max_deactivate_percent": 20, "status": "held",
                              "confirmed_at": "2026-11-30T10:00:00Z"})
    done = an_import(replace={"scope": "all", "max_deactivate_percent": 20, "status": "done"},
                     products_deactivated=40)
    fake = FakeNetwork().on("POST", "/api/imports/imp-1/replace", json_reply({"import": held}, 202))
    fake.on("GET", "/api/imports/imp-1", json_reply(held), json_reply(done))

    assert run(fake, "confirm-replace", "imp-1") == cli.EXIT_OK

    assert [s.params for s in fake.api_calls() if s.method == "POST"] == [{"confirm": "true"}]
    assert "40 deactivated" in capsys.readouterr().out


def test_confirm_replace_with_nothing_held_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    fake = FakeNetwork().on("POST", "/api/imports/imp-1/replace", json_reply({"detail": "no replace is held"}, 409))
    assert run(fake, "confirm-replace", "imp-1") == cli.EXIT_FAILED
    assert "no replace is held" in capsys.readouterr().err


def test_encoding_overrides_the_detection_as_the_warning_advises(csv: Path) -> None:
    """The import's warning says "import it again with encoding windows-1252": the CLI can."""
    fake = deployment(an_import(encoding="windows-1252"))
    assert run(fake, "import", str(csv), "--encoding", "windows-1252") == cli.EXIT_OK
    assert fake.json_sent("POST", "/api/imports")["encoding"] == "windows-1252"


# -- list and history --------------------------------------------------------------------------------------


def test_list_pages_through_the_imports_with_the_filters_and_prints_whole_ids(
        capsys: pytest.CaptureFixture[str]) -> None:
    long_id = "f" * 32
    first = {"items": [an_import("imp-1", rows_total=3, rows_processed=3, products_created=3)], "next_cursor": "c1"}
    second = {"items": [an_import(long_id, status="failed", partner="Müller GmbH")], "next_cursor": None}
    fake = FakeNetwork().on("GET", "/api/imports", json_reply(first), json_reply(second))

    assert run(fake, "list", "--status", "completed", "--partner", "Müller GmbH", "--limit", "5") == cli.EXIT_OK

    out = capsys.readouterr().out.splitlines()
    assert out[0].split()[:2] == ["id", "status"]
    assert out[1].startswith("imp-1 ") and "3/3" in out[1] and "3 / 0 / 0" in out[1]
    assert out[2].startswith(long_id + " ") and "[partner Müller GmbH]" in out[2]
    params = [call.params for call in fake.api_calls()]
    assert params[0] == {"status": "completed", "partner": "Müller GmbH", "limit": "5"}
    assert params[1] == {"status": "completed", "partner": "Müller GmbH", "limit": "4", "cursor": "c1"}


def test_list_stops_at_its_limit(capsys: pytest.CaptureFixture[str]) -> None:
    page = {"items": [an_import(f"imp-{n}") for n in range(3)], "next_cursor": "more"}
    fake = FakeNetwork().on("GET", "/api/imports", json_reply(page))

    assert run(fake, "list", "--limit", "2", "--json") == cli.EXIT_OK

    assert [i["id"] for i in json.loads(capsys.readouterr().out)] == ["imp-0", "imp-1"]
    assert len(fake.api_calls()) == 1


def test_history_prints_each_change_with_who_made_it(capsys: pytest.CaptureFixture[str]) -> None:
    items = [
        {"import_id": None, "action": "update", "changes": {"price": {"from": "2.00", "to": "3.00"}},
         "at": "2026-12-01T10:00:00.000Z", "reverted": False},
        {"import_id": "imp-2", "action": "update", "changes": {"name": {"from": "a", "to": "b"}},
         "at": "2026-12-01T09:00:00.000Z", "reverted": True},
        {"import_id": "imp-1", "action": "create", "changes": None, "at": "2026-12-01T08:00:00.000Z",
         "reverted": False},
    ]
    # (the fake routes by the decoded path; the request carries A%2F1, which the API reads as one SKU)
    fake = FakeNetwork().on("GET", "/api/products/A/1/history", json_reply({"items": items, "next_cursor": None}))

    assert run(fake, "history", "A/1") == cli.EXIT_OK

    out = capsys.readouterr().out.splitlines()
    assert "edit" in out[0] and "price: 2.00 → 3.00" in out[0]
    assert "import imp-2" in out[1] and "name: a → b" in out[1] and out[1].endswith("(reverted)")
    assert "import imp-1" in out[2] and out[2].rstrip().endswith("create")


def test_the_summary_says_how_the_file_was_read_when_it_was_detected_as_something_else(
    csv: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found following the README: an Excel (Windows-1252) file and a Shopify export were read right, but
    nothing the CLI printed said so; the README points at the import's ``encoding`` and ``profile``."""
    assert run(deployment(an_import(encoding="windows-1252", profile="shopify")), "import", str(csv)) == 0
    assert "read as:    encoding windows-1252, shopify export" in capsys.readouterr().out

    assert run(deployment(an_import()), "import", str(csv)) == 0  # plain UTF-8 CSV: nothing to say
    assert "read as:" not in capsys.readouterr().out


def test_a_refused_import_option_names_the_flag_that_sets_it(csv: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The API's 422 names the body's field ("give 'partner'"), which is not what a CLI user types."""
    refusal = {"detail": "replace scope 'partner' needs a partner: give 'partner', or use scope 'all'"}
    fake = FakeNetwork().on("POST", "/api/imports", json_reply(refusal, 422))

    assert run(fake, "import", str(csv), "--replace", "--scope", "partner") == cli.EXIT_FAILED

    err = capsys.readouterr().err
    assert "give 'partner'" in err and "(on the command line: --partner NAME, --scope all|partner)" in err


def test_the_import_bar_shows_rows_a_second_and_the_time_left() -> None:
    """A 1M-row import runs for minutes: its bar showed rows done and the elapsed time, never how fast it went
    nor how long it had left (found importing a 1M-row catalog on a local stack)."""
    bars = cli.progress_bars()
    [rate] = [c for c in bars.columns if isinstance(c, cli.RateColumn)]
    clock = [100.0]
    timed = cli.Progress(*bars.columns, get_time=lambda: clock[0], disable=True)
    task = timed.add_task("import", total=1_000_000, note="processing")
    assert rate.render(timed.tasks[0]).plain == ""  # nothing known yet
    for done in (0, 20_000, 40_000):
        timed.update(task, completed=done)
        clock[0] += 4.0
    timed.update(task, completed=60_000)
    assert rate.render(timed.tasks[0]).plain == "5,000/s ETA 3:08"
    screen = io.StringIO()  # 80 columns: script's and many terminals' width
    Console(width=80, file=screen, color_system=None).print(timed.make_tasks_table(timed.tasks))
    [line] = screen.getvalue().splitlines()  # one line: the rate and ETA never wrap under the bar
    assert "60000/1000000 processing 5,000/s ETA 3:08" in line
    timed.update(task, completed=1_000_000)
    assert rate.render(timed.tasks[0]).plain == ""  # finished: the elapsed time says the rest


@pytest.mark.parametrize(("command", "method"), [("discard", "DELETE"), ("status", "GET"), ("revert", "POST"),
                                                 ("errors", "GET"), ("confirm-replace", "POST")])
@pytest.mark.parametrize("import_id", ["../products?confirm=true", "abc\r", "..", "a/b#c"])
def test_an_import_id_is_one_path_segment_whatever_it_holds(command: str, method: str, import_id: str,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    """Found by a tester: ``discard '../products?confirm=true'`` sent ``DELETE /api/products?confirm=true`` (every
    product gone, "discarded" printed); an id read with its CR crashed the command with a traceback."""
    sent: list[tuple[str, bytes]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append((request.method, request.url.raw_path))
        return httpx.Response(404, json={"detail": "import not found"})

    code = cli.main(["--api", API, command, import_id], transport=httpx.MockTransport(answer))

    assert code == cli.EXIT_FAILED and "import not found" in capsys.readouterr().err
    assert sent and sent[0][0] == method
    path, _, query = sent[0][1].decode().partition("?")
    assert path.startswith("/api/imports/") and "/products" not in path and query in ("", "confirm=true")
    segment = path.removeprefix("/api/imports/").split("/")[0]
    assert httpx.URL("http://x/" + segment).path != "/" and "\r" not in segment
