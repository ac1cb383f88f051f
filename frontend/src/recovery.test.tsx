import { screen } from "@testing-library/react";
import type { ReactElement } from "react";
import { describe, expect, it } from "vitest";
import { MappingsPage } from "@/features/imports/components/mappings/MappingsPage";
import { ProductsPage } from "@/features/products/components/ProductsPage";
import { WebhooksPage } from "@/features/webhooks/components/WebhooksPage";
import { createQueryClient } from "@/lib/query-client";
import { apiOutage, makeProduct, mockApi } from "@/test/api";
import { renderPage } from "@/test/render";

/** Every list and detail page comes back by itself after an outage: one mechanism, the query client's. */
const pages: [string, () => ReactElement, string, unknown, RegExp][] = [
  ["products", () => <ProductsPage />, "/api/products", { items: [makeProduct()], next_cursor: null }, /Could not load products/],
  ["mappings", () => <MappingsPage />, "/api/mappings", { items: [{ id: "m-1", name: "Supplier columns", mapping: { Ref: "sku" } }], next_cursor: null }, /Could not load mappings/],
  ["webhooks", () => <WebhooksPage />, "/api/webhooks", { items: [{ id: "wh-1", url: "https://partner.example/hook", events: ["import.completed"], enabled: true }], next_cursor: null }, /Could not load webhooks/],
];

describe("recovery after an outage", () => {
  it.each(pages)("the %s page loads by itself once the API is back, without Try again", async (_name, page, path, body, errorText) => {
    // given an API that cannot be reached when the page opens
    const outage = apiOutage();
    mockApi({ [`GET ${path}`]: outage.answer({ body }) });
    renderPage(page(), { client: createQueryClient({ retry: false, errorRefetchMs: 50 }) });
    expect(await screen.findByRole("alert")).toHaveTextContent(errorText);
    // when the API comes back, and nobody clicks anything
    outage.end();
    // then the page shows what it lists, and the error goes
    await screen.findByText(/Desk lamp|Supplier columns|partner\.example/);
    expect(screen.queryByText(errorText)).toBeNull();
  });

  it("does not ask again for an answer the server meant (a 404 stays)", async () => {
    const { calls } = mockApi({ "GET /api/webhooks": () => ({ status: 404, body: { detail: "not here" } }) });
    renderPage(<WebhooksPage />, { client: createQueryClient({ retry: false, errorRefetchMs: 20 }) });
    expect(await screen.findByRole("alert")).toHaveTextContent(/Could not load webhooks/);
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(calls.filter((c) => c.path === "/api/webhooks")).toHaveLength(1);
  });
});
