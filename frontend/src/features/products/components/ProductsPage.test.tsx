import { screen, waitFor, within } from "@testing-library/react";
import { useLocation } from "react-router-dom";
import { describe, expect, it } from "vitest";
import { makeProduct, mockApi } from "@/test/api";
import { signInAs } from "@/test/auth";
import { renderPage } from "@/test/render";
import { loadAppStyles } from "@/test/styles";
import { ProductsPage } from "./ProductsPage";

function LocationProbe() {
  return <output data-testid="location">{useLocation().search}</output>;
}

function productsApi(extra: Parameters<typeof mockApi>[0] = {}) {
  return mockApi({
    "GET /api/products": (req) => {
      const q = req.query.get("q");
      if (q === "lamp") return { body: { items: [makeProduct()], next_cursor: null } };
      if (q) return { body: { items: [], next_cursor: null } };
      if (req.query.get("cursor") === "p2") return { body: { items: [makeProduct({ sku: "ZZ-9", name: "Zebra" })], next_cursor: null } };
      return { body: { items: [makeProduct(), makeProduct({ sku: "CD-2", name: "Chair", active: false })], next_cursor: "p2" } };
    },
    ...extra,
  });
}

describe("ProductsPage", () => {
  it("debounces the search and sends q once", async () => {
    // given the product list
    const { calls } = productsApi();
    const { user } = renderPage(<ProductsPage />);
    expect(await screen.findAllByTestId("product-row")).toHaveLength(2);
    // when the user types a search word
    await user.type(screen.getByLabelText("Search"), "lamp");
    // then one request goes out with the whole word, after the pause
    await waitFor(() => expect(screen.getAllByTestId("product-row")).toHaveLength(1));
    const searches = calls.filter((c) => c.path === "/api/products" && c.query.get("q"));
    expect(searches.map((c) => c.query.get("q"))).toEqual(["lamp"]);
  });

  it("keeps the search in the URL: opened with one, it searches; typed, it lands there", async () => {
    const { calls } = productsApi();
    const { user } = renderPage(
      <>
        <ProductsPage />
        <LocationProbe />
      </>,
      { at: "/?q=lamp&active=false&bogus=1" },
    );
    await waitFor(() => expect(calls.some((c) => c.query.get("q") === "lamp" && c.query.get("active") === "false")).toBe(true));
    expect(screen.getByLabelText("Search")).toHaveValue("lamp");
    expect(screen.getByLabelText("Status")).toHaveValue("false");
    await user.clear(screen.getByLabelText("Search"));
    await user.type(screen.getByLabelText("Brand"), "Lumo");
    await waitFor(() => expect(calls.at(-1)!.query.get("brand")).toBe("Lumo"));
    // (the URL follows in the next render after the request went out)
    await waitFor(() => expect(screen.getByTestId("location")).toHaveTextContent("?active=false&brand=Lumo"));
  });

  it("pages with the cursor and resets paging when a filter changes", async () => {
    const { calls } = productsApi();
    const { user } = renderPage(<ProductsPage />);
    await screen.findAllByTestId("product-row");
    await user.click(screen.getByRole("button", { name: /next/i }));
    expect(await screen.findByText("Zebra")).toBeInTheDocument();
    expect(calls.at(-1)!.query.get("cursor")).toBe("p2");
    await user.selectOptions(screen.getByLabelText("Status"), "false");
    await waitFor(() => expect(calls.at(-1)!.query.get("active")).toBe("false"));
    expect(calls.at(-1)!.query.get("cursor")).toBeNull();
  });

  it("shows the API's 422 details next to the form fields", async () => {
    // given an API that rejects the price
    productsApi({
      "PATCH /api/products/AB-1": () => ({
        status: 422,
        body: { detail: [{ loc: ["body", "price"], msg: "Input should be a valid decimal", type: "decimal_parsing" }] },
      }),
    });
    const { user } = renderPage(<ProductsPage />);
    await screen.findAllByTestId("product-row");
    // when the user edits and saves
    await user.click(screen.getByRole("button", { name: "Edit “AB-1”" }));
    const dialog = await screen.findByRole("dialog", { name: "Edit “AB-1”" });
    const name = within(dialog).getByLabelText("Name");
    await user.clear(name);
    await user.type(name, "Desk lamp XL");
    await user.click(within(dialog).getByRole("button", { name: "Save changes" }));
    // then the message sits under the price field, which is marked invalid
    const price = within(dialog).getByLabelText("Price");
    await waitFor(() => expect(price).toHaveAttribute("aria-invalid", "true"));
    expect(price).toHaveAccessibleDescription(/Input should be a valid decimal/);
  });

  it("sends only the fields an edit changes, and nothing when none changed", async () => {
    const { calls } = productsApi({ "PATCH /api/products/AB-1": () => ({ body: makeProduct({ quantity: 7 }) }) });
    const { user } = renderPage(<ProductsPage />);
    await screen.findAllByTestId("product-row");
    // saved untouched: no request (it recorded a change of every field sent, "price 19.9900 → 19.9900")
    await user.click(screen.getByRole("button", { name: "Edit “AB-1”" }));
    let dialog = await screen.findByRole("dialog", { name: "Edit “AB-1”" });
    const price = within(dialog).getByLabelText("Price");
    await user.clear(price);
    await user.type(price, "19.99"); // the same number, written shorter
    await user.click(within(dialog).getByRole("button", { name: "Save changes" }));
    await waitFor(() => expect(screen.queryByRole("dialog", { name: "Edit “AB-1”" })).not.toBeInTheDocument());
    expect(calls.filter((c) => c.method === "PATCH")).toHaveLength(0);
    expect(screen.getByText("Nothing changed in “AB-1”.")).toBeInTheDocument();
    // one field changed: a PATCH of that field only
    await user.click(screen.getByRole("button", { name: "Edit “AB-1”" }));
    dialog = await screen.findByRole("dialog", { name: "Edit “AB-1”" });
    const quantity = within(dialog).getByLabelText("Quantity");
    await user.clear(quantity);
    await user.type(quantity, "7");
    await user.click(within(dialog).getByRole("button", { name: "Save changes" }));
    await waitFor(() => expect(calls.filter((c) => c.method === "PATCH")).toHaveLength(1));
    expect(calls.find((c) => c.method === "PATCH")!.body).toEqual({ quantity: 7 });
  });

  it("checks the form before sending", async () => {
    const { calls } = productsApi();
    const { user } = renderPage(<ProductsPage />);
    await screen.findAllByTestId("product-row");
    await user.click(screen.getByRole("button", { name: "New product" }));
    const dialog = await screen.findByRole("dialog", { name: "New product" });
    await user.type(within(dialog).getByLabelText("Price"), "1,50");
    await user.click(within(dialog).getByRole("button", { name: "Create product" }));
    expect(within(dialog).getByText("SKU is required.")).toBeInTheDocument();
    expect(within(dialog).getByText(/at most 4 decimals/)).toBeInTheDocument();
    expect(calls.filter((c) => c.method !== "GET")).toHaveLength(0);
  });

  it("deletes one product after confirmation", async () => {
    const { calls } = productsApi({ "DELETE /api/products/AB-1": () => ({ status: 204 }) });
    const { user } = renderPage(<ProductsPage />);
    await screen.findAllByTestId("product-row");
    await user.click(screen.getByRole("button", { name: "Delete “AB-1”" }));
    const dialog = await screen.findByRole("dialog", { name: "Delete “AB-1”?" });
    await user.click(within(dialog).getByRole("button", { name: "Delete product" }));
    expect(await screen.findByText("Deleted “AB-1”.")).toBeInTheDocument();
    expect(calls.some((c) => c.method === "DELETE" && c.path === "/api/products/AB-1")).toBe(true);
  });

  it("deletes everything only after the phrase is typed", async () => {
    const { calls } = productsApi({ "DELETE /api/products": () => ({ status: 200, body: { deleted: 2 } }) });
    const { user } = renderPage(<ProductsPage />);
    await screen.findAllByTestId("product-row");
    await user.click(screen.getByRole("button", { name: "Delete all products" }));
    const dialog = await screen.findByRole("dialog", { name: "Delete all products?" });
    const confirm = within(dialog).getByRole("button", { name: "Delete all products" });
    expect(confirm).toBeDisabled();
    await user.type(within(dialog).getByLabelText(/Type/), "delete all");
    expect(confirm).toBeDisabled();
    await user.type(within(dialog).getByLabelText(/Type/), " products");
    await user.click(confirm);
    expect(await screen.findByText("Deleted 2 products.")).toBeInTheDocument();
    const del = calls.find((c) => c.method === "DELETE");
    expect(del!.query.get("confirm")).toBe("true");
  });

  it("views, edits and deletes products whose SKU is “.” or “..”: their path is not folded away, and the messages quote the SKU", async () => {
    // given two products with SKUs the URL parser would fold into the path around them
    const dots = [makeProduct({ sku: ".", name: "Dot" }), makeProduct({ sku: "..", name: "Dots" })];
    const { calls } = mockApi({
      "GET /api/products": () => ({ body: { items: dots, next_cursor: null } }),
      // (a trailing space the API trims off: "%2E%2E" alone would still be folded, by the browser as here)
      "GET /api/products/%2E%2E%20/history": () => ({ body: { items: [], next_cursor: null } }),
      "PATCH /api/products/%2E%2E%20": () => ({ body: makeProduct({ sku: "..", name: "Dots!" }) }),
      "DELETE /api/products/%2E%20": () => ({ status: 204 }),
    });
    const { user } = renderPage(<ProductsPage />);
    await waitFor(() => expect(screen.getAllByTestId("product-row")).toHaveLength(2));
    // when their history is opened, one is edited and the other deleted
    await user.click(screen.getByRole("button", { name: "History of “..”" }));
    expect(await screen.findByText("No recorded changes")).toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "Close" }));
    await user.click(screen.getByRole("button", { name: "Edit “..”" }));
    const form = await screen.findByRole("dialog", { name: "Edit “..”" });
    await user.type(within(form).getByLabelText("Name"), "!");
    await user.click(within(form).getByRole("button", { name: "Save changes" }));
    expect(await screen.findByText("Saved “..”.")).toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "Delete “.”" }));
    await user.click(within(await screen.findByRole("dialog", { name: "Delete “.”?" })).getByRole("button", { name: "Delete product" }));
    expect(await screen.findByText("Deleted “.”.")).toBeInTheDocument();
    // (the messages quote the SKU: “Saved ..” alone would read as a sentence trailing off)
    // then every request reached the product's own path (none went to /api/products/ or /api/)
    expect(calls.filter((c) => c.method !== "GET" || c.path !== "/api/products").map((c) => `${c.method} ${c.path}`)).toEqual([
      "GET /api/products/%2E%2E%20/history",
      "PATCH /api/products/%2E%2E%20",
      "DELETE /api/products/%2E%20",
    ]);
  });

  it("gives focus back to the form after a server error that belongs to no field, so Escape still closes it", async () => {
    // given a save that takes a while and then fails with no field to blame
    let fail: () => void = () => {};
    const failed = new Promise<void>((resolve) => (fail = resolve));
    productsApi({
      "PATCH /api/products/AB-1": async () => {
        await failed;
        return { status: 503, body: { detail: "The database is busy. Try again." } };
      },
    });
    const { user } = renderPage(<ProductsPage />);
    await screen.findAllByTestId("product-row");
    await user.click(screen.getByRole("button", { name: "Edit “AB-1”" }));
    const dialog = await screen.findByRole("dialog", { name: "Edit “AB-1”" });
    await user.type(within(dialog).getByLabelText("Name"), " XL");
    await user.click(within(dialog).getByRole("button", { name: "Save changes" }));
    // while saving the button is disabled, and a browser moves the focus of a disabled button out of the
    // dialog (to <body>; jsdom does not, so the test moves it out itself)
    expect(await within(dialog).findByRole("button", { name: "Saving…" })).toBeDisabled();
    screen.getByRole("button", { name: "New product" }).focus();
    // when the save fails
    fail();
    // then the focus is back in the dialog, on the message, and Escape closes the dialog
    const alert = await within(dialog).findByRole("alert");
    expect(alert).toHaveTextContent("The database is busy. Try again.");
    await waitFor(() => expect(alert).toHaveFocus());
    await user.keyboard("{Escape}");
    expect(screen.queryByRole("dialog")).toBeNull();
  });

  it("treats a product deleted in another tab as deleted: Delete is done, Edit says so; the list refreshes", async () => {
    // given a list that still shows two products another tab has deleted
    let listed = [makeProduct(), makeProduct({ sku: "CD-2", name: "Chair" })];
    const { calls } = mockApi({
      "GET /api/products": () => ({ body: { items: listed, next_cursor: null } }),
      "DELETE /api/products/AB-1": () => ({ status: 404, body: { detail: "product 'AB-1' not found" } }),
      "PATCH /api/products/CD-2": () => ({ status: 404, body: { detail: "product 'CD-2' not found" } }),
    });
    const { user } = renderPage(<ProductsPage />);
    await waitFor(() => expect(screen.getAllByTestId("product-row")).toHaveLength(2));
    // when one is deleted here too: that is done, and the list is asked again
    listed = [makeProduct({ sku: "CD-2", name: "Chair" })];
    await user.click(screen.getByRole("button", { name: "Delete “AB-1”" }));
    await user.click(within(await screen.findByRole("dialog", { name: "Delete “AB-1”?" })).getByRole("button", { name: "Delete product" }));
    expect(await screen.findByText("“AB-1” was already deleted.")).toBeInTheDocument();
    expect(screen.queryByRole("dialog")).toBeNull();
    await waitFor(() => expect(screen.getAllByTestId("product-row")).toHaveLength(1));
    // when the other is edited: the dialog says it was deleted meanwhile, and the list is asked again
    listed = [];
    const lists = calls.filter((c) => c.path === "/api/products").length;
    await user.click(screen.getByRole("button", { name: "Edit “CD-2”" }));
    const form = await screen.findByRole("dialog", { name: "Edit “CD-2”" });
    await user.type(within(form).getByLabelText("Name"), "!");
    await user.click(within(form).getByRole("button", { name: "Save changes" }));
    expect(await within(form).findByRole("alert")).toHaveTextContent("“CD-2” was deleted meanwhile");
    await waitFor(() => expect(calls.filter((c) => c.path === "/api/products").length).toBeGreaterThan(lists));
  });

  it("shows prices with at least two decimals, and the further ones a price has", async () => {
    mockApi({
      "GET /api/products": () => ({
        body: {
          items: [
            makeProduct({ sku: "A", price: "8" }),
            makeProduct({ sku: "B", price: "5.5" }),
            makeProduct({ sku: "C", price: "1.00" }),
            makeProduct({ sku: "D", price: "19.9900" }),
            makeProduct({ sku: "E", price: "0.1235" }),
            makeProduct({ sku: "F", price: null }),
          ],
          next_cursor: null,
        },
      }),
    });
    renderPage(<ProductsPage />);
    await waitFor(() => expect(screen.getAllByTestId("product-row")).toHaveLength(6));
    const prices = screen.getAllByTestId("product-row").map((row) => row.querySelectorAll("td")[2]!.textContent);
    expect(prices).toEqual(["8.00 USD", "5.50 USD", "1.00 USD", "19.99 USD", "0.1235 USD", "–"]);
  });

  it("lets a long SKU or name without spaces wrap in its cell instead of widening the table", async () => {
    // given a product with a 64-character SKU and an 80-character name, no spaces
    loadAppStyles();
    mockApi({ "GET /api/products": () => ({ body: { items: [makeProduct({ sku: "X".repeat(64), name: "N".repeat(80) })], next_cursor: null } }) });
    renderPage(<ProductsPage />);
    const [sku, name, price] = Array.from((await screen.findByTestId("product-row")).querySelectorAll("td"));
    // then both may break anywhere, while the price stays on one line
    expect(getComputedStyle(sku!).overflowWrap).toBe("anywhere");
    expect(getComputedStyle(name!).overflowWrap).toBe("anywhere");
    expect(getComputedStyle(price!).whiteSpace).toBe("nowrap");
  });

  it("keeps the filters within what the API takes (longer is a 422)", async () => {
    // given a shared URL with a search longer than the API takes
    const { calls } = productsApi();
    renderPage(<ProductsPage />, { at: `/?q=${"q".repeat(250)}&brand=${"b".repeat(300)}` });
    // then the search sent is cut to the limit, and the fields take no more
    await waitFor(() => expect(calls.some((c) => c.query.get("q") !== null)).toBe(true));
    const sent = calls.find((c) => c.query.get("q") !== null)!;
    expect(sent.query.get("q")).toHaveLength(200);
    expect(sent.query.get("brand")).toHaveLength(255);
    expect(screen.getByLabelText("Search")).toHaveAttribute("maxLength", "200");
    expect(screen.getByLabelText("Brand")).toHaveAttribute("maxLength", "255");
    expect(screen.getByLabelText("Category")).toHaveAttribute("maxLength", "255");
  });

  it("says what the user can do about an empty catalogue: admins import or add, importers import, viewers wait", async () => {
    const expected: [string[] | null, string][] = [
      [null, "Import a CSV file on the Imports page, or add one with “New product”."],
      [["importer"], "Import a CSV file on the Imports page."],
      [["viewer"], "Products show here once someone in the importer group imports a file."],
    ];
    for (const [groups, text] of expected) {
      mockApi({ "GET /api/products": () => ({ body: { items: [], next_cursor: null } }) });
      if (groups) signInAs(groups);
      const view = renderPage(<ProductsPage />);
      const empty = (await screen.findByText("No products yet")).parentElement!;
      expect(empty.textContent).toBe(`No products yet${text}`);
      view.unmount();
    }
  });
});
