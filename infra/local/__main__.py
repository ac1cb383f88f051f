"""``python -m infra.local`` (what ``make up`` runs): the whole stack on this machine until Ctrl-C."""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from infra.local.net import PortInUseError
from infra.local.pump import configure_logging
from infra.local.stack import LocalConfig, LocalStack, StateDirInUseError

DEFAULT_CLI_API = "http://127.0.0.1:8000"  # the CLI's own default (product_importer.cli, without PRODUCT_IMPORTER_API)


def banner(config: LocalConfig) -> str:
    """What the stack prints once it is up: where the UI is, and a CLI command that reaches this stack.

    The CLI talks to http://127.0.0.1:8000 unless told otherwise (``--api`` or ``PRODUCT_IMPORTER_API``),
    so on any other port the command carries ``--api``: without it, it would import into whatever
    answers on 8000 (another checkout's stack) or find nothing there.
    """
    api = "" if config.api_url == DEFAULT_CLI_API else f" --api {config.api_url}"
    text = (f"\n  Product Importer is running:  {config.api_url}   (API docs: {config.api_url}/api/docs)\n"
            f"  Import a file:  .venv/bin/product-importer{api} import some.csv\n  Ctrl-C stops everything.\n")
    if config.static_dir is not None and not (config.static_dir / "index.html").is_file():
        text += "\n  The web UI is not built: run `make ui` (make up builds it first), then reload the page.\n"
    return text


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m infra.local",
        description="Run Product Importer locally (what `make up` runs; pass these as make up UP_ARGS=\"...\").")
    parser.add_argument("--port", type=int, default=8000, help="API and UI port (default 8000)")
    parser.add_argument("--aws-port", type=int, default=4566, help="AWS emulator port (default 4566)")
    parser.add_argument("--ws-port", type=int, default=8001, help="WebSocket gateway port (default 8001)")
    parser.add_argument("--consumers", type=int, default=2, help="parallel chunk consumers (default 2)")
    parser.add_argument("--chunk-rows", type=int, default=None,
                        help="at most this many rows per chunk (default: CHUNK_ROWS, 5000)")
    parser.add_argument("--database-url", default="",
                        help="use this PostgreSQL instead of the embedded one (default: DATABASE_URL)")
    parser.add_argument("--state-dir", default=None,
                        help="where the embedded PostgreSQL, the emulator's data and the import history live "
                             "(default .local/ in the checkout; a second stack needs its own)")
    args = parser.parse_args()

    configure_logging()
    import os
    from pathlib import Path

    config = LocalConfig(api_port=args.port, aws_port=args.aws_port, ws_port=args.ws_port,
                         consumers=args.consumers, chunk_rows=args.chunk_rows,
                         database_url=args.database_url or os.environ.get("DATABASE_URL", ""))
    if args.state_dir:
        config.state_dir = Path(args.state_dir)
    stop = threading.Event()
    # Ctrl-C (SIGINT to the whole process group) and SIGTERM both end the wait below; the workers
    # ignore SIGINT and are stopped by the stack.
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stack = LocalStack(config)
    try:
        stack.start()
    except (PortInUseError, StateDirInUseError) as exc:  # a user's mistake, not a crash: no traceback,
        # nothing started yet
        print(f"cannot start Product Importer: {exc}", file=sys.stderr, flush=True)
        raise SystemExit(1) from None
    except BaseException:
        stack.stop()
        raise
    broken = None
    try:
        print(banner(config), flush=True)
        while not stop.wait(0.5):
            broken = stack.broken()
            if broken:
                print(f"\n{broken}", file=sys.stderr, flush=True)
                break
    except KeyboardInterrupt:
        pass
    finally:
        print("stopping…", flush=True)
        stack.stop()
    if broken:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
