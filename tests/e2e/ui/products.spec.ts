import { expect, runId, saveMobileScreenshot, saveScreenshot, test } from "./fixtures";

test("create, search, edit and delete a product", async ({ page }) => {
  const sku = `E2EP-${runId}`.toUpperCase();
  await page.goto("/products");
  await expect(page.getByRole("heading", { name: "Products" })).toBeVisible();

  // given a product made through the form
  await page.getByRole("button", { name: "New product" }).click();
  const form = page.getByRole("dialog", { name: "New product" });
  await form.getByLabel("SKU").fill(sku);
  await form.getByLabel("Name").fill("Walnut desk lamp");
  await form.getByLabel("Price").fill("49.90");
  await form.getByLabel("Quantity").fill("12");
  await form.getByLabel("Brand").fill("Lumo");
  await form.getByLabel("Category").fill("Lighting");
  // (a bad price is caught and explained first)
  await form.getByLabel("Price").fill("49,90");
  await form.getByRole("button", { name: "Create product" }).click();
  await expect(form.getByLabel("Price")).toHaveAttribute("aria-invalid", "true");
  await form.getByLabel("Price").fill("49.90");
  await form.getByRole("button", { name: "Create product" }).click();
  await expect(page.getByText(`Created “${sku}”.`)).toBeVisible();

  // when the user searches by SKU prefix (lower case: search is case-insensitive)
  await page.getByLabel("Search").fill(sku.slice(0, -1).toLowerCase());
  const row = page.getByTestId("product-row").filter({ hasText: sku });
  await expect(row).toBeVisible();
  await expect(row).toContainText("Walnut desk lamp");
  await expect(row).toContainText("49.9");
  await saveScreenshot(page, "products");

  // and edits its name and stock
  await row.getByRole("button", { name: `Edit “${sku}”` }).click();
  const edit = page.getByRole("dialog", { name: `Edit “${sku}”` });
  await edit.getByLabel("Name").fill("Walnut desk lamp, large");
  await edit.getByLabel("Quantity").fill("3");
  await edit.getByRole("button", { name: "Save changes" }).click();
  await expect(page.getByText(`Saved “${sku}”.`)).toBeVisible();
  await expect(row).toContainText("Walnut desk lamp, large");

  // and searches by a word of the name
  await page.getByLabel("Search").fill("walnut");
  await expect(page.getByTestId("product-row").filter({ hasText: sku })).toBeVisible();
  await saveMobileScreenshot(page, "products-mobile");

  // and on a phone the row's buttons are on the screen, not to the right of a table that must be scrolled sideways
  const desktop = page.viewportSize();
  await page.setViewportSize({ width: 390, height: 844 });
  const phoneRow = page.getByTestId("product-row").filter({ hasText: sku });
  for (const name of [`History of “${sku}”`, `Edit “${sku}”`, `Delete “${sku}”`]) {
    const button = phoneRow.getByRole("button", { name });
    // the row re-renders for the narrow screen: boundingBox() does not wait, and read a button being replaced
    await expect(button).toBeVisible();
    const box = await button.boundingBox();
    expect(box, name).not.toBeNull();
    expect(box!.x + box!.width, name).toBeLessThanOrEqual(390);
  }
  expect(await page.getByTestId("product-table").evaluate((t) => t.parentElement!.scrollWidth <= t.parentElement!.clientWidth)).toBe(true);
  if (desktop) await page.setViewportSize(desktop);

  // then deletes it after confirming
  await page.getByRole("button", { name: `Delete “${sku}”` }).click();
  const confirm = page.getByRole("dialog", { name: `Delete “${sku}”?` });
  await confirm.getByRole("button", { name: "Delete product" }).click();
  await expect(page.getByText(`Deleted “${sku}”.`)).toBeVisible();
  await page.getByLabel("Search").fill(sku);
  await expect(page.getByTestId("product-row").filter({ hasText: sku })).toHaveCount(0);
  await expect(page.getByTestId("empty-state")).toBeVisible();
});

test("the form explains bad values: its own checks first, then the API's 422 details", async ({ page }) => {
  await page.goto("/products");
  await page.getByRole("button", { name: "New product" }).click();
  const form = page.getByRole("dialog", { name: "New product" });
  await form.getByLabel("SKU").fill(`E2EV-${runId}`);
  // a name that is too long is caught before anything is sent
  await form.getByLabel("Name").fill("x".repeat(300));
  await form.getByRole("button", { name: "Create product" }).click();
  await expect(form.getByLabel("Name")).toHaveAttribute("aria-invalid", "true");
  // three letters that are no ISO 4217 currency pass the form, and the API's 422 lands under the field
  await form.getByLabel("Name").fill("Valid name");
  await form.getByLabel("Currency").fill("ZZZ");
  const put = page.waitForResponse((r) => r.request().method() === "PUT" && r.url().includes("/api/products/"));
  await form.getByRole("button", { name: "Create product" }).click();
  expect((await put).status()).toBe(422);
  const currency = form.getByLabel("Currency");
  await expect(currency).toHaveAttribute("aria-invalid", "true");
  await expect(currency).toHaveAccessibleDescription(/currency/i);
  await expect(form.getByLabel("Name")).not.toHaveAttribute("aria-invalid", "true");
  await saveScreenshot(page, "product-form", { fullPage: false });
  await form.getByRole("button", { name: "Cancel" }).click();
  await expect(form).toBeHidden();
});
