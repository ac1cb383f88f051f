import { screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { Layout } from "@/components/Layout";
import { ImportsPage } from "@/features/imports/components/ImportsPage";
import { ProductsPage } from "@/features/products/components/ProductsPage";
import { WebhooksPage } from "@/features/webhooks/components/WebhooksPage";
import { signInAs } from "@/test/auth";
import { makeProduct, mockApi } from "@/test/api";
import { renderPage } from "@/test/render";

/** CONTRACT §8: the UI hides what the signed-in user's groups may not do. */
function api() {
  return mockApi({
    "GET /api/config": () => ({ body: { websocket_url: null } }),
    "GET /api/imports": () => ({ body: { items: [], next_cursor: null } }),
    "GET /api/products": () => ({ body: { items: [makeProduct()], next_cursor: null } }),
    "GET /api/webhooks": () => ({ body: { items: [], next_cursor: null } }),
  });
}

describe("what each group sees", () => {
  it("a viewer follows imports and reads products, but starts and edits nothing", async () => {
    api();
    signInAs(["viewer"]);
    renderPage(<ImportsPage />);
    expect(await screen.findByText(/Starting one needs the importer group/)).toBeInTheDocument();
    expect(screen.queryByTestId("drop-zone")).toBeNull();
  });

  it("a viewer sees products without edit, delete or new", async () => {
    api();
    signInAs(["viewer"]);
    renderPage(<ProductsPage />);
    const row = await screen.findByTestId("product-row");
    expect(within(row).getAllByRole("button").map((b) => b.textContent)).toEqual(["History"]);
    expect(screen.queryByRole("button", { name: "New product" })).toBeNull();
    expect(screen.queryByRole("button", { name: "Delete all products" })).toBeNull();
  });

  it("an importer gets the drop zone but still no product edits", async () => {
    api();
    signInAs(["importer"]);
    renderPage(<ImportsPage />);
    expect(await screen.findByTestId("drop-zone")).toBeInTheDocument();
  });

  it("webhooks are for admins only: no menu entry and no list for the others", async () => {
    const { calls } = api();
    signInAs(["importer"]);
    renderPage(<Layout />, { path: "/*" });
    expect(screen.getByRole("link", { name: "Imports" })).toBeInTheDocument();
    expect(screen.queryByRole("link", { name: "Webhooks" })).toBeNull();
    renderPage(<WebhooksPage />);
    expect(screen.getByText(/managed by administrators/)).toBeInTheDocument();
    expect(calls.some((c) => c.path === "/api/webhooks")).toBe(false);
  });

  it("an admin sees every action", async () => {
    api();
    signInAs(["admin"]);
    renderPage(<ProductsPage />);
    const row = await screen.findByTestId("product-row");
    expect(within(row).getByRole("button", { name: "Edit “AB-1”" })).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "New product" })).toBeInTheDocument();
  });

  it("a signed-in user in no group is told what to ask for", () => {
    api();
    signInAs([]);
    renderPage(<Layout />, { path: "/*" });
    expect(screen.getByTestId("no-group")).toHaveTextContent("Your account is in no group yet");
  });
});
