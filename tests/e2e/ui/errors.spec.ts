import fs from "node:fs";
import { expect, expectUploaded, importAsSuggested, importRow, mappingStep, pickFile, runId, saveMobileScreenshot, saveScreenshot, test } from "./fixtures";

test("a file with bad rows: open its errors and download them as CSV", async ({ page }) => {
  // given a file with 4 bad rows among 10
  const filename = `e2e-bad-rows-${runId}.csv`;
  const p = `BAD${runId}`;
  const csv = [
    "sku,name,price,quantity,currency,active",
    `${p}-01,Good one,1.50,3,EUR,yes`,
    `${p}-02,Bad price,abc,1,EUR,yes`,
    `${p}-03,Good two,2,4,EUR,yes`,
    `${p}-04,,3.00,1,EUR,yes`,
    `${p}-05,Good three,4.1234,5,EUR,yes`,
    `${p}-06,Negative stock,5,-2,EUR,yes`,
    `${p}-07,Good four,6,6,EUR,yes`,
    `${p}-08,Bad currency and flag,7,7,EURO,maybe`,
    `${p}-09,Good six,8,8,EUR,yes`,
    `${p}-10,Good seven,9,9,EUR,yes`,
  ].join("\n");
  await page.goto("/");

  // when it is uploaded through the file picker
  await pickFile(page, filename, csv);
  await importAsSuggested(page, filename);
  await expectUploaded(page, filename);
  const row = importRow(page, filename);
  await expect(row).toHaveAttribute("data-status", "completed", { timeout: 120_000 });
  await expect(row.getByTestId("stat-failed")).toContainText("4");
  await expect(row.getByTestId("stat-imported")).toContainText("6");

  // then its page lists the row errors
  await row.getByRole("link", { name: filename }).click();
  await expect(page.getByRole("heading", { name: filename })).toBeVisible();
  const table = page.getByTestId("row-error-table");
  await expect(table.getByTestId("row-error")).toHaveCount(5);
  await expect(table).toContainText(`${p}-02`);
  await expect(table).toContainText("price");
  await expect(table).toContainText(`${p}-06`);
  // and a column's name or a SKU is never broken inside a word ("currenc" / "y") next to a long message
  const brokenWords = await table.locator("tbody td.cell-column, tbody td.cell-sku").evaluateAll((cells) =>
    cells
      .filter((td) => {
        const text = td.firstChild;
        if (!(text instanceof Text)) return false;
        const top = (i: number) => {
          const range = document.createRange();
          range.setStart(text, i);
          range.setEnd(text, i + 1);
          return Math.round(range.getBoundingClientRect().top);
        };
        const s = text.data;
        for (let i = 0; i + 1 < s.length; i++) if (/\w/.test(s[i]!) && /\w/.test(s[i + 1]!) && top(i) !== top(i + 1)) return true;
        return false;
      })
      .map((td) => td.textContent),
  );
  expect(brokenWords).toEqual([]);
  await expect(table.locator("tbody td.cell-column")).toHaveCount(5);
  await saveScreenshot(page, "import-detail");
  await saveMobileScreenshot(page, "import-detail-mobile");

  // and "Download errors (CSV)" downloads them
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: "Download errors (CSV)" }).click()]);
  const file = await download.path();
  const text = fs.readFileSync(file, "utf8");
  const lines = text.trim().split(/\r?\n/);
  expect(lines.length).toBe(6); // header + 5 errors
  expect(lines[0]!.toLowerCase()).toContain("row");
  expect(text).toContain(`${p}-02`);
  expect(download.suggestedFilename()).toMatch(/\.csv$/);
});

test("a file without a sku column is stopped at the mapping step, and the reason is shown in words", async ({ page }) => {
  const filename = `e2e-no-sku-${runId}.csv`;
  await page.goto("/");
  await pickFile(page, filename, "name,price\nLamp,1\n");
  const step = await mappingStep(page, filename);
  await expect(step.getByTestId("mapping-missing")).toContainText(/SKU/);
  await expect(step.getByRole("button", { name: "Import now" })).toBeDisabled();
  await expect(step.getByRole("button", { name: "Preview" })).toBeDisabled();
  await saveScreenshot(page, "mapping-missing", { fullPage: false });
  await step.getByRole("button", { name: "Cancel" }).click();
  await expect(page.getByTestId("drop-zone")).toBeVisible();
});

test("a file the server cannot read is not sent, and an import that fails shows the reason in words", async ({ page }) => {
  // an empty file (0 bytes) is refused before any mapping step, with the reason in the upload list
  const empty = `e2e-empty-${runId}.csv`;
  await page.goto("/");
  await page.getByTestId("file-input").setInputFiles({ name: empty, mimeType: "text/csv", buffer: Buffer.from("") });
  const refused = page.getByTestId("upload-item").filter({ hasText: empty });
  await expect(refused).toHaveAttribute("data-phase", "rejected");
  await expect(refused).toContainText("is empty (0 bytes)");

  // a file with bytes but nothing to import (a byte order mark only): the mapping step says why it cannot
  // be imported and offers another file, no import
  const blank = `e2e-blank-${runId}.csv`;
  await pickFile(page, blank, "\ufeff");
  const step = await mappingStep(page, blank);
  await expect(step).toContainText("This file cannot be imported.");
  await expect(step.getByRole("button", { name: /as it is/ })).toHaveCount(0);
  await step.getByRole("button", { name: "Choose another file" }).click();
  await expect(page.getByTestId("drop-zone")).toBeVisible();

  // too many row errors for the limit set in the options: the import ends failed, and says why
  const filename = `e2e-too-many-${runId}.csv`;
  const p = `TMR${runId}`;
  await pickFile(page, filename, `sku,name,price\n${p}-1,a,-1\n${p}-2,b,-2\n${p}-3,c,-3\n`);
  const options = await mappingStep(page, filename);
  await options.getByText(/More options/).click();
  await options.getByLabel("Stop after this many row errors").fill("1");
  await options.getByRole("button", { name: "Import now" }).click();
  await expectUploaded(page, filename);
  const row = importRow(page, filename);
  await expect(row).toHaveAttribute("data-status", "failed", { timeout: 60_000 });
  await row.getByRole("link", { name: filename }).click();
  const reason = page.getByTestId("failure-reason");
  await expect(reason).toContainText("This file could not be imported.");
  await expect(reason).toContainText(/too many row errors/i);
  await saveScreenshot(page, "import-failed");
});

test("a file that is not CSV is refused before upload, a workbook with how to save it as CSV", async ({ page }) => {
  await page.goto("/");
  await page.getByTestId("file-input").setInputFiles({ name: `photo-${runId}.png`, mimeType: "image/png", buffer: Buffer.from("hello") });
  const item = page.getByTestId("upload-item").filter({ hasText: `photo-${runId}.png` });
  await expect(item).toHaveAttribute("data-phase", "rejected");
  await expect(item).toContainText("is not a CSV file");
  const workbook = `catalog-${runId}.xlsx`;
  await page.getByTestId("file-input").setInputFiles({ name: workbook, mimeType: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", buffer: Buffer.from("PK") });
  const refused = page.getByTestId("upload-item").filter({ hasText: workbook });
  await expect(refused).toHaveAttribute("data-phase", "rejected");
  await expect(refused).toContainText("Save the sheet as “CSV UTF-8”");
});
