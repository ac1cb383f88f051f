import fs from "node:fs";
import path from "node:path";
import { expect, test as base, type Locator, type Page } from "@playwright/test";

export const chromiumPath = process.env.PI_CHROMIUM ?? "/usr/bin/chromium";
/** docs/screenshots by default (the README shows them); PI_SCREENSHOTS_DIR sends them elsewhere (CI artifacts). */
export const screenshotsDir = process.env.PI_SCREENSHOTS_DIR
  ? path.resolve(process.env.PI_SCREENSHOTS_DIR)
  : path.resolve(__dirname, "../../../docs/screenshots");

/** One id per run, so journeys never collide with earlier runs' data on the same stack. */
export const runId = process.env.PI_RUN_ID ?? `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4).toString(36)}`;

export const test = base.extend<{ skipWithoutChromium: void }>({
  skipWithoutChromium: [
    async ({}, use, testInfo) => {
      testInfo.skip(!fs.existsSync(chromiumPath), `Chromium not found at ${chromiumPath}: install it with apt-get install -y chromium`);
      await use();
    },
    { auto: true },
  ],
});
export { expect };

/** Save a screenshot of the page to docs/screenshots/NAME.png (and attach it to the report). */
export async function saveScreenshot(page: Page, name: string, opts: { fullPage?: boolean } = {}) {
  fs.mkdirSync(screenshotsDir, { recursive: true });
  // let transitions settle so the picture matches what a person sees
  await page.waitForTimeout(400);
  const file = path.join(screenshotsDir, `${name}.png`);
  await page.screenshot({ path: file, fullPage: opts.fullPage ?? true, animations: "disabled" });
  await test.info().attach(name, { path: file, contentType: "image/png" });
}

/** The same page at a 390 px phone width, then back to desktop. */
export async function saveMobileScreenshot(page: Page, name: string) {
  const size = page.viewportSize();
  await page.setViewportSize({ width: 390, height: 844 });
  await saveScreenshot(page, name);
  if (size) await page.setViewportSize(size);
}

/** A catalogue CSV with `rows` valid products, SKUs prefixed so runs do not collide. */
export function catalogCsv(prefix: string, rows: number): string {
  const lines = ["sku,name,price,currency,quantity,active,brand,category,colour"];
  for (let i = 1; i <= rows; i++) {
    const n = String(i).padStart(6, "0");
    lines.push(`${prefix}-${n},Product ${n} of run ${prefix},${(i % 997) + 0.99},EUR,${i % 50},${i % 7 === 0 ? "no" : "yes"},Brand ${i % 13},Category ${i % 5},${i % 2 ? "red" : "blue"}`);
  }
  return lines.join("\n") + "\n";
}

/** Drop a file on the drop zone the way a browser does: a real DataTransfer with a File. */
export async function dropFile(page: Page, name: string, content: string) {
  const dataTransfer = await page.evaluateHandle(
    ({ name, content }) => {
      const dt = new DataTransfer();
      dt.items.add(new File([content], name, { type: "text/csv" }));
      return dt;
    },
    { name, content },
  );
  const zone = page.getByTestId("drop-zone");
  await zone.dispatchEvent("dragenter", { dataTransfer });
  await zone.dispatchEvent("dragover", { dataTransfer });
  await zone.dispatchEvent("drop", { dataTransfer });
}

/** Pick a file through the drop zone's file picker. */
export async function pickFile(page: Page, name: string, content: string) {
  await page.getByTestId("file-input").setInputFiles({ name, mimeType: "text/csv", buffer: Buffer.from(content, "utf8") });
}

export function importRow(page: Page, filename: string): Locator {
  return page.getByTestId("import-row").filter({ has: page.getByRole("link", { name: filename, exact: true }) });
}

/** Wait until the upload of `filename` reached storage, failing with the UI's message if it did not. */
export async function expectUploaded(page: Page, filename: string, timeout = 60_000) {
  const item = page.getByTestId("upload-item").filter({ hasText: filename });
  await expect(item).toHaveAttribute("data-phase", /uploaded|failed|rejected/, { timeout });
  const phase = await item.getAttribute("data-phase");
  if (phase !== "uploaded") throw new Error(`upload of ${filename} ended as ${phase}: ${await item.innerText()}`);
}

/** The mapping step of `filename` (shown after a drop or a pick), once the server has read its columns. */
export async function mappingStep(page: Page, filename: string): Promise<Locator> {
  const step = page.getByTestId("mapping-step").filter({ has: page.getByRole("heading", { name: `Columns of “${filename}”` }) });
  await expect(step).toBeVisible({ timeout: 30_000 });
  await expect(step.getByTestId("mapping-column").or(step.getByRole("alert")).first()).toBeVisible({ timeout: 30_000 });
  return step;
}

/** Accept the mapping step as suggested and start the import (what a drop did before the mapping step). */
export async function importAsSuggested(page: Page, filename: string) {
  const step = await mappingStep(page, filename);
  await step.getByRole("button", { name: /^Import (now|as it is)$/ }).click();
  await expect(step).toBeHidden();
}

/** Wait until the detail page's import reaches one of `statuses`; returns the status it reached. */
export async function waitForStatus(page: Page, statuses: RegExp, timeout = 120_000): Promise<string> {
  const badge = page.getByTestId("detail-status").getByTestId("status-badge");
  await expect(badge).toHaveAttribute("data-status", statuses, { timeout });
  return (await badge.getAttribute("data-status")) ?? "";
}

/** Import `csv` as `filename` through the UI (mapping step accepted as suggested) and wait for it to complete. */
export async function importThroughUi(page: Page, filename: string, csv: string) {
  await page.goto("/");
  await pickFile(page, filename, csv);
  await importAsSuggested(page, filename);
  await expectUploaded(page, filename);
  const row = importRow(page, filename);
  await expect(row).toHaveAttribute("data-status", "completed", { timeout: 120_000 });
  return row;
}

/** Wait until the detail page's revert has ended (done or failed); returns the revert's status. */
export async function waitForRevert(page: Page, timeout = 120_000): Promise<string> {
  const panel = page.getByTestId("revert-panel");
  await expect(panel).toHaveAttribute("data-revert-status", /done|failed/, { timeout });
  return (await panel.getAttribute("data-revert-status")) ?? "";
}
