import { act, screen, waitFor } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { LiveProductsPage } from "@/App";
import { catalogMove, useCatalogChanges } from "@/features/imports/api/catalogChanges";
import { importSchema } from "@/features/imports/api/schemas";
import { FakeWebSocket, makeImport, makeProduct, mockApi } from "@/test/api";
import { renderPage, renderQueryHook } from "@/test/render";

const imp = (overrides: Record<string, unknown> = {}) => importSchema.parse(makeImport(overrides));
const socketConfig = { websocket_url: "ws://127.0.0.1:8001/ws" };

describe("catalogMove", () => {
  it("says when an import's writes moved the catalog", () => {
    const running = imp({ status: "processing", chunks_done: 1 });
    // the run's end: at once; its progress: soon; nothing new: nothing
    expect(catalogMove(running, imp({ status: "completed", chunks_done: 4, finished_at: "2025-01-01T10:01:00Z" }))).toBe("now");
    expect(catalogMove(running, imp({ status: "failed", chunks_done: 2 }))).toBe("now");
    expect(catalogMove(running, imp({ status: "processing", chunks_done: 2 }))).toBe("soon");
    expect(catalogMove(running, imp({ status: "processing", chunks_done: 1 }))).toBeNull();
    // a revert: while it runs, and when it is done
    const done = imp({ status: "completed", chunks_done: 4 });
    const reverting = imp({ status: "reverting", chunks_done: 4, revert: { status: "running", chunks_total: 4, chunks_done: 1 } });
    expect(catalogMove(done, reverting)).toBe("soon");
    expect(catalogMove(reverting, imp({ status: "reverted", chunks_done: 4, revert: { status: "done", chunks_total: 4, chunks_done: 4 } }))).toBe("now");
    // a held replace confirmed: its deactivations
    expect(catalogMove(done, imp({ status: "completed", chunks_done: 4, products_deactivated: 30, replace: { status: "done" } }))).toBe("soon");
    // an import first seen in a live frame began after the page loaded
    expect(catalogMove(undefined, imp({ status: "completed" }))).toBe("now");
    expect(catalogMove(undefined, imp({ status: "pending", chunks_done: 0 }))).toBeNull();
    // a preview writes no product
    expect(catalogMove(imp({ mode: "preview", status: "processing" }), imp({ mode: "preview", status: "previewed" }))).toBeNull();
  });
});

describe("the products page follows the catalog", () => {
  beforeEach(() => {
    FakeWebSocket.reset();
    vi.stubGlobal("WebSocket", FakeWebSocket);
  });
  afterEach(() => vi.unstubAllGlobals());

  it("refetches its list when an import completes, not when a preview does", async () => {
    // given the products page open while an import runs
    let imported = false;
    const { calls } = mockApi({
      "GET /api/config": () => ({ body: socketConfig }),
      "GET /api/imports": () => ({ body: { items: [makeImport({ id: "imp-1", status: "processing" })], next_cursor: null } }),
      "GET /api/products": () => ({
        body: { items: imported ? [makeProduct(), makeProduct({ sku: "CD-2", name: "Chair" })] : [makeProduct()], next_cursor: null },
      }),
    });
    renderPage(<LiveProductsPage />);
    expect(await screen.findAllByTestId("product-row")).toHaveLength(1);
    await waitFor(() => expect(FakeWebSocket.instances).toHaveLength(1));
    act(() => FakeWebSocket.latest().open());
    await waitFor(() => expect(calls.some((c) => c.path === "/api/imports")).toBe(true));
    const lists = () => calls.filter((c) => c.path === "/api/products").length;
    const before = lists();
    // when a preview finishes, nothing is fetched
    act(() => FakeWebSocket.latest().receive({ type: "import.updated", import: makeImport({ id: "pre-1", mode: "preview", status: "previewed" }) }));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(lists()).toBe(before);
    // when the import completes, the list is fetched again and shows what it wrote
    imported = true;
    act(() => FakeWebSocket.latest().receive({ type: "import.updated", import: makeImport({ id: "imp-1", status: "completed", chunks_done: 4 }) }));
    await waitFor(() => expect(screen.getAllByTestId("product-row")).toHaveLength(2));
    expect(lists()).toBe(before + 1);
  });

  it("refreshes at most once per interval while imports write", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    try {
      mockApi({
        "GET /api/config": () => ({ body: socketConfig }),
        "GET /api/imports": () => ({ body: { items: [makeImport({ id: "imp-1", status: "processing", chunks_done: 1 })], next_cursor: null } }),
      });
      const onChange = vi.fn();
      renderQueryHook(() => useCatalogChanges(onChange, { throttleMs: 1000 }));
      await waitFor(() => expect(FakeWebSocket.instances).toHaveLength(1));
      act(() => FakeWebSocket.latest().open());
      await act(async () => {
        await vi.advanceTimersByTimeAsync(10); // the catch-up poll: the baseline, no change
      });
      expect(onChange).not.toHaveBeenCalled();
      // three chunks commit within the interval: one refresh at its end
      for (const done of [2, 3, 4]) {
        act(() => FakeWebSocket.latest().receive({ type: "import.updated", import: makeImport({ id: "imp-1", chunks_done: done }) }));
      }
      expect(onChange).not.toHaveBeenCalled();
      await act(async () => {
        await vi.advanceTimersByTimeAsync(1000);
      });
      expect(onChange).toHaveBeenCalledTimes(1);
      // the end of the import refreshes at once
      act(() => FakeWebSocket.latest().receive({ type: "import.updated", import: makeImport({ id: "imp-1", chunks_done: 4, status: "completed" }) }));
      expect(onChange).toHaveBeenCalledTimes(2);
    } finally {
      vi.useRealTimers();
    }
  });
});
