import { QueryClientProvider } from "@tanstack/react-query";
import { act, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { MemoryRouter, Route, Routes, useNavigate } from "react-router-dom";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { FakeWebSocket, FakeXhr, makeImport, mockApi } from "@/test/api";
import { testQueryClient } from "@/test/render";
import { ImportDetailPage } from "../components/ImportDetailPage";
import { ImportsPage } from "../components/ImportsPage";
import { UploadsProvider } from "./uploadsContext";

function Elsewhere() {
  const navigate = useNavigate();
  return (
    <button type="button" onClick={() => navigate("/")}>
      Back to imports
    </button>
  );
}

function GoElsewhere() {
  const navigate = useNavigate();
  return (
    <button type="button" onClick={() => navigate("/products")}>
      Products
    </button>
  );
}

/** The mapping step's suggestion for a `sku,name` file. */
const suggestSkuAndName = () => ({
  body: { encoding: "utf-8", delimiter: ",", profile: "generic", missing: [], warnings: [], mapping_id: null,
          columns: [{ header: "sku", field: "sku", samples: [] }, { header: "name", field: "name", samples: [] }] },
});

function renderTab() {
  return render(
    <QueryClientProvider client={testQueryClient()}>
      <MemoryRouter initialEntries={["/"]}>
        <UploadsProvider>
          <Routes>
            <Route
              path="/"
              element={
                <>
                  <GoElsewhere />
                  <ImportsPage />
                </>
              }
            />
            <Route path="/products" element={<Elsewhere />} />
          </Routes>
        </UploadsProvider>
      </MemoryRouter>
    </QueryClientProvider>,
  );
}

describe("the tab's uploads", () => {
  beforeEach(() => {
    FakeWebSocket.reset();
    FakeXhr.reset();
    vi.stubGlobal("WebSocket", FakeWebSocket);
    vi.stubGlobal("XMLHttpRequest", FakeXhr);
  });

  it("keep going, with their bar, while the user is on another page, and warn before the tab closes", async () => {
    mockApi({
      "GET /api/config": () => ({ body: { websocket_url: null } }),
      "GET /api/imports": () => ({ body: { items: [], next_cursor: null } }),
      "POST /api/mappings/suggest": suggestSkuAndName,
      "POST /api/imports": () => ({
        status: 201,
        body: { import: makeImport({ id: "imp-9", status: "pending" }), upload: { method: "POST", url: "http://s3/b", fields: {} } },
      }),
    });
    const user = userEvent.setup();
    renderTab();
    await screen.findByTestId("drop-zone");
    fireEvent.drop(screen.getByTestId("drop-zone"), { dataTransfer: { files: [new File(["sku,name\nA,B\n"], "big.csv", { type: "text/csv" })] } });
    const step = await screen.findByTestId("mapping-step");
    await within(step).findByText("sku");
    await user.click(within(step).getByRole("button", { name: "Import now" }));
    await waitFor(() => expect(FakeXhr.instances).toHaveLength(1));
    act(() => FakeXhr.latest().progress(5, 10));

    // a tab with a file still going asks before it closes
    const closing = new Event("beforeunload", { cancelable: true });
    window.dispatchEvent(closing);
    expect(closing.defaultPrevented).toBe(true);

    // to another page and back: the upload is still listed, still going
    await user.click(screen.getByRole("button", { name: "Products" }));
    expect(screen.queryByTestId("upload-item")).toBeNull();
    await user.click(screen.getByRole("button", { name: "Back to imports" }));
    const item = await screen.findByTestId("upload-item");
    expect(item).toHaveAttribute("data-phase", "uploading");
    expect(within(item).getByRole("button", { name: "Cancel upload" })).toBeInTheDocument();

    // done: it says so, and closing the tab no longer asks
    act(() => FakeXhr.latest().respond(204));
    await waitFor(() => expect(screen.getByTestId("upload-item")).toHaveAttribute("data-phase", "uploaded"));
    // (not "Uploaded — importing", which it still said once the import had completed)
    expect(within(screen.getByTestId("upload-item")).getByText("Uploaded")).toBeInTheDocument();
    const later = new Event("beforeunload", { cancelable: true });
    window.dispatchEvent(later);
    expect(later.defaultPrevented).toBe(false);
  });

  it("stop linking to a preview once it is discarded (“View preview” led to “No import with id …”)", async () => {
    const preview = makeImport({ id: "pre-9", mode: "preview", status: "previewed", finished_at: "2025-01-01T10:00:05Z" });
    mockApi({
      "GET /api/config": () => ({ body: { websocket_url: "ws://127.0.0.1:8001/ws" } }),
      "GET /api/imports": () => ({ body: { items: [], next_cursor: null } }),
      "POST /api/mappings/suggest": suggestSkuAndName,
      "POST /api/imports": () => ({
        status: 201,
        body: { import: makeImport({ id: "pre-9", mode: "preview", status: "pending" }), upload: { method: "POST", url: "http://s3/b", fields: {} } },
      }),
      "GET /api/imports/pre-9": () => ({ body: preview }),
      "GET /api/imports/pre-9/errors": () => ({ body: { items: [], next_cursor: null } }),
      "GET /api/imports/pre-9/changes/summary": () => ({ body: { create: 1, update: 0, unchanged: 0, deactivate: 0, fields: {} } }),
      "GET /api/imports/pre-9/changes": () => ({ body: { items: [], next_cursor: null } }),
      "DELETE /api/imports/pre-9": () => ({ status: 204 }),
    });
    const user = userEvent.setup();
    render(
      <QueryClientProvider client={testQueryClient()}>
        <MemoryRouter initialEntries={["/"]}>
          <UploadsProvider>
            <Routes>
              <Route path="/" element={<ImportsPage />} />
              <Route path="/imports/:id" element={<ImportDetailPage />} />
            </Routes>
          </UploadsProvider>
        </MemoryRouter>
      </QueryClientProvider>,
    );
    // given a file previewed from this tab: once up, its preview page opens
    await screen.findByTestId("drop-zone");
    fireEvent.drop(screen.getByTestId("drop-zone"), { dataTransfer: { files: [new File(["sku,name\nA,B\n"], "new.csv", { type: "text/csv" })] } });
    const step = await screen.findByTestId("mapping-step");
    await within(step).findByText("sku");
    await user.click(within(step).getByRole("button", { name: "Preview" }));
    await waitFor(() => expect(FakeXhr.instances).toHaveLength(1));
    act(() => FakeXhr.latest().respond(204));
    await screen.findByTestId("preview");
    // when the user discards it
    await user.click(screen.getByRole("button", { name: "Discard" }));
    const dialog = await screen.findByRole("dialog", { name: "Discard this preview?" });
    await user.click(within(dialog).getByRole("button", { name: "Discard preview" }));
    // then the upload list says so, and no longer offers a link to what is gone
    const item = await screen.findByTestId("upload-item");
    expect(within(item).getByText("Preview discarded: nothing was imported from this file.")).toBeInTheDocument();
    expect(within(item).queryByRole("link", { name: "View preview" })).toBeNull();
  });
});
