import { expect, test } from "./fixtures";

/**
 * The figure boxes of an import's page with six- and eight-figure counts: a layout check in real Chromium.
 * The import is the API's answer for a made-up id (a 400,000-row import takes too long for a journey).
 */
function bigImport(rows: number) {
  return {
    id: "layout-check", filename: "catalog.csv", source: "upload", mode: "import", status: "completed",
    rows_total: rows, rows_processed: rows, rows_imported: rows, rows_failed: 0, rows_skipped: 0,
    products_created: rows, products_updated: 0, products_unchanged: 0, products_deactivated: rows,
    chunks_total: 80, chunks_done: 80, error: null, created_at: "2026-12-01T05:00:00Z",
    started_at: "2026-12-01T05:00:01Z", finished_at: "2026-12-01T05:01:41Z",
    replace: { scope: "all", max_deactivate_percent: 20, status: "done" },
  };
}

for (const rows of [400_000, 12_000_000]) {
  test(`${rows.toLocaleString("en")} rows: no figure breaks where one row of boxes has room, and no box leaves the card`, async ({ page }) => {
    await page.route("**/api/imports/layout-check", (route) => route.fulfill({ json: bigImport(rows) }));
    await page.route("**/api/imports/layout-check/**", (route) => route.fulfill({ json: { items: [], next_cursor: null } }));
    for (const width of [1280, 1100, 390]) {
      await page.setViewportSize({ width, height: 800 });
      await page.goto("/imports/layout-check");
      const processed = page.getByTestId("stat-processed").locator("dd");
      await expect(processed).toHaveText(`${rows.toLocaleString("en")} / ${rows.toLocaleString("en")}`);
      const layout = await page.evaluate(() => {
        const grid = document.querySelector(".stats")!;
        const lines = [...grid.querySelectorAll("dd")].map((dd) => Math.round(dd.getBoundingClientRect().height / parseFloat(getComputedStyle(dd).lineHeight)));
        const right = grid.getBoundingClientRect().right;
        return { lines, inside: [...grid.children].every((box) => box.getBoundingClientRect().right <= right + 0.5 && box.scrollWidth <= box.clientWidth) };
      });
      expect(layout.inside).toBe(true);
      // "400,000 / 400,000" wrapped after the slash at 1280 px; six figures stay whole in both layouts
      if (rows < 1_000_000 || width === 1280) expect(layout.lines, `at ${width} px`).toEqual(layout.lines.map(() => 1));
    }
  });
}
