"""Runs the Playwright journeys (tests/e2e/ui) in real Chromium against a fresh local stack.

Used by ``make test``: starts ``python -m infra.local`` on free ports with a throw-away state dir,
waits for ``/api/health``, runs ``npm run e2e`` with ``PI_BASE_URL``, then stops the stack. Skips with
a clear message when Chromium is not installed and cannot be.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from infra.local.stack import free_port

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("PI_CHROMIUM", "/usr/bin/chromium")


def main() -> int:
    if not Path(CHROMIUM).exists():
        print(f"[ui-e2e] SKIPPED: Chromium not found at {CHROMIUM} (apt-get install -y chromium).", flush=True)
        return 0
    state = Path(tempfile.mkdtemp(prefix="pi-ui-e2e-"))
    port, aws_port, ws_port = free_port(), free_port(), free_port()
    log = (state / "stack.log").open("wb")
    stack = subprocess.Popen(
        [sys.executable, "-m", "infra.local", "--port", str(port), "--aws-port", str(aws_port), "--ws-port",
         str(ws_port), "--state-dir", str(state / "state"), "--chunk-rows", "5000"],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{base}/api/health", timeout=2) as reply:
                    if reply.status == 200:
                        break
            except OSError:
                time.sleep(0.5)
        else:
            print((state / "stack.log").read_text(errors="replace")[-4000:])
            print("[ui-e2e] the local stack did not come up", flush=True)
            return 1
        # Screenshots are test artifacts (test-results/); `make screenshots` refreshes docs/screenshots.
        screenshots = os.environ.get("PI_SCREENSHOTS_DIR", str(ROOT / "test-results" / "screenshots"))
        env = {**os.environ, "PI_BASE_URL": base, "PI_CHROMIUM": CHROMIUM, "PI_SCREENSHOTS_DIR": screenshots}
        result = subprocess.run(["npm", "run", "e2e", "--silent"], cwd=ROOT / "frontend", env=env, check=False)
        if result.returncode != 0:
            print((state / "stack.log").read_text(errors="replace")[-4000:])
        return result.returncode
    finally:
        os.killpg(stack.pid, signal.SIGINT)
        try:
            stack.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(stack.pid, signal.SIGKILL)
        shutil.rmtree(state, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
