import { catalogCsv, expect, mappingStep, pickFile, runId, test, waitForStatus } from "./fixtures";
import type { Locator, Page } from "@playwright/test";

/** Whether `el` shows in the viewport, below the sticky top bar (not under it, not above or below the screen). */
async function inSightBelowTopbar(page: Page, el: Locator): Promise<{ top: number; barBottom: number; height: number }> {
  const box = await el.boundingBox();
  const bar = await page.locator(".topbar").boundingBox();
  return { top: Math.round(box?.y ?? -1), barBottom: Math.round((bar?.y ?? 0) + (bar?.height ?? 0)), height: page.viewportSize()?.height ?? 0 };
}

test("a long preview: keyboard focus never hides under the sticky top bar, and the next page starts in sight", async ({ page }) => {
  // given the preview of a file with 60 new products: a changes table of 25 rows a page, taller than the screen
  const p = `LONG${runId}`.toUpperCase();
  const filename = `e2e-long-${runId}.csv`;
  await page.goto("/");
  await pickFile(page, filename, catalogCsv(p, 60));
  const step = await mappingStep(page, filename);
  await step.getByRole("button", { name: "Preview" }).click();
  await expect(page).toHaveURL(/\/imports\/[^/]+$/, { timeout: 60_000 });
  expect(await waitForStatus(page, /previewed|failed/)).toBe("previewed");
  const rows = page.getByTestId("change-row");
  await expect(rows.first()).toHaveAttribute("data-sku", `${p}-000001`);

  // when a keyboard user goes back up the page with Shift+Tab, from the SKU filter to Apply
  await page.getByLabel("SKU", { exact: true }).focus();
  await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
  await page.keyboard.press("Shift+Tab");
  await expect(page.getByLabel("Action")).toBeFocused();
  await page.keyboard.press("Shift+Tab");
  const apply = page.getByRole("button", { name: "Apply" });
  await expect(apply).toBeFocused();

  // then the focused button shows below the sticky top bar, not under it
  const { top, barBottom } = await inSightBelowTopbar(page, apply);
  expect(top, `Apply's top (${top}px) is under the top bar (which ends at ${barBottom}px)`).toBeGreaterThanOrEqual(barBottom);

  // when the next page is asked for with the mouse, from the pager under the table
  await page.getByRole("navigation", { name: "Change pages" }).getByRole("button", { name: "Next →" }).click();

  // then the new page's first row is in sight (it showed the page's last rows, the first ones above the screen)
  await expect(rows.first()).toHaveAttribute("data-sku", `${p}-000026`);
  await expect.poll(async () => {
    const { top, barBottom, height } = await inSightBelowTopbar(page, rows.first());
    return top >= barBottom && top < height;
  }).toBe(true);
});
