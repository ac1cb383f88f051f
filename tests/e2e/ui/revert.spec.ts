import { expect, importThroughUi, runId, saveScreenshot, test, waitForRevert } from "./fixtures";

test("import, update import, revert the update → products back, conflicts shown", async ({ page, request }) => {
  const p = `REV${runId}`.toUpperCase();
  // given a catalogue from a first import
  const base = ["sku,name,price,quantity", ...[1, 2, 3, 4].map((i) => `${p}-${i},Table ${i},100.00,5`)].join("\n") + "\n";
  await importThroughUi(page, `e2e-revert-base-${runId}.csv`, base);
  // and an update import: three new prices and one new product
  const updateName = `e2e-revert-update-${runId}.csv`;
  const update = ["sku,name,price", `${p}-1,Table 1,150.00`, `${p}-2,Table 2,160.00`, `${p}-3,Table 3,170.00`, `${p}-9,Table 9,90.00`].join("\n") + "\n";
  const row = await importThroughUi(page, updateName, update);
  // and, since, a manual edit of one of the updated products
  const edit = await request.patch(`/api/products/${p}-3`, { data: { quantity: 42 } });
  expect(edit.ok()).toBe(true);

  // and the products page open in another tab, showing the product the update created
  const products = await page.context().newPage();
  await products.goto(`/products?q=${p}-9`);
  await expect(products.getByTestId("product-row")).toHaveCount(1);

  // when an admin reverts the update, typing its file name to confirm
  await row.getByRole("link", { name: updateName }).click();
  await page.getByRole("button", { name: "Revert" }).click();
  const dialog = page.getByRole("dialog", { name: `Revert “${updateName}”?` });
  await expect(dialog.getByTestId("revert-deleted")).toHaveText("1");
  await expect(dialog.getByTestId("revert-restored")).toHaveText("3");
  const go = dialog.getByRole("button", { name: "Revert import" });
  await expect(go).toBeDisabled();
  await dialog.getByLabel(/Type the file name/).fill(updateName);
  await go.click();

  // then it runs live to reverted, with the edited product reported as a conflict
  await expect(page.getByTestId("detail-status").getByTestId("status-badge")).toHaveAttribute("data-status", /reverting|reverted/);
  expect(await waitForRevert(page)).toBe("done");
  await expect(page.getByTestId("detail-status").getByTestId("status-badge")).toHaveAttribute("data-status", "reverted");
  await expect(page.getByTestId("revert-stat-conflicts")).toContainText("1");
  await expect(page.getByTestId("revert-stat-deleted")).toContainText("1");
  await expect(page.getByTestId("revert-stat-restored")).toContainText("2");
  const conflict = page.getByTestId("conflict-row");
  await expect(conflict).toHaveCount(1);
  await expect(conflict).toContainText(`${p}-3`);
  await expect(conflict).toContainText("an edit");
  await saveScreenshot(page, "revert");
  // and the products tab follows by itself, without a reload: the product the update created is gone
  await expect(products.getByTestId("product-row")).toHaveCount(0, { timeout: 15_000 });
  await products.close();

  // and the catalogue is back: old prices, the new product gone, the edited one left as it is
  expect((await (await request.get(`/api/products/${p}-1`)).json()).price).toMatch(/^100(\.0+)?$/);
  expect((await (await request.get(`/api/products/${p}-2`)).json()).price).toMatch(/^100(\.0+)?$/);
  expect((await request.get(`/api/products/${p}-9`)).status()).toBe(404);
  const kept = await (await request.get(`/api/products/${p}-3`)).json();
  expect(kept.quantity).toBe(42);
  expect(kept.price).toMatch(/^170(\.0+)?$/);

  // and the product history shows the reverted change
  await page.goto("/products");
  await page.getByLabel("Search").fill(`${p}-1`);
  await page.getByRole("button", { name: `History of “${p}-1”` }).click();
  const history = page.getByRole("dialog", { name: `History of “${p}-1”` });
  await expect(history.locator('[data-testid="history-entry"][data-reverted="true"]').first()).toBeVisible({ timeout: 15_000 });
});
