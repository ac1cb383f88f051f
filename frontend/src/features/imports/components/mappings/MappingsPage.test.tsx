import { screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { mockApi } from "@/test/api";
import { signInAs } from "@/test/auth";
import { renderPage } from "@/test/render";
import { MappingsPage } from "./MappingsPage";

const byHeaders = { id: "m-1", name: "Supplier columns", mapping: { "Item Code": "sku", Title: "name" }, headers: ["Item Code", "Title"], prefix: null };
const byPrefix = { id: "m-2", name: "Acme feed", mapping: { Ref: "sku" }, headers: null, prefix: "incoming/acme/", replace: { scope: "partner", max_deactivate_percent: 10 } };

function api() {
  let items = [byHeaders, byPrefix];
  return mockApi({
    "GET /api/mappings": () => ({ body: { items, next_cursor: null } }),
    "PUT /api/mappings/m-1": (req) => {
      items = items.map((m) => (m.id === "m-1" ? { ...m, ...(req.body as object) } : m));
      return { body: items[0] };
    },
    "DELETE /api/mappings/m-2": () => {
      items = items.filter((m) => m.id !== "m-2");
      return { status: 204 };
    },
  });
}

describe("MappingsPage", () => {
  it("lists mappings by header set and by partner prefix", async () => {
    api();
    renderPage(<MappingsPage />);
    const rows = await screen.findAllByTestId("mapping-row");
    expect(rows).toHaveLength(2);
    expect(rows[0]).toHaveTextContent("Uploads with these columns");
    expect(rows[0]).toHaveTextContent("Item Code → SKU");
    expect(rows[1]).toHaveTextContent("Partner drops: incoming/acme/");
    expect(rows[1]).toHaveTextContent("replace (partner, hold over 10 %)");
  });

  it("lists a mapping's columns in the file's order, or by field, not in the server's order (by name length)", async () => {
    // given mappings as the server answers them: JSON keys ordered by their length, not as the file has them
    mockApi({
      "GET /api/mappings": () => ({
        body: {
          items: [
            { id: "m-3", name: "Supplier", mapping: { Cost: "price", Title: "name", Colour: "ignore", "Item Code": "sku" }, headers: ["Item Code", "Title", "Cost", "Colour"], prefix: null },
            { id: "m-4", name: "Acme", mapping: { Preis: "price", Bezeichnung: "name", Artikelnummer: "sku" }, headers: null, prefix: "incoming/acme/", updated_at: "2026-11-30T23:22:31Z" },
          ],
          next_cursor: null,
        },
      }),
    });
    renderPage(<MappingsPage />);
    const [supplier, acme] = await screen.findAllByTestId("mapping-row");
    const entries = (row: HTMLElement) => within(row).getAllByRole("listitem").map((li) => li.textContent);
    // then a mapping saved for a header set lists its columns as the file has them
    expect(entries(supplier!)).toEqual(["Item Code → SKU", "Title → Name", "Cost → Price", "Colour → Ignore"]);
    // and a partner mapping (no header set) by field: SKU, then name, then the others
    expect(entries(acme!)).toEqual(["Artikelnummer → SKU", "Bezeichnung → Name", "Preis → Price"]);
    // and its facts line does not start with a stray separator (it read "· changed …")
    expect(acme!.querySelector("p.muted")!.textContent).toMatch(/^changed /);
  });

  it("edits a mapping's columns in the file's order, not in the server's order (by name length)", async () => {
    // given a mapping saved for a header set, answered with its keys ordered by length as the server does
    mockApi({
      "GET /api/mappings": () => ({
        body: {
          items: [
            {
              id: "m-5",
              name: "Küche",
              mapping: { Preis: "price", Bestand: "quantity", Bezeichnung: "name", Artikelnummer: "sku" },
              headers: ["Artikelnummer", "Bezeichnung", "Preis", "Bestand"],
              prefix: null,
            },
          ],
          next_cursor: null,
        },
      }),
    });
    const { user } = renderPage(<MappingsPage />);
    await screen.findAllByTestId("mapping-row");
    // when it is opened for editing
    await user.click(screen.getByRole("button", { name: "Edit Küche" }));
    const dialog = await screen.findByRole("dialog", { name: "Edit “Küche”" });
    // then its columns are listed as the file has them, like the card and the "applies to" line
    const headers = within(dialog).getAllByRole("listitem").map((li) => li.querySelector("code")!.textContent);
    expect(headers).toEqual(["Artikelnummer", "Bezeichnung", "Preis", "Bestand"]);
  });

  it("edits a mapping's columns and saves it with PUT", async () => {
    const { calls } = api();
    const { user } = renderPage(<MappingsPage />);
    await screen.findAllByTestId("mapping-row");
    await user.click(screen.getByRole("button", { name: "Edit Supplier columns" }));
    const dialog = await screen.findByRole("dialog", { name: "Edit “Supplier columns”" });
    await user.selectOptions(within(dialog).getByLabelText("Import column “Title” as"), "description");
    await user.click(within(dialog).getByRole("button", { name: "Save changes" }));
    expect(await screen.findByText("Saved the mapping “Supplier columns”.")).toBeInTheDocument();
    expect(calls.find((c) => c.method === "PUT")!.body).toEqual({
      name: "Supplier columns",
      mapping: { "Item Code": "sku", Title: "description" },
      profile: null,
      headers: ["Item Code", "Title"],
      prefix: null,
      replace: null,
    });
    await waitFor(() => expect(screen.getAllByTestId("mapping-row")[0]).toHaveTextContent("Title → Description"));
  });

  it("deletes a partner mapping after confirmation", async () => {
    const { calls } = api();
    const { user } = renderPage(<MappingsPage />);
    await screen.findAllByTestId("mapping-row");
    await user.click(screen.getByRole("button", { name: "Delete Acme feed" }));
    await user.click(within(await screen.findByRole("dialog")).getByRole("button", { name: "Delete mapping" }));
    await waitFor(() => expect(screen.getAllByTestId("mapping-row")).toHaveLength(1));
    expect(calls.some((c) => c.method === "DELETE" && c.path === "/api/mappings/m-2")).toBe(true);
  });

  it("treats a mapping deleted in another tab as deleted: Delete is done, Edit says so; the list refreshes", async () => {
    // given a page that still lists two mappings another tab has deleted
    let items = [byHeaders, byPrefix];
    const { calls } = mockApi({
      "GET /api/mappings": () => ({ body: { items, next_cursor: null } }),
      "DELETE /api/mappings/m-2": () => ({ status: 404, body: { detail: "mapping 'm-2' not found" } }),
      "PUT /api/mappings/m-1": () => ({ status: 404, body: { detail: "mapping 'm-1' not found" } }),
    });
    const { user } = renderPage(<MappingsPage />);
    await waitFor(() => expect(screen.getAllByTestId("mapping-row")).toHaveLength(2));
    // when one is deleted here too: that is done, and the list is asked again
    items = [byHeaders];
    await user.click(screen.getByRole("button", { name: "Delete Acme feed" }));
    await user.click(within(await screen.findByRole("dialog")).getByRole("button", { name: "Delete mapping" }));
    expect(await screen.findByText("The mapping “Acme feed” was already deleted.")).toBeInTheDocument();
    await waitFor(() => expect(screen.getAllByTestId("mapping-row")).toHaveLength(1));
    // when the other is edited: the dialog says it was deleted meanwhile, and the list is asked again
    items = [];
    const lists = calls.filter((c) => c.method === "GET").length;
    await user.click(screen.getByRole("button", { name: "Edit Supplier columns" }));
    const dialog = await screen.findByRole("dialog", { name: "Edit “Supplier columns”" });
    await user.click(within(dialog).getByRole("button", { name: "Save changes" }));
    expect(await within(dialog).findByRole("alert")).toHaveTextContent("This mapping was deleted meanwhile");
    await waitFor(() => expect(calls.filter((c) => c.method === "GET").length).toBeGreaterThan(lists));
  });

  it("lets an importer change header-set mappings but not partner ones", async () => {
    api();
    signInAs(["importer"]);
    renderPage(<MappingsPage />);
    const rows = await screen.findAllByTestId("mapping-row");
    expect(within(rows[0]!).getByRole("button", { name: "Edit Supplier columns" })).toBeInTheDocument();
    expect(within(rows[1]!).queryByRole("button")).toBeNull();
    expect(screen.queryByRole("button", { name: "New partner mapping" })).toBeNull();
  });

  it("tells a viewer with no mappings how they get there, instead of asking them to tick a box they never see", async () => {
    mockApi({ "GET /api/mappings": () => ({ body: { items: [], next_cursor: null } }) });
    signInAs(["viewer"]);
    renderPage(<MappingsPage />);
    const empty = (await screen.findByText("No saved mappings yet")).parentElement!;
    expect(empty).toHaveTextContent("Mappings show here once someone in the importer group saves one");
    expect(empty).not.toHaveTextContent("Tick");
  });
});
