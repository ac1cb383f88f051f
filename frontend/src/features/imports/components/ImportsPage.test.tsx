import { act, fireEvent, screen, waitFor, within } from "@testing-library/react";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { apiOutage, FakeWebSocket, makeImport, mockApi } from "@/test/api";
import { Route, useNavigate } from "react-router-dom";
import { signInAs } from "@/test/auth";
import { renderPage } from "@/test/render";
import { ImportsPage } from "./ImportsPage";

describe("ImportsPage", () => {
  beforeEach(() => {
    FakeWebSocket.reset();
    vi.stubGlobal("WebSocket", FakeWebSocket);
  });

  it("shows the history with counts and moves the bar with live frames", async () => {
    // given one running import
    mockApi({
      "GET /api/config": () => ({ body: { websocket_url: "ws://127.0.0.1:8001/ws" } }),
      "GET /api/imports": () => ({ body: { items: [makeImport()], next_cursor: null } }),
    });
    renderPage(<ImportsPage />);
    const row = await screen.findByTestId("import-row");
    expect(within(row).getByText("catalog.csv")).toBeInTheDocument();
    expect(within(row).getByTestId("stat-processed")).toHaveTextContent("250 / 1,000");
    expect(within(row).getByTestId("stat-failed")).toHaveTextContent("10");
    expect(within(row).getByRole("progressbar")).toHaveAttribute("aria-valuenow", "25");
    // when the socket opens and the final frame arrives
    await waitFor(() => expect(FakeWebSocket.instances.length).toBeGreaterThan(0));
    act(() => FakeWebSocket.latest().open());
    expect(JSON.parse(FakeWebSocket.latest().sent[0]!)).toEqual({ action: "subscribe", import_id: "*" });
    act(() =>
      FakeWebSocket.latest().receive({
        type: "import.updated",
        import: makeImport({ status: "completed", rows_processed: 1000, rows_imported: 990, finished_at: "2025-01-01T10:00:11Z" }),
      }),
    );
    // then the row shows completed at 100 %
    await waitFor(() => expect(screen.getByTestId("import-row")).toHaveAttribute("data-status", "completed"));
    expect(within(screen.getByTestId("import-row")).getByRole("progressbar")).toHaveAttribute("aria-valuenow", "100");
    expect(within(screen.getByTestId("import-row")).getByTestId("stat-duration")).toHaveTextContent("10 s");
    expect(within(screen.getByTestId("import-row")).getByTestId("stat-throughput")).toHaveTextContent("100 rows/s");
    expect(screen.getByTestId("live-indicator")).toHaveAttribute("data-mode", "live");
  });

  it("recovers by itself once an API that was down when the page opened is back", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    try {
      // given an API that cannot be reached when the page opens
      const outage = apiOutage();
      mockApi({
        "GET /api/config": outage.answer({ body: { websocket_url: "ws://127.0.0.1:8001/ws", max_upload_bytes: 5 * 1024 ** 3 } }),
        "GET /api/imports": outage.answer({ body: { items: [makeImport()], next_cursor: null } }),
      });
      renderPage(<ImportsPage />);
      expect(await screen.findByText("Could not load imports.")).toBeInTheDocument();
      await waitFor(() => expect(screen.getByTestId("live-indicator")).toHaveAttribute("data-mode", "polling"));
      expect(screen.getByTestId("drop-zone")).not.toHaveTextContent("Up to");
      // when it comes back, the 2 s poll gets the history: the error goes and the list shows
      outage.end();
      await act(async () => {
        await vi.advanceTimersByTimeAsync(2100);
      });
      expect(await screen.findByTestId("import-row")).toBeInTheDocument();
      expect(screen.queryByText("Could not load imports.")).toBeNull();
      // and the config, asked for again (backing off), brings the upload limit and the live socket
      await act(async () => {
        await vi.advanceTimersByTimeAsync(4000);
      });
      await waitFor(() => expect(screen.getByTestId("drop-zone")).toHaveTextContent("Up to 5 GiB per file."));
      await waitFor(() => expect(FakeWebSocket.instances.length).toBeGreaterThan(0));
      act(() => FakeWebSocket.latest().open());
      expect(screen.getByTestId("live-indicator")).toHaveAttribute("data-mode", "live");
    } finally {
      vi.useRealTimers();
    }
  });

  it("shows an empty state and rejects a dropped non-CSV file", async () => {
    const { calls } = mockApi({
      "GET /api/config": () => ({ body: { websocket_url: "ws://127.0.0.1:8001/ws", max_upload_bytes: 1000 } }),
      "GET /api/imports": () => ({ body: { items: [], next_cursor: null } }),
    });
    renderPage(<ImportsPage />);
    expect(await screen.findByText("No imports yet")).toBeInTheDocument();
    // when a PNG and a too-big CSV are dropped
    const zone = screen.getByTestId("drop-zone");
    const png = new File(["x"], "photo.png", { type: "image/png" });
    const big = new File(["x".repeat(2000)], "big.csv", { type: "text/csv" });
    await waitFor(() => expect(screen.getByText(/Up to 1000 B per file/)).toBeInTheDocument());
    fireEvent.drop(zone, { dataTransfer: { files: [png, big] } });
    // then both are explained and the API is not asked
    const items = await screen.findAllByTestId("upload-item");
    expect(items).toHaveLength(2);
    expect(screen.getByText(/“photo.png” is not a CSV file/)).toBeInTheDocument();
    expect(screen.getByText(/“big.csv” is 2 KiB; the largest file accepted is 1000 B/)).toBeInTheDocument();
    expect(calls.filter((c) => c.method === "POST")).toHaveLength(0);
  });

  it("comes back to the history page it was on after opening an import and going Back", async () => {
    // given a history of two pages
    mockApi({
      "GET /api/config": () => ({ body: { websocket_url: "ws://127.0.0.1:8001/ws" } }),
      "GET /api/imports": (req) =>
        req.query.get("cursor") === "c2"
          ? { body: { items: [makeImport({ id: "imp-old", filename: "old.csv", status: "completed" })], next_cursor: null } }
          : { body: { items: [makeImport({ id: "imp-new", filename: "new.csv", status: "completed" })], next_cursor: "c2" } },
    });
    function Detail() {
      const navigate = useNavigate();
      return (
        <button type="button" onClick={() => navigate(-1)}>
          Back
        </button>
      );
    }
    const { user } = renderPage(<ImportsPage />, { routes: <Route path="/imports/:id" element={<Detail />} /> });
    await screen.findByRole("link", { name: "new.csv" });
    // when the user turns to page 2, opens an import there and goes Back
    await user.click(screen.getByRole("button", { name: "Next →" }));
    await user.click(await screen.findByRole("link", { name: "old.csv" }));
    await user.click(await screen.findByRole("button", { name: "Back" }));
    // then the history is on page 2 again, not on page 1
    expect(await screen.findByRole("link", { name: "old.csv" })).toBeInTheDocument();
    expect(screen.queryByRole("link", { name: "new.csv" })).toBeNull();
    expect(screen.getByText("Page 2")).toBeInTheDocument();
  });

  it("tells a viewer, who has no drop zone, how imports get there when there are none", async () => {
    mockApi({
      "GET /api/config": () => ({ body: { websocket_url: "ws://127.0.0.1:8001/ws" } }),
      "GET /api/imports": () => ({ body: { items: [], next_cursor: null } }),
    });
    signInAs(["viewer"]);
    renderPage(<ImportsPage />);
    const empty = (await screen.findByText("No imports yet")).parentElement!;
    expect(empty).toHaveTextContent("Imports show here once someone in the importer group starts one.");
    expect(empty).not.toHaveTextContent("Drop a CSV file above");
    expect(screen.queryByTestId("drop-zone")).toBeNull();
  });

  it("marks an applied preview, its import, and an import whose replace is held in the history", async () => {
    mockApi({
      "GET /api/config": () => ({ body: { websocket_url: "ws://127.0.0.1:8001/ws" } }),
      "GET /api/imports": () => ({
        body: {
          items: [
            makeImport({ id: "imp-a", filename: "held.csv", status: "completed", replace: { scope: "all", max_deactivate_percent: 20, status: "held", would_deactivate: 40 } }),
            makeImport({ id: "imp-b", filename: "applied.csv", status: "completed", preview_of: "imp-c" }),
            makeImport({ id: "imp-c", filename: "applied.csv", mode: "preview", status: "previewed", applied_as: "imp-b" }),
            makeImport({ id: "imp-d", filename: "waiting.csv", mode: "preview", status: "previewed" }),
          ],
          next_cursor: null,
        },
      }),
    });
    renderPage(<ImportsPage />);
    await screen.findAllByTestId("import-row");
    const meta = (id: string) => document.querySelector(`[data-import-id="${id}"] .import-card__meta`)!.textContent;
    expect(meta("imp-a")).toMatch(/replace held: nothing deactivated yet$/);
    expect(meta("imp-b")).toMatch(/^Applied from a preview · Upload/);
    expect(meta("imp-c")).toMatch(/^Preview, applied · Upload/);
    expect(meta("imp-d")).toMatch(/^Preview · Upload/);
  });
});
