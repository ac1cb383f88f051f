import { screen, waitFor, within } from "@testing-library/react";
import { useLocation } from "react-router-dom";
import { describe, expect, it } from "vitest";
import { makeProduct, mockApi } from "@/test/api";
import { renderPage } from "@/test/render";
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
    expect(screen.getByTestId("location")).toHaveTextContent("?active=false&brand=Lumo");
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
    await user.click(screen.getByRole("button", { name: "Edit AB-1" }));
    const dialog = await screen.findByRole("dialog", { name: "Edit AB-1" });
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
    await user.click(screen.getByRole("button", { name: "Edit AB-1" }));
    let dialog = await screen.findByRole("dialog", { name: "Edit AB-1" });
    const price = within(dialog).getByLabelText("Price");
    await user.clear(price);
    await user.type(price, "19.99"); // the same number, written shorter
    await user.click(within(dialog).getByRole("button", { name: "Save changes" }));
    await waitFor(() => expect(screen.queryByRole("dialog", { name: "Edit AB-1" })).not.toBeInTheDocument());
    expect(calls.filter((c) => c.method === "PATCH")).toHaveLength(0);
    expect(screen.getByText("Nothing changed in AB-1.")).toBeInTheDocument();
    // one field changed: a PATCH of that field only
    await user.click(screen.getByRole("button", { name: "Edit AB-1" }));
    dialog = await screen.findByRole("dialog", { name: "Edit AB-1" });
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
    await user.click(screen.getByRole("button", { name: "Delete AB-1" }));
    const dialog = await screen.findByRole("dialog", { name: "Delete AB-1?" });
    await user.click(within(dialog).getByRole("button", { name: "Delete product" }));
    expect(await screen.findByText("Deleted AB-1.")).toBeInTheDocument();
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
});
