"""``product-importer``: import a CSV through the API with live progress, check an import, fetch its errors.

Exit codes (CONTRACT §7): 0 completed without row errors, 3 completed with row errors, 1 failed
(or the API refused the request).

Deployments with sign-in want a Cognito access token: ``--token`` or ``PRODUCT_IMPORTER_TOKEN`` is sent as
``Authorization: Bearer …`` on every API call (never to the presigned upload, which carries its own signature).
"""

from __future__ import annotations

import argparse
import http.client
import json
import mimetypes
import os
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlsplit

DEFAULT_API = os.environ.get("PRODUCT_IMPORTER_API", "http://127.0.0.1:8000")
TOKEN_ENV = "PRODUCT_IMPORTER_TOKEN"
EXIT_OK, EXIT_FAILED, EXIT_ROW_ERRORS = 0, 1, 3


class ApiError(Exception):
    def __init__(self, status: int, detail: Any) -> None:
        self.status = status
        self.detail = detail
        super().__init__(f"HTTP {status}: {detail}")


# -- HTTP (stdlib only: the CLI ships with the package, without extra dependencies) ----------------


Connect = Callable[..., tuple[http.client.HTTPConnection, str]]  # (url, timeout=…) -> (connection, path)


def _connection(url: str, timeout: float = 60) -> tuple[http.client.HTTPConnection, str]:
    parts = urlsplit(url)
    cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return cls(parts.netloc, timeout=timeout), path


def request(
    method: str, url: str, body: Any = None, *, token: str | None = None, connect: Connect = _connection
) -> Any:
    conn, path = connect(url)
    payload = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json", "Accept": "application/json"} if payload else {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        conn.request(method, path, body=payload, headers=headers)
        reply = conn.getresponse()
        data = reply.read()
    except OSError as exc:
        raise ApiError(0, f"cannot reach {url}: {exc}") from exc
    finally:
        conn.close()
    if reply.status >= 400:
        try:
            detail = json.loads(data).get("detail", data.decode(errors="replace"))
        except (ValueError, AttributeError):
            detail = data.decode(errors="replace")
        raise ApiError(reply.status, detail)
    content_type = reply.getheader("Content-Type", "")
    return json.loads(data) if "json" in content_type and data else data


@dataclass(frozen=True)
class Api:
    """One deployment's API: base URL and, where sign-in is on, the bearer token."""

    base: str
    token: str | None = None
    connect: Connect = _connection

    def call(self, method: str, path: str, body: Any = None) -> Any:
        try:
            return request(method, f"{self.base.rstrip('/')}{path}", body, token=self.token, connect=self.connect)
        except ApiError as exc:
            if exc.status == 401:
                hint = "the API wants a valid token: --token or PRODUCT_IMPORTER_TOKEN (it may have expired)"
                raise ApiError(401, f"{exc.detail} ({hint})") from exc
            raise


# -- progress bars --------------------------------------------------------------------------------


class Bar:
    """A one-line progress bar on stderr (plain periodic lines when stderr is not a terminal)."""

    def __init__(self, label: str, total: int | None, unit: str, stream: TextIO = sys.stderr) -> None:
        self.label, self.total, self.unit, self.stream = label, total, unit, stream
        self.tty = stream.isatty()
        self.started = time.monotonic()
        self._last_print = 0.0
        self._last_line = ""

    def update(self, done: int, total: int | None = None, note: str = "") -> None:
        if total is not None:
            self.total = total
        now = time.monotonic()
        if not self.tty and now - self._last_print < 1.0 and done != self.total:
            return
        self._last_print = now
        rate = done / max(now - self.started, 1e-6)
        if self.total:
            fraction = min(done / self.total, 1.0)
            filled = int(fraction * 30)
            bar = "█" * filled + "·" * (30 - filled)
            line = f"{self.label:<9} {bar} {fraction:6.1%}  {_human(done, self.unit)}/{_human(self.total, self.unit)}"
        else:
            line = f"{self.label:<9} {_human(done, self.unit)}"
        line += f"  {_human(int(rate), self.unit)}/s"
        if note:
            line += f"  {note}"
        if line == self._last_line:
            return
        self._last_line = line
        if self.tty:
            self.stream.write("\r\033[K" + line)
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()


def _human(n: int, unit: str) -> str:
    if unit == "B":
        for suffix in ("B", "KB", "MB", "GB"):
            if n < 1024 or suffix == "GB":
                return f"{n:.0f} {suffix}" if suffix == "B" else f"{n:.1f} {suffix}"
            n /= 1024  # type: ignore[assignment]
    return f"{n:,} {unit}"


# -- upload ---------------------------------------------------------------------------------------


def upload(upload_spec: dict[str, Any], path: Path, bar: Bar, *, connect: Connect = _connection) -> None:
    """The presigned multipart POST, streamed from disk, with the bytes-sent bar."""
    boundary = uuid.uuid4().hex
    head = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in upload_spec["fields"].items()
    )
    content_type = upload_spec["fields"].get("Content-Type") or mimetypes.guess_type(path.name)[0] or "text/csv"
    head += (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{path.name}"\r\n'
             f"Content-Type: {content_type}\r\n\r\n").encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    size = path.stat().st_size

    def body() -> Iterator[bytes]:
        yield head
        sent = 0
        with path.open("rb") as handle:
            while block := handle.read(1 << 20):
                sent += len(block)
                bar.update(sent, size)
                yield block
        yield tail

    # No Authorization header here: the presigned POST is authorised by its own signed fields.
    conn, target = connect(upload_spec["url"], timeout=600)
    try:
        conn.request("POST", target, body=body(), headers={
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Content-Length": str(len(head) + size + len(tail)),
        })
        reply = conn.getresponse()
        data = reply.read()
    except OSError as exc:
        raise ApiError(0, f"upload failed: {exc}") from exc
    finally:
        conn.close()
    bar.update(size, size)
    bar.close()
    if reply.status >= 300:
        raise ApiError(reply.status, f"upload refused by storage: {data[:300].decode(errors='replace')}")


# -- commands -------------------------------------------------------------------------------------


def cmd_import(args: argparse.Namespace) -> int:
    path = Path(args.file)
    if not path.is_file():
        print(f"error: {path} is not a file", file=sys.stderr)
        return EXIT_FAILED
    return import_file(_api(args), path, args.timeout)


def import_file(api: Api, path: Path, timeout_s: float) -> int:
    created = api.call("POST", "/api/imports", {"filename": path.name, "size": path.stat().st_size,
                                                "content_type": "text/csv"})
    imp = created["import"]
    print(f"import {imp['id']}  {path.name}", file=sys.stderr)
    upload(created["upload"], path, Bar("upload", path.stat().st_size, "B"), connect=api.connect)
    final = follow(api, imp["id"], timeout_s)
    return summarise(api, final)


def follow(api: Api, import_id: str, timeout_s: float) -> dict[str, Any]:
    bar = Bar("import", None, "rows")
    deadline = time.monotonic() + timeout_s
    imp: dict[str, Any] = {}
    while time.monotonic() < deadline:
        imp = api.call("GET", f"/api/imports/{import_id}")
        bar.update(int(imp.get("rows_processed") or 0), imp.get("rows_total"), imp["status"])
        if imp["status"] in ("completed", "failed"):
            break
        time.sleep(0.25)
    bar.close()
    return imp


def summarise(api: Api, imp: dict[str, Any], out: TextIO = sys.stdout) -> int:
    status = imp.get("status")
    print(f"status:     {status}", file=out)
    if status == "failed":
        print(f"reason:     {imp.get('error')}", file=out)
    print(f"rows:       {imp.get('rows_processed', 0):,} of {imp.get('rows_total') or 0:,} processed, "
          f"{imp.get('rows_imported', 0):,} imported, {imp.get('rows_failed', 0):,} failed", file=out)
    print(f"products:   {imp.get('products_created', 0):,} created, {imp.get('products_updated', 0):,} updated, "
          f"{imp.get('products_unchanged', 0):,} unchanged", file=out)
    if imp.get("rows_failed"):
        errors = api.call("GET", f"/api/imports/{imp['id']}/errors?limit=10")["items"]
        print("first row errors:", file=out)
        for e in errors:
            print(f"  row {e['row']}: {e['column'] or '-'}: {e['message']} (value {e['value']!r})", file=out)
        print(f"all of them: product-importer errors {imp['id']} > errors.csv", file=out)
    if status == "completed":
        return EXIT_ROW_ERRORS if imp.get("rows_failed") else EXIT_OK
    if status != "failed":
        print("gave up waiting (the import goes on; check with `product-importer status`)", file=out)
    return EXIT_FAILED


def _api(args: argparse.Namespace) -> Api:
    return Api(args.api, args.token or None)


def cmd_status(args: argparse.Namespace) -> int:
    api = _api(args)
    imp = api.call("GET", f"/api/imports/{args.id}")
    if args.json:
        print(json.dumps(imp, indent=2))
        return EXIT_OK
    print(f"import:     {imp['id']}  {imp['filename']} ({imp['source']})")
    return summarise(api, imp) if imp["status"] in ("completed", "failed") else _progress_line(imp)


def _progress_line(imp: dict[str, Any]) -> int:
    print(f"status:     {imp['status']}  {imp.get('rows_processed', 0):,}/{imp.get('rows_total') or '?'} rows, "
          f"{imp.get('chunks_done', 0)}/{imp.get('chunks_total') or '?'} chunks")
    return EXIT_OK


def cmd_errors(args: argparse.Namespace) -> int:
    data = _api(args).call("GET", f"/api/imports/{args.id}/errors.csv")
    sys.stdout.buffer.write(data if isinstance(data, bytes) else str(data).encode())
    sys.stdout.flush()
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="product-importer", description=__doc__.split("\n")[0])
    parser.add_argument("--api", default=DEFAULT_API, help=f"API base URL (default {DEFAULT_API})")
    token_help = f"Cognito access token for deployments with sign-in (default: ${TOKEN_ENV})"
    parser.add_argument("--token", default=os.environ.get(TOKEN_ENV), help=token_help)
    sub = parser.add_subparsers(dest="command", required=True)
    p_import = sub.add_parser("import", help="import a CSV file and follow it live")
    p_import.add_argument("file")
    p_import.add_argument("--timeout", type=float, default=3600, help="seconds to follow before giving up")
    p_status = sub.add_parser("status", help="show one import")
    p_status.add_argument("id")
    p_status.add_argument("--json", action="store_true")
    p_errors = sub.add_parser("errors", help="write an import's row errors as CSV to stdout")
    p_errors.add_argument("id")
    for p in (p_import, p_status, p_errors):
        p.add_argument("--api", default=argparse.SUPPRESS, help="API base URL")
        p.add_argument("--token", default=argparse.SUPPRESS, help="Cognito access token")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    commands = {"import": cmd_import, "status": cmd_status, "errors": cmd_errors}
    try:
        return commands[args.command](args)
    except ApiError as exc:
        print(f"error: {exc.detail if exc.status else exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
