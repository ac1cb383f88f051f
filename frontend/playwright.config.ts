import { defineConfig } from "@playwright/test";
import { fileURLToPath } from "node:url";
import path from "node:path";

// Journeys in real Chromium (Debian's /usr/bin/chromium: browsers cannot be downloaded here)
// against a running stack (`make up`) at PI_BASE_URL.
const here = path.dirname(fileURLToPath(import.meta.url));
const baseURL = process.env.PI_BASE_URL ?? "http://127.0.0.1:8000";
const executablePath = process.env.PI_CHROMIUM ?? "/usr/bin/chromium";

export default defineConfig({
  testDir: path.resolve(here, "../tests/e2e/ui"),
  testMatch: /.*\.spec\.ts$/,
  outputDir: path.resolve(here, "test-results"),
  timeout: 240_000,
  expect: { timeout: 15_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [["list"]],
  globalSetup: path.resolve(here, "../tests/e2e/ui/global-setup.ts"),
  use: {
    baseURL,
    headless: true,
    viewport: { width: 1280, height: 900 },
    acceptDownloads: true,
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
    launchOptions: {
      executablePath,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
});
