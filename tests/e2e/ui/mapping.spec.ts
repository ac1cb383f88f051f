import {
  dropFile,
  expect,
  expectUploaded,
  importRow,
  importThroughUi,
  mappingStep,
  runId,
  saveMobileScreenshot,
  saveScreenshot,
  test,
  waitForStatus,
} from "./fixtures";

test("unknown headers mapped in the mapping step → preview of every change → apply", async ({ page, request }) => {
  const p = `MAP${runId}`.toUpperCase();
  // given five products in the catalogue
  const base = ["sku,name,price", ...[1, 2, 3, 4, 5].map((i) => `${p}-${i},Lamp ${i},10.00`)].join("\n") + "\n";
  await importThroughUi(page, `e2e-base-${runId}.csv`, base);

  // when a supplier file arrives whose SKU and price columns have names the importer does not know
  const filename = `e2e-supplier-${runId}.csv`;
  const supplier =
    ["Item Code,Title,Cost,Colour", `${p}-1,Lamp 1,12.50,red`, `${p}-2,Lamp 2,13.50,red`, `${p}-3,Lamp 3 (new name),10.00,blue`, `${p}-6,Shade 6,4.00,red`, `${p}-7,Shade 7,5.00,blue`].join(
      "\n",
    ) + "\n";
  await page.goto("/");
  await dropFile(page, filename, supplier);
  const step = await mappingStep(page, filename);
  // then the mapping step says what it could not place, with sample values
  const itemCode = step.getByTestId("mapping-column").filter({ hasText: "Item Code" });
  await expect(itemCode).toContainText(`${p}-1`);
  await expect(step.getByTestId("mapping-missing")).toContainText("SKU");
  // and the user maps them
  await step.getByLabel("Import column “Item Code” as").selectOption("sku");
  await step.getByLabel("Import column “Cost” as").selectOption("price");
  await expect(step.getByTestId("mapping-missing")).toHaveCount(0);
  await saveScreenshot(page, "mapping", { fullPage: false });
  await saveMobileScreenshot(page, "mapping-mobile");
  await step.getByRole("button", { name: "Preview" }).click();

  // then the preview page shows what the file would do, with nothing written
  await expect(page).toHaveURL(/\/imports\/[^/]+$/, { timeout: 60_000 });
  await expect(page.getByRole("heading", { name: filename })).toBeVisible();
  await waitForStatus(page, /previewed|failed/);
  await expect(page.getByTestId("detail-status").getByTestId("status-badge")).toHaveAttribute("data-status", "previewed");
  await expect(page.getByTestId("card-create")).toContainText("2");
  await expect(page.getByTestId("card-update")).toContainText("3");
  const priceBar = page.getByTestId("field-bar").filter({ hasText: "Price" });
  await expect(priceBar).toHaveAttribute("data-count", "2");
  const changed = page.getByTestId("change-row").filter({ hasText: `${p}-1` });
  await expect(changed.locator("del").first()).toContainText("10");
  await expect(changed.locator("ins").first()).toContainText("12.5");
  await page.getByLabel("Action").selectOption("update");
  await expect(page.getByTestId("change-row")).toHaveCount(3);
  // and the filter is in the URL: a reload keeps it
  await expect(page).toHaveURL(/\?action=update$/);
  await page.reload();
  await expect(page.getByLabel("Action")).toHaveValue("update");
  await expect(page.getByTestId("change-row")).toHaveCount(3);
  const untouched = await request.get(`/api/products/${p}-1`);
  expect((await untouched.json()).price).toMatch(/^10(\.0+)?$/);
  await saveScreenshot(page, "preview");
  await saveMobileScreenshot(page, "preview-mobile");

  // when the user applies it
  await page.getByRole("button", { name: "Apply" }).click();

  // then the new import runs live to completed and the catalogue has the file's values
  await expect(page.getByText("Applied from")).toBeVisible({ timeout: 30_000 });
  await waitForStatus(page, /completed|failed/);
  await expect(page.getByTestId("detail-status").getByTestId("status-badge")).toHaveAttribute("data-status", "completed");
  await expect(page.getByTestId("stat-created")).toContainText("2");
  await expect(page.getByTestId("stat-updated")).toContainText("3");
  const after = await (await request.get(`/api/products/${p}-1`)).json();
  expect(after.price).toMatch(/^12\.50*$/);
  expect(after.attributes.Colour).toBe("red");
  expect((await request.get(`/api/products/${p}-7`)).status()).toBe(200);
});

test("a remembered mapping applies by itself to the next file with the same header", async ({ page, request }) => {
  const p = `REM${runId}`.toUpperCase();
  const skuColumn = `Art ${runId}`;
  const mappingName = `e2e mapping ${runId}`;

  // given a file whose SKU and name columns are unknown, mapped and remembered
  const first = `e2e-remember-1-${runId}.csv`;
  await page.goto("/");
  await dropFile(page, first, `${skuColumn},Label\n${p}-1,Chair one\n${p}-2,Chair two\n`);
  const step = await mappingStep(page, first);
  await step.getByLabel(`Import column “${skuColumn}” as`).selectOption("sku");
  await step.getByLabel("Import column “Label” as").selectOption("name");
  await step.getByLabel(/Remember this mapping/).check();
  await step.getByLabel("Mapping name").fill(mappingName);
  await step.getByRole("button", { name: "Import now" }).click();
  await expectUploaded(page, first);
  await expect(importRow(page, first)).toHaveAttribute("data-status", "completed", { timeout: 120_000 });

  // when the next file comes with the same columns (in another order)
  const second = `e2e-remember-2-${runId}.csv`;
  await dropFile(page, second, `Label,${skuColumn}\nChair three,${p}-3\n`);
  const next = await mappingStep(page, second);

  // then the saved mapping is applied without asking
  await expect(next.getByText("A saved mapping for these columns was applied")).toBeVisible();
  await expect(next.getByTestId("mapping-column").filter({ hasText: skuColumn })).toHaveAttribute("data-target", "sku");
  await expect(next.getByTestId("mapping-column").filter({ hasText: "Label" })).toHaveAttribute("data-target", "name");
  await next.getByRole("button", { name: "Import now" }).click();
  await expectUploaded(page, second);
  const row = importRow(page, second);
  await expect(row).toHaveAttribute("data-status", "completed", { timeout: 120_000 });
  await expect(row.getByTestId("stat-created")).toContainText("1");
  expect((await (await request.get(`/api/products/${p}-3`)).json()).name).toBe("Chair three");

  // and the Mappings page lists it, to edit or delete
  await page.getByRole("link", { name: "Mappings" }).click();
  const saved = page.getByTestId("mapping-row").filter({ hasText: mappingName });
  await expect(saved).toContainText(`${skuColumn} → SKU`);
  await saveScreenshot(page, "mappings", { fullPage: false });
  await saved.getByRole("button", { name: `Delete ${mappingName}` }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Delete mapping" }).click();
  await expect(page.getByTestId("mapping-row").filter({ hasText: mappingName })).toHaveCount(0);
});
