import { expectAccessible, tabTo } from "./a11y";
import { expect, mappingStep, runId, test, waitForRevert, waitForStatus } from "./fixtures";

test("keyboard only: a file picked, mapped, previewed, applied and reverted; no serious WCAG 2.1 AA violation on the way", async ({ page, request }) => {
  const p = `KBD${runId}`.toUpperCase();
  // given two products in the catalogue
  for (const i of [1, 2]) expect((await request.put(`/api/products/${p}-${i}`, { data: { name: `Desk ${i}`, price: "100.00" } })).ok()).toBe(true);

  // when a keyboard user opens the app: the skip link comes first, then the file picker is reached with Tab
  await page.goto("/");
  await expect(page.getByRole("heading", { name: "Imports", level: 1 })).toBeVisible();
  await expectAccessible(page, "imports page");
  await page.keyboard.press("Tab");
  await expect(page.getByRole("link", { name: "Skip to content" })).toBeFocused();
  await tabTo(page, page.getByRole("button", { name: "Choose files…" }));
  const filename = `e2e-kbd-${runId}.csv`;
  const csv = ["Item Code,Title,Cost", `${p}-1,Desk 1,120.00`, `${p}-2,Desk 2,130.00`, `${p}-7,Shelf 7,40.00`, `${p}-8,Shelf 8,40.00`].join("\n") + "\n";
  const chooser = page.waitForEvent("filechooser");
  await page.keyboard.press("Enter");
  await (await chooser).setFiles({ name: filename, mimeType: "text/csv", buffer: Buffer.from(csv, "utf8") });

  // then the mapping step has the focus (its heading), and its columns are mapped with Tab and typing
  const step = await mappingStep(page, filename);
  await expect(step.getByRole("heading", { name: `Columns of “${filename}”` })).toBeFocused();
  await expectAccessible(page, "mapping step");
  const itemCode = step.getByLabel("Import column “Item Code” as");
  await tabTo(page, itemCode);
  await page.keyboard.type("SKU");
  await expect(itemCode).toHaveValue("sku");
  const cost = step.getByLabel("Import column “Cost” as");
  await tabTo(page, cost);
  await page.keyboard.type("Price");
  await expect(cost).toHaveValue("price");
  await tabTo(page, step.getByRole("button", { name: "Preview" }));
  await page.keyboard.press("Enter");

  // and the preview is read and filtered from the keyboard
  await expect(page).toHaveURL(/\/imports\/[^/]+$/, { timeout: 60_000 });
  await waitForStatus(page, /previewed|failed/);
  await expect(page.getByTestId("detail-status").getByTestId("status-badge")).toHaveAttribute("data-status", "previewed");
  await expect(page.getByTestId("change-row")).toHaveCount(4);
  await expectAccessible(page, "preview");
  const action = page.getByLabel("Action");
  await tabTo(page, action);
  await page.keyboard.type("Update");
  await expect(page.getByTestId("change-row")).toHaveCount(2);

  // when it is applied (Apply sits before the filter)
  await tabTo(page, page.getByRole("button", { name: "Apply" }), { key: "Shift+Tab" });
  await page.keyboard.press("Enter");
  await expect(page.getByText("Applied from")).toBeVisible({ timeout: 30_000 });
  await waitForStatus(page, /completed|failed/);
  await expect(page.getByTestId("detail-status").getByTestId("status-badge")).toHaveAttribute("data-status", "completed");
  await expectAccessible(page, "applied import, completed");
  const edit = await request.patch(`/api/products/${p}-2`, { data: { quantity: 42 } });
  expect(edit.ok()).toBe(true);

  // and reverted: the dialog takes the focus, the name is typed, Revert import pressed
  await tabTo(page, page.getByRole("button", { name: "Revert" }));
  await page.keyboard.press("Enter");
  const dialog = page.getByRole("dialog", { name: `Revert “${filename}”?` });
  const typed = dialog.getByLabel(/Type the file name/);
  await expect(typed).toBeFocused();
  await expect(dialog.getByTestId("revert-restored")).toHaveText("2");
  await expectAccessible(page, "revert dialog");
  await page.keyboard.type(filename);
  await tabTo(page, dialog.getByRole("button", { name: "Revert import" }), { max: 5 });
  await page.keyboard.press("Enter");

  // then focus goes to the revert's heading, not to <body> (the Revert button that had it is gone)
  await expect(dialog).toBeHidden();
  await expect(page.getByRole("heading", { name: /^(Reverting this import…|Reverted)$/ })).toBeFocused();
  expect(await waitForRevert(page)).toBe("done");
  await expect(page.getByTestId("conflict-row")).toHaveCount(1);
  await expectAccessible(page, "reverted, with a conflict");
  // and the next Tab goes on from there, into the conflicts (a link to the product's later write or the table)
  await page.keyboard.press("Tab");
  await expect(page.getByTestId("revert-panel").locator(":focus")).toHaveCount(1);
  expect((await (await request.get(`/api/products/${p}-1`)).json()).price).toMatch(/^100(\.0+)?$/);
});

test("products, history, webhooks, mappings: no serious WCAG 2.1 AA violation; focus survives a deleted row", async ({ page, request }) => {
  const p = `A11Y${runId}`.toUpperCase();
  for (const i of [1, 2]) expect((await request.put(`/api/products/${p}-${i}`, { data: { name: `Lamp ${i}`, price: "10.00" } })).ok()).toBe(true);
  expect((await request.patch(`/api/products/${p}-1`, { data: { price: "12.00" } })).ok()).toBe(true);

  await page.goto(`/products?q=${p}`);
  const history = page.getByRole("button", { name: `History of “${p}-1”` });
  await expect(history).toBeVisible();
  await expectAccessible(page, "products");
  await tabTo(page, history);
  await page.keyboard.press("Enter");
  const historyDialog = page.getByRole("dialog", { name: `History of “${p}-1”` });
  await expect(historyDialog.getByTestId("history-entry").first()).toBeVisible();
  await expectAccessible(page, "product history");
  await page.keyboard.press("Escape");
  await expect(history).toBeFocused();
  await tabTo(page, page.getByRole("button", { name: `Edit “${p}-1”` }));
  await page.keyboard.press("Enter");
  await expect(page.getByRole("dialog")).toBeVisible();
  await expectAccessible(page, "product form");
  await page.keyboard.press("Escape");

  // when a product is deleted from the keyboard, its row (and the button that opened the dialog) goes
  await tabTo(page, page.getByRole("button", { name: `Delete “${p}-1”` }));
  await page.keyboard.press("Enter");
  await tabTo(page, page.getByRole("dialog").getByRole("button", { name: "Delete product" }), { max: 5 });
  await page.keyboard.press("Enter");
  await expect(page.getByRole("button", { name: `Delete “${p}-1”` })).toHaveCount(0);
  // then focus is on the page's <main> (it fell to <body>, and the next Tab started at the top of the page)
  await expect(page.locator("main")).toBeFocused();
  await tabTo(page, page.getByRole("button", { name: `Delete “${p}-2”` }));

  await page.goto("/webhooks");
  await expect(page.getByRole("heading", { name: "Webhooks" })).toBeVisible();
  await expectAccessible(page, "webhooks");
  await page.getByRole("button", { name: "Add webhook" }).click();
  await expectAccessible(page, "webhook form");
  await page.keyboard.press("Escape");

  await page.goto("/mappings");
  await expect(page.getByRole("heading", { name: "Mappings", level: 1 })).toBeVisible();
  await expectAccessible(page, "mappings");
  await page.goto("/no-such-page");
  await expectAccessible(page, "not found");
});
