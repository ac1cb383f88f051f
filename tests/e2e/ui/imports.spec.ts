import { catalogCsv, dropFile, expect, expectUploaded, importAsSuggested, importRow, runId, saveMobileScreenshot, saveScreenshot, test } from "./fixtures";

test("a 50,000-row CSV dropped on the drop zone imports live to completed", async ({ page }) => {
  // given a generated catalogue of 50k products
  const filename = `e2e-50k-${runId}.csv`;
  const csv = catalogCsv(`E2E${runId}`, 50_000);
  await page.goto("/");
  await expect(page.getByRole("heading", { name: "Imports" })).toBeVisible();
  // the history is driven by the WebSocket; PI_E2E_ALLOW_POLLING=1 accepts the polling fallback instead
  const liveMode = process.env.PI_E2E_ALLOW_POLLING === "1" ? /live|polling/ : "live";
  await expect(page.getByTestId("live-indicator")).toHaveAttribute("data-mode", liveMode, { timeout: 20_000 });

  // when it is dropped on the drop zone (and its mapping step accepted as suggested)
  await dropFile(page, filename, csv);
  await importAsSuggested(page, filename);

  // then the upload bar reaches the end and the import shows up in the history
  await expectUploaded(page, filename, 120_000);
  const row = importRow(page, filename);
  await expect(row).toBeVisible();

  // and the live bar moves until the import is completed, without reloading the page
  const seen = new Set<string>();
  const bar = row.getByTestId("import-progress").getByRole("progressbar");
  const deadline = Date.now() + 200_000;
  while (Date.now() < deadline) {
    const status = await row.getAttribute("data-status");
    seen.add(`${status}:${await bar.getAttribute("aria-valuenow")}`);
    if (status === "completed" || status === "failed") break;
    await page.waitForTimeout(250);
  }
  console.log(`[imports] statuses seen: ${[...seen].join(" ")}`);
  await expect(row).toHaveAttribute("data-status", "completed");
  await expect(bar).toHaveAttribute("aria-valuenow", "100");
  await expect(row.getByTestId("stat-processed")).toContainText("50,000 / 50,000");
  await expect(row.getByTestId("stat-imported")).toContainText("50,000");
  await expect(row.getByTestId("stat-failed")).toContainText("0");
  await expect(row.getByTestId("stat-created")).toContainText("50,000");
  await expect(row.getByTestId("stat-throughput")).toContainText("rows/s");
  await expect(page.getByTestId("live-indicator")).toHaveAttribute("data-mode", liveMode);

  await page.evaluate(() => window.scrollTo(0, 0)); // (focus went back to the drop zone, which scrolled)
  await saveScreenshot(page, "imports", { fullPage: false });
  await saveMobileScreenshot(page, "imports-mobile");
});
