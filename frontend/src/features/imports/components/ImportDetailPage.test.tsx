import { act, screen, waitFor, within } from "@testing-library/react";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { apiOutage, FakeWebSocket, makeImport, mockApi } from "@/test/api";
import { signInAs } from "@/test/auth";
import { renderPage } from "@/test/render";
import { ImportDetailPage } from "./ImportDetailPage";

describe("ImportDetailPage", () => {
  beforeEach(() => {
    FakeWebSocket.reset();
    vi.stubGlobal("WebSocket", FakeWebSocket);
  });

  it("explains a failed import in words and offers no empty download", async () => {
    mockApi({
      "GET /api/config": () => ({ body: { websocket_url: "ws://127.0.0.1:8001/ws" } }),
      "GET /api/imports/imp-1": () => ({
        body: makeImport({
          status: "failed", rows_total: null, rows_processed: 0, rows_imported: 0, rows_failed: 0, products_created: 0, products_updated: 0,
          error: "the header has no sku column",
        }),
      }),
      "GET /api/imports/imp-1/errors": () => ({ body: { items: [], next_cursor: null } }),
    });
    renderPage(<ImportDetailPage />, { path: "/imports/:id", at: "/imports/imp-1" });
    const reason = await screen.findByTestId("failure-reason");
    expect(reason).toHaveTextContent("This file could not be imported. the header has no sku column");
    expect(screen.queryByRole("link", { name: "Download errors (CSV)" })).toBeNull();
    expect(await screen.findByText(/the whole file failed/)).toBeInTheDocument();
  });

  it("offers no Revert for an import that wrote nothing (it failed at its header), and lists the mapping SKU first", async () => {
    // given an import that failed at its header, with the mapping in effect as the server answers it
    mockApi({
      "GET /api/config": () => ({ body: { websocket_url: null } }),
      "GET /api/imports/imp-1": () => ({
        body: makeImport({
          status: "failed", rows_total: null, rows_processed: 0, rows_failed: 0, products_created: 0, products_updated: 0, products_unchanged: 0,
          error: "missing required columns: name",
          mapping: { Preis: "price", Colour: "attribute", Artikelnummer: "sku", id: "m-1" },
        }),
      }),
      "GET /api/imports/imp-1/errors": () => ({ body: { items: [], next_cursor: null } }),
    });
    const { user } = renderPage(<ImportDetailPage />, { path: "/imports/:id", at: "/imports/imp-1" });
    await screen.findByTestId("failure-reason");
    // then there is nothing to take back: no Revert (a revert of it would do nothing)
    expect(screen.queryByRole("button", { name: "Revert" })).toBeNull();
    // and the mapping lists the SKU's column first, then the fields, then what is kept as attributes
    const used = screen.getByTestId("mapping-used");
    await user.click(within(used).getByText(/Column mapping/));
    expect(within(used).getAllByRole("listitem").map((li) => li.textContent)).toEqual(["Artikelnummer → SKU", "Preis → Price", "Colour → Keep as attribute"]);
  });

  it("lists a column named id of a mapping sent with the import, and says no saved mapping applied", async () => {
    // given an import whose own mapping (no saved mapping applied) reads a column "id" as the SKU
    mockApi({
      "GET /api/config": () => ({ body: { websocket_url: null } }),
      "GET /api/imports/imp-1": () => ({ body: makeImport({ status: "completed", mapping: { id: "sku", Titel: "name" } }) }),
      "GET /api/imports/imp-1/errors": () => ({ body: { items: [], next_cursor: null } }),
    });
    const { user } = renderPage(<ImportDetailPage />, { path: "/imports/:id", at: "/imports/imp-1" });
    // then the id column is listed (it was hidden, and the summary claimed a saved mapping)
    const used = await screen.findByTestId("mapping-used");
    expect(used).toHaveTextContent("Column mapping: 2 columns");
    await user.click(within(used).getByText(/Column mapping/));
    expect(within(used).getAllByRole("listitem").map((li) => li.textContent)).toEqual(["id → SKU", "Titel → Name"]);
  });

  it("says a saved mapping applied and lists its columns, the id column shown as ID", async () => {
    mockApi({
      "GET /api/config": () => ({ body: { websocket_url: null } }),
      "GET /api/imports/imp-1": () => ({
        body: makeImport({ status: "completed", mapping: { ID: "attribute", Code: "sku", id: "0f3e9a" } }),
      }),
      "GET /api/imports/imp-1/errors": () => ({ body: { items: [], next_cursor: null } }),
    });
    renderPage(<ImportDetailPage />, { path: "/imports/:id", at: "/imports/imp-1" });
    const used = await screen.findByTestId("mapping-used");
    expect(used).toHaveTextContent("Column mapping (a saved mapping): 2 columns");
    expect(used).toHaveTextContent("ID → Keep as attribute");
  });

  it("offers Revert for a failed import that wrote products before it stopped", async () => {
    mockApi({
      "GET /api/config": () => ({ body: { websocket_url: null } }),
      "GET /api/imports/imp-1": () => ({
        body: makeImport({ status: "failed", rows_processed: 5000, rows_imported: 4899, rows_failed: 101, products_created: 4899, error: "too many row errors" }),
      }),
      "GET /api/imports/imp-1/errors": () => ({ body: { items: [], next_cursor: null } }),
    });
    renderPage(<ImportDetailPage />, { path: "/imports/:id", at: "/imports/imp-1" });
    const reason = await screen.findByTestId("failure-reason");
    expect(screen.getByRole("button", { name: "Revert" })).toBeInTheDocument();
    // and it says that what was imported before the stop stays, not that the file "could not be imported"
    expect(reason).toHaveTextContent("The import stopped before the end of the file. Too many row errors.");
    expect(reason).toHaveTextContent("The 4,899 rows imported before it stopped stay in the catalogue. Revert the import to take them back");
    expect(reason).not.toHaveTextContent("could not be imported");
  });

  it("recovers by itself once an API that was down when the page opened is back", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    try {
      // given an API that cannot be reached when the page opens
      const outage = apiOutage();
      mockApi({
        "GET /api/config": outage.answer({ body: { websocket_url: "ws://127.0.0.1:8001/ws" } }),
        "GET /api/imports/imp-1": outage.answer({ body: makeImport() }),
        "GET /api/imports/imp-1/errors": () => ({ body: { items: [], next_cursor: null } }),
      });
      renderPage(<ImportDetailPage />, { path: "/imports/:id", at: "/imports/imp-1" });
      expect(await screen.findByText("Could not load this import.")).toBeInTheDocument();
      // when it comes back, the poll's answer shows the import, without the error
      outage.end();
      await act(async () => {
        await vi.advanceTimersByTimeAsync(2100);
      });
      expect(await screen.findByRole("heading", { name: "catalog.csv" })).toBeInTheDocument();
      expect(screen.queryByText("Could not load this import.")).toBeNull();
      // and the socket is tried again, so the page goes live
      await act(async () => {
        await vi.advanceTimersByTimeAsync(2000);
      });
      await waitFor(() => expect(FakeWebSocket.instances.length).toBeGreaterThan(0));
      act(() => FakeWebSocket.latest().open());
      expect(screen.getByTestId("live-indicator")).toHaveAttribute("data-mode", "live");
    } finally {
      vi.useRealTimers();
    }
  });

  it("follows one import live and links its errors CSV", async () => {
    mockApi({
      "GET /api/config": () => ({ body: { websocket_url: "ws://127.0.0.1:8001/ws" } }),
      "GET /api/imports/imp-1": () => ({ body: makeImport() }),
      "GET /api/imports/imp-1/errors": () => ({ body: { items: [], next_cursor: null } }),
    });
    renderPage(<ImportDetailPage />, { path: "/imports/:id", at: "/imports/imp-1" });
    expect(await screen.findByRole("heading", { name: "catalog.csv" })).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "Download errors (CSV)" })).toHaveAttribute("href", "/api/imports/imp-1/errors.csv");
    await waitFor(() => expect(FakeWebSocket.instances.length).toBeGreaterThan(0));
    act(() => FakeWebSocket.latest().open());
    expect(JSON.parse(FakeWebSocket.latest().sent[0]!)).toEqual({ action: "subscribe", import_id: "imp-1" });
    // frames for other imports are ignored; ours moves the page
    act(() => FakeWebSocket.latest().receive({ type: "import.updated", import: makeImport({ id: "other", status: "failed" }) }));
    act(() => FakeWebSocket.latest().receive({ type: "import.updated", import: makeImport({ status: "completed", rows_processed: 1000 }) }));
    await waitFor(() => expect(screen.getByTestId("detail-status")).toHaveTextContent("Completed"));
  });

  it("says how the file was read: encoding, profile, skipped rows and warnings", async () => {
    mockApi({
      "GET /api/config": () => ({ body: {} }),
      "GET /api/imports/imp-1": () => ({
        body: makeImport({
          status: "completed",
          encoding: "windows-1252",
          profile: "shopify",
          rows_skipped: 12,
          warnings: ["Two columns are named “Price”: the leftmost is used, the other is ignored."],
          mapping: { id: "m-1", "Item Code": "sku" },
        }),
      }),
      "GET /api/imports/imp-1/errors": () => ({ body: { items: [], next_cursor: null } }),
    });
    renderPage(<ImportDetailPage />, { path: "/imports/:id", at: "/imports/imp-1" });
    expect(await screen.findByTestId("fact-encoding")).toHaveTextContent("Windows-1252");
    // and the browser tab is named after the file, so two open tabs can be told apart
    expect(document.title).toBe("Import of catalog.csv · Product Importer");
    expect(screen.getByTestId("fact-profile")).toHaveTextContent("Shopify export");
    expect(screen.getByTestId("fact-skipped")).toHaveTextContent("12");
    expect(screen.getByTestId("stat-skipped")).toHaveTextContent("12");
    expect(screen.getByTestId("import-warnings")).toHaveTextContent("Two columns are named “Price”");
    expect(screen.getByTestId("mapping-used")).toHaveTextContent("Item Code → SKU");
  });

  it("shows a held replace once, as its panel, not also as a warning telling what to POST", async () => {
    mockApi({
      "GET /api/config": () => ({ body: {} }),
      "GET /api/imports/imp-1": () => ({
        body: makeImport({
          status: "completed",
          replace: { scope: "all", max_deactivate_percent: 20, status: "held" },
          warnings: ["replace held: 40 of 50 products in scope (80%) would be deactivated; to deactivate them, POST /api/imports/imp-1/replace?confirm=true",
                     "Values under a column with no name are not imported."],
        }),
      }),
      "GET /api/imports/imp-1/errors": () => ({ body: { items: [], next_cursor: null } }),
      "GET /api/imports/imp-1/changes/summary": () => ({ body: { create: 0, update: 0, unchanged: 0, deactivate: 0, fields: {} } }),
      "GET /api/imports/imp-1/changes": () => ({ body: { items: [], next_cursor: null } }),
    });
    renderPage(<ImportDetailPage />, { path: "/imports/:id", at: "/imports/imp-1" });
    const warnings = await screen.findByTestId("import-warnings");
    expect(warnings).toHaveTextContent("1 warning about this file");
    expect(warnings).not.toHaveTextContent("POST /api/imports");
  });

  it("offers to discard an import whose upload never finished", async () => {
    const { calls } = mockApi({
      "GET /api/config": () => ({ body: {} }),
      "GET /api/imports/imp-1": () => ({ body: makeImport({ status: "pending", rows_total: null, rows_processed: 0 }) }),
      "GET /api/imports/imp-1/errors": () => ({ body: { items: [], next_cursor: null } }),
      "DELETE /api/imports/imp-1": () => ({ status: 204 }),
      "GET /api/imports": () => ({ body: { items: [], next_cursor: null } }),
    });
    const { user } = renderPage(<ImportDetailPage />, { path: "/imports/:id", at: "/imports/imp-1" });
    const pending = await screen.findByTestId("pending");
    expect(pending).toHaveTextContent(/upload was interrupted/);
    expect(await screen.findByText("No row has been read yet: the file has not arrived.")).toBeInTheDocument();
    await user.click(within(pending).getByRole("button", { name: "Discard" }));
    // the confirm is not part of the pending notice (a live region: it would be read out as news)
    const dialog = await screen.findByRole("dialog", { name: "Discard this import?" });
    expect(pending).not.toContainElement(dialog);
    expect(dialog.closest('.alert, [role="status"], [aria-live]')).toBeNull();
    await user.click(within(dialog).getByRole("button", { name: "Discard import" }));
    await waitFor(() => expect(calls.some((c) => c.method === "DELETE" && c.path === "/api/imports/imp-1")).toBe(true));
  });

  it("tells a viewer who can discard an import whose upload never finished, instead of asking them to", async () => {
    mockApi({
      "GET /api/config": () => ({ body: {} }),
      "GET /api/imports/imp-1": () => ({ body: makeImport({ status: "pending", rows_total: null, rows_processed: 0 }) }),
      "GET /api/imports/imp-1/errors": () => ({ body: { items: [], next_cursor: null } }),
    });
    signInAs(["viewer"]);
    renderPage(<ImportDetailPage />, { path: "/imports/:id", at: "/imports/imp-1" });
    const pending = await screen.findByTestId("pending");
    expect(pending).toHaveTextContent("someone in the importer group can discard it and upload the file again");
    expect(pending).not.toHaveTextContent("discard this import");
    expect(within(pending).queryByRole("button")).toBeNull();
  });

  it("says when the import does not exist", async () => {
    mockApi({
      "GET /api/config": () => ({ body: {} }),
      "GET /api/imports/nope": () => ({ status: 404, body: { detail: "import not found" } }),
    });
    renderPage(<ImportDetailPage />, { path: "/imports/:id", at: "/imports/nope" });
    expect(await screen.findByText(/No import with id “nope”/)).toBeInTheDocument();
  });
});
