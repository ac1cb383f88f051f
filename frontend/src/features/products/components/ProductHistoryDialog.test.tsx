import { screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { makeProduct, mockApi } from "@/test/api";
import { renderPage } from "@/test/render";
import { ProductsPage } from "./ProductsPage";

describe("product history", () => {
  it("lists imports, edits and reverts newest first and pages further", async () => {
    const { calls } = mockApi({
      "GET /api/products": () => ({ body: { items: [makeProduct()], next_cursor: null } }),
      "GET /api/imports/imp-2": () => ({ body: { id: "imp-2", filename: "prices-jan.csv", status: "reverted" } }),
      "GET /api/products/AB-1/history": (req) =>
        req.query.get("cursor") === "h2"
          ? { body: { items: [{ import_id: "imp-1", action: "create", changes: {}, at: "2025-01-01T10:00:00Z", reverted: false }], next_cursor: null } }
          : {
              body: {
                items: [
                  { import_id: null, action: "update", changes: { quantity: { from: 5, to: 4 } }, at: "2025-01-03T10:00:00Z", reverted: false },
                  { import_id: "imp-2", action: "update", changes: { price: { from: "19.9900", to: "24.0000" } }, at: "2025-01-02T10:00:00Z", reverted: true },
                ],
                next_cursor: "h2",
              },
            },
    });
    const { user } = renderPage(<ProductsPage />);
    await user.click(await screen.findByRole("button", { name: "History of “AB-1”" }));
    const dialog = await screen.findByRole("dialog", { name: "History of “AB-1”" });
    const entries = await within(dialog).findAllByTestId("history-entry");
    expect(entries[0]).toHaveTextContent("by an edit");
    expect(entries[0]).toHaveTextContent("Quantity before: 5 → after: 4");
    expect(entries[1]).toHaveAttribute("data-reverted", "true");
    expect(within(entries[1]!).getByText("Reverted")).toBeInTheDocument();
    // an import's entry names its file, so two imports' links say which is which
    expect(await within(entries[1]!).findByRole("link", { name: "“prices-jan.csv”" })).toHaveAttribute("href", "/imports/imp-2");
    await user.click(within(dialog).getByRole("button", { name: "Show older changes" }));
    const all = await within(dialog).findAllByTestId("history-entry");
    expect(all).toHaveLength(3);
    // an import the API cannot name (gone, or not answered) is still linked, as "an import"
    expect(await within(all[2]!).findByRole("link", { name: "an import" })).toHaveAttribute("href", "/imports/imp-1");
    expect(calls.filter((c) => c.path === "/api/products/AB-1/history").at(-1)!.query.get("cursor")).toBe("h2");
    expect(within(dialog).queryByRole("button", { name: "Show older changes" })).toBeNull();
  });
});
