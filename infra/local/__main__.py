"""``python -m infra.local`` (what ``make up`` runs): the whole stack on this machine until Ctrl-C."""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from infra.local.net import PortInUseError
from infra.local.pump import configure_logging
from infra.local.stack import LocalConfig, LocalStack


def main() -> None:
    parser = argparse.ArgumentParser(description="Run Product Importer locally.")
    parser.add_argument("--port", type=int, default=8000, help="API and UI port")
    parser.add_argument("--aws-port", type=int, default=4566, help="AWS emulator port")
    parser.add_argument("--ws-port", type=int, default=8001, help="WebSocket gateway port")
    parser.add_argument("--consumers", type=int, default=2, help="parallel chunk consumers")
    parser.add_argument("--chunk-rows", type=int, default=None)
    parser.add_argument("--database-url", default="", help="use this PostgreSQL instead of the embedded one")
    parser.add_argument("--state-dir", default=None)
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
    except PortInUseError as exc:  # a user's mistake, not a crash: no traceback, nothing started yet
        print(f"cannot start Product Importer: {exc}", file=sys.stderr, flush=True)
        raise SystemExit(1) from None
    except BaseException:
        stack.stop()
        raise
    try:
        print(f"\n  Product Importer is running:  {config.api_url}   (API docs: {config.api_url}/api/docs)\n"
              f"  Import a file:  .venv/bin/product-importer import some.csv\n  Ctrl-C stops everything.\n",
              flush=True)
        if config.static_dir is not None and not (config.static_dir / "index.html").is_file():
            print("  The web UI is not built: run `make ui` (make up builds it first), then reload the page.\n",
                  flush=True)
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        print("stopping…", flush=True)
        stack.stop()


if __name__ == "__main__":
    main()
