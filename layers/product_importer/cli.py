"""``product-importer``: import a CSV through the API with live progress, preview it first, apply or revert
an import, check one, fetch its row errors or its changes (CONTRACT §7); list the imports, show a product's
history.

Exit codes: 0 completed (or previewed, or reverted) without row errors or conflicts, 3 with row errors
(a revert: with conflicts), 1 failed (or the API refused the request), 4 still running when ``--timeout``
ran out (the import goes on), 130 interrupted (Ctrl-C; the import goes on too).

Deployments with sign-in want a Cognito access token: ``--token`` or ``PRODUCT_IMPORTER_TOKEN`` is sent as
``Authorization: Bearer …`` on every API call (never to the presigned upload, which carries its own signature).

HTTP is httpx, progress bars are rich (the ``cli`` extra; the Lambda layer does not need them).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import mimetypes
import os
import re
import stat
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, BinaryIO, TextIO, cast
from urllib.parse import quote

try:
    import httpx
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        MofNCompleteColumn,
        Progress,
        ProgressColumn,
        Task,
        TaskID,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TransferSpeedColumn,
    )
    from rich.table import Column
    from rich.text import Text
except ImportError as missing:  # pragma: no cover - the console script without the extra
    raise SystemExit(f"product-importer needs the cli extra ({missing.name} is missing): "
                     "pip install 'product-importer[cli]'") from missing

DEFAULT_API = os.environ.get("PRODUCT_IMPORTER_API", "http://127.0.0.1:8000")
TOKEN_ENV = "PRODUCT_IMPORTER_TOKEN"
EXIT_OK, EXIT_FAILED, EXIT_ROW_ERRORS, EXIT_STILL_RUNNING, EXIT_INTERRUPTED = 0, 1, 3, 4, 130
PROFILES = ("generic", "shopify", "woocommerce", "magento")
ACTIONS = ("create", "update", "unchanged", "deactivate")
FINISHED = ("completed", "failed", "previewed", "reverted")
STATUSES = ("pending", "processing", "completed", "failed", "previewed", "reverting", "reverted")
POLL_S = 0.25



def _segment(value: object) -> str:
    """``value`` as one path segment: percent-encoded, so an id is never read as a path or a query (found by a
    tester: ``discard '../products?confirm=true'`` sent ``DELETE /api/products?confirm=true`` and emptied the
    catalog; an id read with its CR crashed the command)."""
    segment = quote(str(value), safe="")
    return segment.replace(".", "%2E") if segment in (".", "..") else segment  # (a dot segment is resolved away)

class ApiError(Exception):
    def __init__(self, status: int, detail: Any) -> None:
        self.status = status
        self.detail = detail
        super().__init__(f"HTTP {status}: {detail}")


# -- HTTP -------------------------------------------------------------------------------------------


@dataclass
class Api:
    """One deployment's API: base URL and, where sign-in is on, the bearer token. ``transport`` replaces
    the network (tests: ``httpx.MockTransport``)."""

    base: str
    token: str | None = None
    transport: httpx.BaseTransport | None = None
    _client: httpx.Client | None = field(default=None, init=False, repr=False)
    following: str | None = field(default=None, init=False)  # the import being followed (for Ctrl-C)
    discarded: bool = field(default=False, init=False)  # Ctrl-C during the upload discarded the import

    @property
    def client(self) -> httpx.Client:
        if self._client is None:
            self._client = httpx.Client(transport=self.transport, timeout=60, follow_redirects=True)
        return self._client

    def call(self, method: str, path: str, body: Any = None, *, params: dict[str, Any] | None = None) -> Any:
        headers = {"Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        url = f"{self.base.rstrip('/')}{path}"
        try:
            reply = self.client.request(method, url, json=body, params=params, headers=headers)
        except httpx.HTTPError as exc:
            raise ApiError(0, f"cannot reach {url}: {exc}{self._unreachable_hint(exc)}") from exc
        content_type = reply.headers.get("Content-Type", "")
        if reply.status_code >= 400:
            detail = _detail(reply)
            if reply.status_code == 401:
                hint = "the API wants a valid token: --token or PRODUCT_IMPORTER_TOKEN (it may have expired)"
                detail = f"{detail} ({hint})"
            elif "json" not in content_type:  # our API answers every error in JSON
                detail = f"{str(detail)[:200]} ({self._not_the_api(url)})"
            raise ApiError(reply.status_code, detail)
        if "json" in content_type and reply.content:
            return reply.json()
        if not reply.content or content_type.startswith("text/csv") or (
                path.endswith(".csv") and "html" not in content_type):  # 204; errors.csv (inline, or from S3)
            return reply.content
        raise ApiError(reply.status_code, f"{url} answered {content_type or 'something'} where the API answers "
                                          f"JSON ({self._not_the_api(url)})")

    def command(self, *words: str) -> str:
        """The command line that does ``words`` on this deployment (``--api`` when it is not the default),
        for the hints the CLI prints. The token is never written out."""
        api = f" --api {self.base}" if self.base.rstrip("/") != DEFAULT_API.rstrip("/") else ""
        return "product-importer " + " ".join(words) + api  # every command takes --api after its words

    def _unreachable_hint(self, exc: httpx.HTTPError) -> str:
        """What to do when nothing answered: start the local stack, or name the deployment."""
        if isinstance(exc, httpx.UnsupportedProtocol):
            return " (--api takes the service's address with its scheme, like http://127.0.0.1:8000)"
        if isinstance(exc, httpx.ConnectError):
            local = httpx.URL(self.base).host in ("127.0.0.1", "localhost", "::1")
            return (" (is the local stack running? start it with `make up`, or give another address with --api)"
                    if local else " (check the address given with --api or PRODUCT_IMPORTER_API)")
        return ""

    def _not_the_api(self, url: str) -> str:
        return (f"is {self.base} the Product Importer service? --api takes the service's address, like "
                "http://127.0.0.1:8000, without /api")

    def upload(self, spec: dict[str, Any], path: Path, progress: Progress) -> None:
        """The presigned multipart POST, streamed from disk, with the bytes-sent bar. No Authorization
        header: the presigned POST is authorised by its own signed fields."""
        fields = dict(spec["fields"])
        content_type = fields.get("Content-Type") or mimetypes.guess_type(path.name)[0] or "text/csv"
        size = path.stat().st_size
        task = progress.add_task("upload", total=size)
        with path.open("rb") as handle:
            body = cast(IO[bytes], _ReadProgress(handle, progress, task))
            try:
                reply = self.client.post(spec["url"], data=fields, files={"file": (path.name, body, content_type)},
                                         timeout=600)
            except httpx.HTTPError as exc:
                raise ApiError(0, f"upload failed: {exc}") from exc
        progress.update(task, completed=size)
        if reply.status_code >= 300:
            raise ApiError(reply.status_code, f"upload refused by storage: {reply.text[:300]}")


def _detail(reply: httpx.Response) -> Any:
    try:
        body = reply.json()
    except ValueError:
        return reply.text
    detail = body.get("detail", reply.text) if isinstance(body, dict) else reply.text
    return readable(detail)


def readable(detail: Any) -> Any:
    """A 422's list of field errors (FastAPI's ``[{"loc", "msg", …}]``) as lines a person reads:
    ``mapping: mapping of 'Item Code': 'skuu' is not a field, 'attribute' or 'ignore'``."""
    if not isinstance(detail, list) or not all(isinstance(item, dict) for item in detail):
        return detail
    lines = []
    for item in detail:
        where = ".".join(str(part) for part in item.get("loc") or () if part not in ("body", "query", "path"))
        message = str(item.get("msg", "")).removeprefix("Value error, ")
        lines.append(f"{where}: {message}" if where else message)
    return "\n".join(lines)


class _ReadProgress:
    """A binary file whose reads move a progress bar (httpx streams multipart files in 64 KiB reads and
    takes the length from ``fileno``, so the POST has a Content-Length, as S3 wants)."""

    def __init__(self, handle: BinaryIO, progress: Progress, task: TaskID) -> None:
        self._handle, self._progress, self._task = handle, progress, task

    def read(self, size: int = -1) -> bytes:
        block = self._handle.read(size)
        self._progress.update(self._task, completed=self._handle.tell())
        return block

    def fileno(self) -> int:
        return self._handle.fileno()

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        return self._handle.seek(offset, whence)

    def tell(self) -> int:
        return self._handle.tell()


# -- progress bars ------------------------------------------------------------------------------------


class RateColumn(ProgressColumn):
    """Rows (or products) a second and the time left, from rich's estimate over the last 30 s: a 1M-row
    import runs for minutes, and the bar alone told neither how fast nor how long. Blank until known."""

    def render(self, task: Task) -> Text:
        speed = task.speed
        if task.finished or not speed:
            return Text("")
        rate = f"{speed:,.0f}/s"
        left = task.time_remaining
        if left is None:
            return Text(rate, style="progress.data.speed")
        minutes, seconds = divmod(int(left + 0.5), 60)
        hours, minutes = divmod(minutes, 60)
        eta = f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"
        return Text(f"{rate} ETA {eta}", style="progress.data.speed")


def progress_bars(bytes_: bool = False) -> Progress:
    """Bars on stderr (stdout stays the summary, for scripts)."""
    columns: list[Any] = [TextColumn("{task.description:<9}"), BarColumn(), TaskProgressColumn()]
    whole = Column(no_wrap=True)  # in an 80-column terminal the bar shrinks; counts, rate and ETA stay whole
    columns += [DownloadColumn(), TransferSpeedColumn()] if bytes_ else [
        MofNCompleteColumn(table_column=whole), TextColumn("{task.fields[note]}"), RateColumn(table_column=whole)]
    columns.append(TimeElapsedColumn())
    return Progress(*columns, console=Console(stderr=True), transient=False)


# -- importing and following --------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportOptions:
    """What ``POST /api/imports`` may carry besides the file (CONTRACT §3)."""

    dry_run: bool = False
    mapping: dict[str, str] | None = None
    profile: str | None = None
    max_errors: int | None = None
    replace: dict[str, Any] | None = None
    encoding: str | None = None
    partner: str | None = None

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {}
        if self.dry_run:
            body["mode"] = "preview"
        if self.mapping:
            body["mapping"] = self.mapping
        if self.profile:
            body["profile"] = self.profile
        if self.encoding:
            body["encoding"] = self.encoding
        if self.max_errors is not None:
            body["max_errors"] = self.max_errors
        if self.replace is not None:
            body["replace"] = self.replace
        if self.partner is not None:
            body["partner"] = self.partner
        return body


def discard_unsent(api: Api, import_id: str) -> None:
    """Ctrl-C during the upload: the file never arrived, so the pending import is discarded (CONTRACT §3
    allows DELETE on a pending import) rather than left waiting to expire."""
    api.following = None
    try:
        api.call("DELETE", f"/api/imports/{_segment(import_id)}")
        api.discarded = True
        print(f"\ninterrupted during the upload: nothing was imported; import {import_id} is discarded",
              file=sys.stderr)
    except ApiError:  # the upload finished meanwhile (the import started), or the API cannot be reached
        api.following = import_id


def import_file(api: Api, path: Path, timeout_s: float, options: ImportOptions | None = None,
                out: TextIO | None = None) -> int:
    options = options or ImportOptions()
    out = out or sys.stdout
    created = api.call("POST", "/api/imports", {"filename": path.name, "size": path.stat().st_size,
                                                "content_type": "text/csv", **options.body()})
    imp = created["import"]
    api.following = imp["id"]
    print(f"import {imp['id']}  {path.name}", file=sys.stderr)
    with progress_bars(bytes_=True) as bars:
        try:
            api.upload(created["upload"], path, bars)
        except KeyboardInterrupt:
            discard_unsent(api, imp["id"])
            raise
    final = follow(api, imp["id"], timeout_s)
    code = summarise(api, final, out)
    if final.get("status") == "previewed":
        show_preview(api, final, out)
    return code


def follow(api: Api, import_id: str, timeout_s: float, *, until: tuple[str, ...] = FINISHED) -> dict[str, Any]:
    """Poll the import until its status is one of ``until`` (or the time is up), with a rows bar."""
    deadline = time.monotonic() + timeout_s
    imp: dict[str, Any] = {}
    api.following = import_id
    with progress_bars() as bars:
        task = bars.add_task("import", total=None, note="")
        while True:  # read at least once, whatever the timeout
            imp = api.call("GET", f"/api/imports/{_segment(import_id)}")
            bars.update(task, completed=int(imp.get("rows_processed") or 0), total=imp.get("rows_total"),
                        note=_note(imp))
            if imp["status"] in until or time.monotonic() >= deadline:
                break
            time.sleep(POLL_S)
    return imp


def _note(imp: dict[str, Any]) -> str:
    """The bar's note: the status, or what a replace is doing once every row is in (it deactivates for a
    while after the last row: at 1M products the bar sat at 100% for a minute and a half, saying nothing)."""
    rows_total = imp.get("rows_total")
    if (imp.get("status") == "processing" and imp.get("replace") and rows_total
            and int(imp.get("rows_processed") or 0) >= int(rows_total)):
        return f"replacing: {int(imp.get('products_deactivated') or 0):,} deactivated"
    return str(imp.get("status"))


def summarise(api: Api, imp: dict[str, Any], out: TextIO | None = None) -> int:
    out = out or sys.stdout
    status = imp.get("status")
    preview = status == "previewed"
    print(f"status:     {status}", file=out)
    if status == "failed":
        print(f"reason:     {imp.get('error')}", file=out)
    read_as = [f"encoding {imp['encoding']}" if imp.get("encoding") not in (None, "utf-8") else "",
               f"{imp['profile']} export" if imp.get("profile") not in (None, "generic") else ""]
    if any(read_as):  # what was detected, when it is not plain UTF-8 CSV (CONTRACT §1: the import shows which)
        print(f"read as:    {', '.join(r for r in read_as if r)}", file=out)
    skipped = f", {imp['rows_skipped']:,} skipped" if imp.get("rows_skipped") else ""
    imported = "valid" if preview else "imported"
    deactivated = imp.get("products_deactivated") or 0
    deactivate = "to deactivate" if preview else "deactivated"
    tail = f", {deactivated:,} {deactivate}" if deactivated or imp.get("replace") else ""
    rows = (f"rows:       {imp.get('rows_processed', 0):,} of {imp.get('rows_total') or 0:,} processed, "
            f"{imp.get('rows_imported', 0):,} {imported}, {imp.get('rows_failed', 0):,} failed{skipped}")
    if status == "failed" and not imp.get("rows_processed"):
        pass  # the file failed before any row was read: "0 of 0 processed, 0 created" only hid the reason
    elif preview:
        print(rows, file=out)
        print(f"products:   {imp.get('products_created', 0):,} to create, {imp.get('products_updated', 0):,} "
              f"to update, {imp.get('products_unchanged', 0):,} unchanged{tail} (nothing written yet)", file=out)
    else:
        print(rows, file=out)
        print(f"products:   {imp.get('products_created', 0):,} created, {imp.get('products_updated', 0):,} "
              f"updated, {imp.get('products_unchanged', 0):,} unchanged{tail}", file=out)
    for warning in imp.get("warnings") or []:
        print(f"warning:    {warning}", file=out)
    replace = imp.get("replace") or {}
    if replace.get("status") == "held":
        cap = f"replace:    held (over {replace.get('max_deactivate_percent')}% of the products in scope); "
        if imp.get("status") == "previewed":  # a preview deactivates nothing: its apply is what is held
            print(cap + f"apply it (`{api.command('apply', imp['id'])}`), then confirm the replace of the "
                  "import that creates", file=out)
        else:
            print(cap + f"carry it out with `{api.command('confirm-replace', imp['id'])}`", file=out)
    if imp.get("rows_failed"):
        errors = api.call("GET", f"/api/imports/{_segment(imp['id'])}/errors", params={"limit": 10})["items"]
        print("first row errors:", file=out)
        for e in errors:
            value = "" if e.get("value") is None else f" (value {e['value']!r})"  # a whole-row error has none
            print(f"  row {e['row']}: {e['column'] or '-'}: {e['message']}{value}", file=out)
        print(f"all of them: {api.command('errors', imp['id'])} > errors.csv", file=out)
    if status in ("completed", "previewed"):
        return EXIT_ROW_ERRORS if imp.get("rows_failed") else EXIT_OK
    if status != "failed":
        print(f"gave up waiting (the import goes on; check with `{api.command('status', str(imp.get('id')))}`)",
              file=out)
        return EXIT_STILL_RUNNING
    return EXIT_FAILED


def show_preview(api: Api, imp: dict[str, Any], out: TextIO, first: int = 20) -> None:
    """What the preview plans: the changed-field counts, the first changes, and how to apply."""
    summary = api.call("GET", f"/api/imports/{_segment(imp['id'])}/changes/summary")
    print_change_summary(summary, out)
    # What would change first (updates, creates, deactivations), unchanged products only when nothing would.
    changing = [a for a in ("update", "create", "deactivate") if summary.get(a)] or \
        (["unchanged"] if summary.get("unchanged") else [])
    items: list[dict[str, Any]] = []
    for action in changing:
        if len(items) < first:
            page = api.call("GET", f"/api/imports/{_segment(imp['id'])}/changes",
                            params={"action": action, "limit": first - len(items)})
            items += page["items"]
    total = sum(int(summary.get(a) or 0) for a in changing)
    if items:
        more = f" ({len(items):,} of {total:,}; all of them: {api.command('changes', imp['id'])})" \
            if total > len(items) else ""
        print(f"first changes{more}:", file=out)
        for change in items:
            print(f"  {format_change(change)}", file=out)
    print(f"to apply:   {api.command('apply', imp['id'])}   (to discard: {api.command('discard', imp['id'])})",
          file=out)


def print_change_summary(summary: dict[str, Any], out: TextIO) -> None:
    counts = ", ".join(f"{summary.get(action, 0):,} {action}" for action in ACTIONS)
    print(f"changes:    {counts}", file=out)
    fields = sorted((summary.get("fields") or {}).items(), key=lambda kv: (-kv[1], kv[0]))
    if fields:
        print("fields:     " + ", ".join(f"{name} {count:,}" for name, count in fields), file=out)


def format_change(change: dict[str, Any]) -> str:
    fields = change.get("changes") or {}
    diff = "; ".join(f"{name}: {_value(d.get('from'))} → {_value(d.get('to'))}" for name, d in fields.items())
    return f"{change['action']:<10} {change['sku']}" + (f"  {diff}" if diff else "")


def _value(value: Any) -> str:
    if value is None:
        return "∅"
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "…"


# -- commands ------------------------------------------------------------------------------------------


def _api(args: argparse.Namespace, transport: httpx.BaseTransport | None = None) -> Api:
    return Api(args.api, args.token or None, transport)


def _import_file(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    """CONTRACT §7 writes ``[--map "HEADER=field" ...]``: one ``--map`` takes several pairs, so in
    ``import --map A=sku B=name catalog.csv`` the file is the last of ``--map``'s values. It is taken back
    when no file came otherwise and that value is no ``HEADER=field`` pair (or is a file). Exit 2 without one."""
    if args.file is None and args.map and ("=" not in args.map[-1] or Path(args.map[-1]).is_file()):
        args.file = args.map.pop()
    if args.file is None:
        parser.error("import: the following arguments are required: file")


def import_options(args: argparse.Namespace, parser: argparse.ArgumentParser) -> ImportOptions:
    mapping: dict[str, str] = {}
    for item in args.map or []:
        header, sep, target = item.rpartition("=")
        if not sep or not header.strip() or not target.strip():
            parser.error(f'--map wants "HEADER=field" (or =attribute / =ignore), got {item!r}')
        mapping[header.strip()] = target.strip()
    if not args.replace and (args.scope is not None or args.max_deactivate is not None):
        parser.error("--scope and --max-deactivate go with --replace")
    replace = None
    if args.replace:
        replace = {"scope": args.scope or "all"}
        if args.max_deactivate is not None:
            replace["max_deactivate_percent"] = args.max_deactivate
    return ImportOptions(dry_run=args.dry_run, mapping=mapping or None, profile=args.profile,
                         max_errors=args.max_errors, replace=replace, encoding=args.encoding, partner=args.partner)


# The options of POST /api/imports (CONTRACT §3) and the flags of ``import`` that set them: a 422 about one
# names the flag too (the API's words name the body's field: "give 'partner'").
IMPORT_FLAGS = {"partner": "--partner NAME", "max_errors": "--max-errors N", "mapping": "--map HEADER=field",
                "profile": "--profile P", "encoding": "--encoding NAME", "max_deactivate_percent": "--max-deactivate P",
                "scope": "--scope all|partner"}


def cmd_import(args: argparse.Namespace, api: Api) -> int:
    path = Path(args.file)
    if not path.is_file():
        print(f"error: {path} is not a file", file=sys.stderr)
        return EXIT_FAILED
    try:
        return import_file(api, path, args.timeout, args.options)
    except ApiError as exc:
        flags = [flag for field, flag in IMPORT_FLAGS.items() if exc.status == 422
                 and re.search(rf"\b{field}\b", str(exc.detail))]
        if not flags:
            raise
        raise ApiError(exc.status, f"{exc.detail}\n(on the command line: {', '.join(flags)})") from exc


def cmd_status(args: argparse.Namespace, api: Api) -> int:
    imp = api.call("GET", f"/api/imports/{_segment(args.id)}")
    if args.json:
        print(json.dumps(imp, indent=2))
        return EXIT_OK
    print(f"import:     {imp['id']}  {imp['filename']} ({imp['source']})")
    if imp["status"] in ("completed", "failed", "previewed"):
        return summarise(api, imp)
    if imp["status"] in ("reverting", "reverted"):
        return summarise_revert(api, imp, waited=False)
    return _progress_line(imp)


def _progress_line(imp: dict[str, Any]) -> int:
    print(f"status:     {imp['status']}  {imp.get('rows_processed', 0):,}/{imp.get('rows_total') or '?'} rows, "
          f"{imp.get('chunks_done', 0)}/{imp.get('chunks_total') or '?'} chunks")
    return EXIT_OK


UTF8_BOM = b"\xef\xbb\xbf"


def cmd_errors(args: argparse.Namespace, api: Api) -> int:
    """The row errors as CSV on stdout. The API's file starts with a UTF-8 byte-order mark, which Excel needs
    to read it as UTF-8: it is kept where stdout is a file (``errors ID > errors.csv``, opened in a
    spreadsheet), and left out where it is a pipe or a terminal, whose reader is a program (``csv``, ``cut``,
    ``grep ^row``) to which it is a stray character glued to the first column's name."""
    data = api.call("GET", f"/api/imports/{_segment(args.id)}/errors.csv")
    data = data if isinstance(data, bytes) else str(data).encode()
    if not _is_regular_file(sys.stdout):
        data = data.removeprefix(UTF8_BOM)
    sys.stdout.buffer.write(data)
    sys.stdout.flush()
    return EXIT_OK


def _is_regular_file(stream: IO[str]) -> bool:
    try:
        return stat.S_ISREG(os.fstat(stream.fileno()).st_mode)
    except (OSError, ValueError, AttributeError):  # no descriptor (a test's capture, a closed stream)
        return False


def cmd_changes(args: argparse.Namespace, api: Api) -> int:
    """The import's (or preview's) changes by SKU, every page, after the summary."""
    out = sys.stdout
    print_change_summary(api.call("GET", f"/api/imports/{_segment(args.id)}/changes/summary"), out)
    params = {"action": args.action} if args.action else {}
    for change in _pages(api, f"/api/imports/{_segment(args.id)}/changes", params, args.limit):
        print(format_change(change), file=out)
    return EXIT_OK


def _pages(api: Api, path: str, params: dict[str, Any], limit: int | None) -> Iterator[dict[str, Any]]:
    """The items of a paged list (CONTRACT §3: ``items`` and ``next_cursor``), at most ``limit`` of them."""
    shown, cursor = 0, None
    while limit is None or shown < limit:
        page = api.call("GET", path, params={**params, "limit": 500 if limit is None else min(500, limit - shown),
                                             **({"cursor": cursor} if cursor else {})})
        for item in page["items"][: None if limit is None else limit - shown]:
            yield item
            shown += 1
        cursor = page.get("next_cursor")
        if not cursor or not page["items"]:
            return


def cmd_list(args: argparse.Namespace, api: Api) -> int:
    """The imports, newest first (``GET /api/imports``), as a table or ``--json`` lines."""
    params = {k: v for k, v in (("status", args.status), ("mode", args.mode), ("partner", args.partner)) if v}
    imports = list(_pages(api, "/api/imports", params, args.limit))
    if args.json:
        print(json.dumps(imports, indent=2))
        return EXIT_OK
    if not imports:
        print("no imports" + (" match" if params else " yet"), file=sys.stderr)
        return EXIT_OK
    rows = [("id", "status", "created (UTC)", "rows", "created / updated / unchanged", "file")]
    for imp in imports:
        done = f"{imp.get('rows_processed', 0):,}/{imp['rows_total']:,}" if imp.get("rows_total") is not None else "-"
        products = (f"{imp.get('products_created', 0):,} / {imp.get('products_updated', 0):,} / "
                    f"{imp.get('products_unchanged', 0):,}")
        where = f"  [partner {imp['partner']}]" if imp.get("partner") else ""
        rows.append((imp["id"], imp["status"], imp["created_at"][:19].replace("T", " "), done, products,
                     imp["filename"] + where))
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    for row in rows:  # whole ids, for copying into the next command (no truncation to a terminal's width)
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False)) + "  " + row[5])
    return EXIT_OK


def cmd_history(args: argparse.Namespace, api: Api) -> int:
    """A product's change history, newest first (``GET /api/products/{sku}/history``, CONTRACT §3)."""
    sku = _segment(args.sku)
    items = list(_pages(api, f"/api/products/{sku}/history", {}, args.limit))
    if args.json:
        print(json.dumps(items, indent=2))
        return EXIT_OK
    for entry in items:
        by = f"import {entry['import_id']}" if entry.get("import_id") else "edit"
        reverted = "  (reverted)" if entry.get("reverted") else ""
        fields = entry.get("changes") or {}
        diff = "; ".join(f"{name}: {_value(d.get('from'))} → {_value(d.get('to'))}" for name, d in fields.items())
        print(f"{entry['at'][:19].replace('T', ' ')}  {by:<39}  {entry['action']:<10} {diff}".rstrip() + reverted)
    if not items:
        print(f"no history for {args.sku}", file=sys.stderr)
    return EXIT_OK


def cmd_apply(args: argparse.Namespace, api: Api) -> int:
    """Import a preview's file version as a new import, and follow it as ``import`` does."""
    imp = api.call("POST", f"/api/imports/{_segment(args.id)}/apply")["import"]
    print(f"import {imp['id']}  {imp.get('filename', '')}", file=sys.stderr)
    return summarise(api, follow(api, imp["id"], args.timeout))


def cmd_discard(args: argparse.Namespace, api: Api) -> int:
    """Discard a preview (or a pending import whose file never came): ``DELETE /api/imports/{id}``."""
    api.call("DELETE", f"/api/imports/{_segment(args.id)}")
    print(f"discarded {args.id}")
    return EXIT_OK


def cmd_confirm_replace(args: argparse.Namespace, api: Api) -> int:
    """Carry out a held replace (``POST /api/imports/{id}/replace?confirm=true``, CONTRACT §2) and follow
    it until its deactivations are done."""
    imp = api.call("POST", f"/api/imports/{_segment(args.id)}/replace", params={"confirm": "true"})
    imp = imp.get("import", imp)
    deadline = time.monotonic() + args.timeout
    while (imp.get("replace") or {}).get("status") == "held" and time.monotonic() < deadline:
        time.sleep(POLL_S)
        imp = api.call("GET", f"/api/imports/{_segment(args.id)}")
    if (imp.get("replace") or {}).get("status") == "held":
        print(f"gave up waiting (the replace goes on; check with `{api.command('status', args.id)}`)")
        return EXIT_STILL_RUNNING
    return summarise(api, imp)


def cmd_revert(args: argparse.Namespace, api: Api) -> int:
    """Revert a finished import and follow it live: restored / deleted / conflicts."""
    imp = api.call("POST", f"/api/imports/{_segment(args.id)}/revert")["import"]
    api.following = imp["id"]
    print(f"revert {imp['id']}  {imp.get('filename', '')}", file=sys.stderr)
    deadline = time.monotonic() + args.timeout
    # The bar counts products: those the import touched (its change records), those the revert handled.
    touched = sum(int(imp.get(k) or 0) for k in ("products_created", "products_updated", "products_unchanged",
                                                  "products_deactivated")) or None
    with progress_bars() as bars:
        task = bars.add_task("revert", total=touched, note="")
        while True:
            revert = imp.get("revert") or {}
            handled = sum(int(revert.get(k) or 0) for k in ("restored", "deleted", "conflicts"))
            finished = _revert_finished(imp)
            bars.update(task, completed=touched if finished and touched else handled, note=imp["status"])
            if finished or time.monotonic() >= deadline:
                break
            time.sleep(POLL_S)
            imp = api.call("GET", f"/api/imports/{_segment(args.id)}")
    return summarise_revert(api, imp)


def _revert_finished(imp: dict[str, Any]) -> bool:
    revert = imp.get("revert") or {}
    return imp.get("status") == "reverted" or revert.get("status") in ("done", "failed")


def summarise_revert(api: Api, imp: dict[str, Any], out: TextIO | None = None, *, waited: bool = True) -> int:
    """The revert's state; ``waited``: after following it (a revert still running then is a timeout, exit
    4), else a look at it (``status``: still running is an answer, exit 0)."""
    out = out or sys.stdout
    revert = imp.get("revert") or {}
    state = revert.get("status") or ("done" if imp.get("status") == "reverted" else "running")
    print(f"status:     {imp.get('status')} (revert {state})", file=out)
    if state == "failed":
        print(f"reason:     {revert.get('error') or imp.get('error')}", file=out)
        return EXIT_FAILED
    conflicts = int(revert.get("conflicts") or 0)
    print(f"revert:     {int(revert.get('restored') or 0):,} restored, {int(revert.get('deleted') or 0):,} deleted, "
          f"{conflicts:,} conflicts", file=out)
    if state != "done" and not waited:
        return EXIT_OK
    if state != "done":
        print(f"gave up waiting (the revert goes on; check with `{api.command('status', str(imp.get('id')))}`)",
              file=out)
        return EXIT_STILL_RUNNING
    if conflicts:
        page = api.call("GET", f"/api/imports/{_segment(imp['id'])}/revert/conflicts", params={"limit": 10})
        print("left as they are (written since by a later import or an edit):", file=out)
        for item in page["items"]:
            by = item.get("changed_by") or {}
            what = f"import {by['import_id']}" if by.get("import_id") else "an edit"
            print(f"  {item['sku']}: by {what} at {item.get('at')}", file=out)
        if conflicts > len(page["items"]):
            print(f"  … and {conflicts - len(page['items']):,} more: GET {api.base.rstrip('/')}/api/imports/"
                  f"{imp['id']}/revert/conflicts", file=out)
        return EXIT_ROW_ERRORS
    return EXIT_OK


# -- the command line -------------------------------------------------------------------------------------


def _percent(text: str) -> int | float:
    """``--max-deactivate P``: a percentage 0-100, whole or not (``12.5``), as the API takes it (CONTRACT §2)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 <= value <= 100:  # NaN too
        raise argparse.ArgumentTypeError(f"{text} is not a percentage (0-100)")
    return int(value) if value.is_integer() else value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="product-importer", description=__doc__.split("\n")[0])
    parser.add_argument("--api", default=DEFAULT_API, help=f"API base URL (default {DEFAULT_API})")
    token_help = f"Cognito access token for deployments with sign-in (default: ${TOKEN_ENV})"
    parser.add_argument("--token", default=os.environ.get(TOKEN_ENV), help=token_help)
    sub = parser.add_subparsers(dest="command", required=True)

    p_import = sub.add_parser("import", help="import a CSV file and follow it live")
    p_import.add_argument("file", nargs="?")  # required: see _import_file (it may follow --map's values)
    p_import.add_argument("--dry-run", action="store_true",
                          help="preview: read, validate and compare with the catalog, write nothing")
    p_import.add_argument("--map", action="extend", nargs="+", metavar="HEADER=field",
                          help="map a column to a field (or attribute / ignore): --map A=sku B=name, "
                               "or --map A=sku --map B=name")
    p_import.add_argument("--profile", choices=PROFILES, help="read the file as this platform's export")
    p_import.add_argument("--encoding", metavar="NAME",
                          help="read the file in this encoding (utf-8, utf-16, windows-1252) instead of detecting it")
    p_import.add_argument("--max-errors", type=int, metavar="N", help="stop the import after N row errors")
    p_import.add_argument("--replace", action="store_true",
                          help="deactivate the products in scope that the file does not contain")
    p_import.add_argument("--scope", choices=("all", "partner"), help="with --replace (default all)")
    p_import.add_argument("--partner", metavar="NAME",
                          help="admin: import for this partner (its folder under incoming/), as its drops do; "
                               "what --scope partner replaces")
    p_import.add_argument("--max-deactivate", type=_percent, metavar="P",
                          help="with --replace: hold it if more than P%% would be deactivated (default 20)")
    p_import.add_argument("--timeout", type=float, default=3600, help="seconds to follow before giving up")

    p_status = sub.add_parser("status", help="show one import")
    p_status.add_argument("id")
    p_status.add_argument("--json", action="store_true")

    p_errors = sub.add_parser("errors", help="write an import's row errors as CSV to stdout")
    p_errors.add_argument("id")

    p_changes = sub.add_parser("changes", help="an import's (or a preview's) changes by SKU")
    p_changes.add_argument("id")
    p_changes.add_argument("--action", choices=ACTIONS, help="only this action")
    p_changes.add_argument("--limit", type=int, help="at most this many changes")

    p_apply = sub.add_parser("apply", help="apply a preview as a new import and follow it")
    p_apply.add_argument("id")
    p_apply.add_argument("--timeout", type=float, default=3600, help="seconds to follow before giving up")

    p_revert = sub.add_parser("revert", help="revert a finished import and follow it")
    p_revert.add_argument("id")
    p_revert.add_argument("--timeout", type=float, default=3600, help="seconds to follow before giving up")

    p_list = sub.add_parser("list", help="the imports, newest first")
    p_list.add_argument("--status", choices=STATUSES, help="only imports in this status")
    p_list.add_argument("--mode", choices=("import", "preview"), help="only imports or only previews")
    p_list.add_argument("--partner", metavar="NAME", help="only this partner's imports")
    p_list.add_argument("--limit", type=int, default=20, help="at most this many (default 20)")
    p_list.add_argument("--json", action="store_true")

    p_history = sub.add_parser("history", help="a product's changes, newest first (which import, or an edit)")
    p_history.add_argument("sku")
    p_history.add_argument("--limit", type=int, default=50, help="at most this many (default 50)")
    p_history.add_argument("--json", action="store_true")

    p_discard = sub.add_parser("discard", help="discard a preview (or a pending import)")
    p_discard.add_argument("id")

    p_confirm = sub.add_parser("confirm-replace", help="carry out a replace held over its cap")
    p_confirm.add_argument("id")
    p_confirm.add_argument("--timeout", type=float, default=3600, help="seconds to follow before giving up")

    for p in (p_import, p_status, p_errors, p_changes, p_list, p_history, p_apply, p_revert, p_discard, p_confirm):
        p.add_argument("--api", default=argparse.SUPPRESS, help="API base URL")
        p.add_argument("--token", default=argparse.SUPPRESS, help="Cognito access token")
    return parser


COMMANDS = {"import": cmd_import, "status": cmd_status, "errors": cmd_errors, "changes": cmd_changes,
            "list": cmd_list, "history": cmd_history, "apply": cmd_apply, "revert": cmd_revert, "discard": cmd_discard,
            "confirm-replace": cmd_confirm_replace}


class _PipeSafe:
    """stdout that stops writing, quietly, once its reader has gone (``… | head``): the command still
    finishes and exits with its own code. The descriptor then points at /dev/null, so the interpreter's
    last flush does not fail either (the way the Python documentation suggests for SIGPIPE)."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self.gone = False

    def write(self, text: str) -> int:
        if not self.gone:
            try:
                return self._stream.write(text)
            except BrokenPipeError:
                self._hang_up()
        return len(text)

    def flush(self) -> None:
        if not self.gone:
            try:
                self._stream.flush()
            except BrokenPipeError:
                self._hang_up()

    def _hang_up(self) -> None:
        self.gone = True
        with contextlib.suppress(OSError, ValueError):  # not a real descriptor (tests)
            os.dup2(os.open(os.devnull, os.O_WRONLY), self._stream.fileno())

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def main(argv: list[str] | None = None, transport: httpx.BaseTransport | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "import":
        _import_file(args, parser)
        args.options = import_options(args, parser)
    api = _api(args, transport)
    stdout = sys.stdout
    sys.stdout = cast(TextIO, _PipeSafe(stdout))
    try:
        return COMMANDS[args.command](args, api)
    except ApiError as exc:
        print(f"error: {exc.detail}", file=sys.stderr)
        return EXIT_FAILED
    except BrokenPipeError:  # stdout's buffer (errors ID | head)
        cast(_PipeSafe, sys.stdout)._hang_up()
        return EXIT_OK
    except KeyboardInterrupt:
        if api.following:
            print(f"\ninterrupted: the import goes on in the service; follow it with "
                  f"`{api.command('status', api.following)}`", file=sys.stderr)
        elif not api.discarded:
            print("\ninterrupted before the service answered (what was asked may still have been done)",
                  file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        sys.stdout = stdout
        api.client.close()


if __name__ == "__main__":
    sys.exit(main())
