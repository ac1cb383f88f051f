import { act, screen, waitFor, within } from "@testing-library/react";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { FakeWebSocket, makeImport, mockApi } from "@/test/api";
import { signInAs } from "@/test/auth";
import { renderPage } from "@/test/render";
import { loadAppStyles } from "@/test/styles";
import { ImportDetailPage } from "../ImportDetailPage";
import { sameName } from "./RevertDialog";

const done = makeImport({
  id: "imp-2",
  filename: "update.csv",
  status: "completed",
  rows_total: 10,
  rows_processed: 10,
  rows_imported: 10,
  rows_failed: 0,
  products_created: 2,
  products_updated: 8,
  finished_at: "2025-01-01T10:00:10Z",
});
const requested = "2025-01-02T09:00:00Z";

function api(extra: Parameters<typeof mockApi>[0] = {}) {
  return mockApi({
    "GET /api/config": () => ({ body: { websocket_url: "ws://127.0.0.1:8001/ws" } }),
    "GET /api/imports/imp-2": () => ({ body: done }),
    "GET /api/imports/imp-2/errors": () => ({ body: { items: [], next_cursor: null } }),
    "GET /api/imports/imp-2/changes/summary": () => ({ body: { create: 2, update: 8, unchanged: 0, deactivate: 0, fields: { price: 8 } } }),
    ...extra,
  });
}

function open() {
  return renderPage(<ImportDetailPage />, { path: "/imports/:id", at: "/imports/imp-2" });
}

describe("revert", () => {
  beforeEach(() => {
    FakeWebSocket.reset();
    vi.stubGlobal("WebSocket", FakeWebSocket);
  });

  it("says what will happen, needs the file name, then follows the revert live to its conflicts", async () => {
    const { calls } = api({
      "POST /api/imports/imp-2/revert": () => ({
        status: 202,
        body: { import: { ...done, status: "reverting", revert: { status: "running", requested_at: requested, restored: 0, deleted: 0, conflicts: 0, previous_status: "completed" } } },
      }),
      "GET /api/imports/imp-2/revert/conflicts": () => ({
        body: { items: [{ sku: "P-7", changed_by: { import_id: "imp-3" }, at: "2025-01-01T12:00:00Z" }], next_cursor: null },
      }),
      "GET /api/imports/imp-3": () => ({ body: makeImport({ id: "imp-3", filename: "later-feed.csv" }) }),
    });
    const { user } = open();
    await user.click(await screen.findByRole("button", { name: "Revert" }));
    const dialog = await screen.findByRole("dialog", { name: "Revert “update.csv”?" });
    // the plan comes from the import's changes
    await waitFor(() => expect(within(dialog).getByTestId("revert-deleted")).toHaveTextContent("2"));
    expect(within(dialog).getByTestId("revert-restored")).toHaveTextContent("8");
    const go = within(dialog).getByRole("button", { name: "Revert import" });
    expect(go).toBeDisabled();
    await user.type(within(dialog).getByLabelText(/Type the file name/), "update");
    expect(go).toBeDisabled();
    await user.type(within(dialog).getByLabelText(/Type the file name/), ".csv");
    await user.click(go);
    await waitFor(() => expect(screen.queryByRole("dialog")).toBeNull());
    expect(calls.filter((c) => c.method === "POST" && c.path === "/api/imports/imp-2/revert")).toHaveLength(1);
    // live: reverting, counts moving, then reverted with one conflict
    expect(screen.getByTestId("detail-status")).toHaveTextContent("Reverting");
    await waitFor(() => expect(FakeWebSocket.instances.length).toBeGreaterThan(0));
    act(() => FakeWebSocket.latest().open());
    act(() =>
      FakeWebSocket.latest().receive({
        type: "import.updated",
        import: { ...done, status: "reverting", revert: { status: "running", requested_at: requested, restored: 3, deleted: 2, conflicts: 0 } },
      }),
    );
    await waitFor(() => expect(screen.getByTestId("revert-stat-restored")).toHaveTextContent("3"));
    expect(screen.getByTestId("revert-progress").querySelector("[role=progressbar]")).toHaveAttribute("aria-valuenow", "50");
    act(() =>
      FakeWebSocket.latest().receive({
        type: "import.updated",
        import: { ...done, status: "reverted", reverted_at: "2025-01-02T09:00:05Z", revert: { status: "done", requested_at: requested, restored: 7, deleted: 2, conflicts: 1 } },
      }),
    );
    await waitFor(() => expect(screen.getByTestId("detail-status")).toHaveTextContent("Reverted"));
    expect(screen.getByTestId("revert-stat-conflicts")).toHaveTextContent("1");
    const conflict = await screen.findByTestId("conflict-row");
    expect(conflict).toHaveTextContent("P-7");
    // the import that wrote it since is named by its file
    expect(await within(conflict).findByRole("link", { name: "“later-feed.csv”" })).toHaveAttribute("href", "/imports/imp-3");
    expect(screen.queryByRole("button", { name: "Revert" })).toBeNull();
  });

  it("shows the server's refusal (undo data expired) in the dialog", async () => {
    api({ "POST /api/imports/imp-2/revert": () => ({ status: 409, body: { detail: "the undo data of this import has expired" } }) });
    const { user } = open();
    await user.click(await screen.findByRole("button", { name: "Revert" }));
    const dialog = await screen.findByRole("dialog");
    await user.type(within(dialog).getByLabelText(/Type the file name/), "update.csv");
    await user.click(within(dialog).getByRole("button", { name: "Revert import" }));
    expect(await within(dialog).findByRole("alert")).toHaveTextContent("the undo data of this import has expired");
  });

  it("takes the file name typed composed when the file's own name is decomposed (a macOS name, NFD)", async () => {
    // given an import of "Café prices.csv" whose name came from macOS: "e" + U+0301
    const nfd = "Cafe\u0301 prices.csv";
    api({ "GET /api/imports/imp-2": () => ({ body: { ...done, filename: nfd } }) });
    const { user } = open();
    await user.click(await screen.findByRole("button", { name: "Revert" }));
    const dialog = await screen.findByRole("dialog");
    // when the user types it as a keyboard does (NFC: "é"), with a stray space
    await user.type(within(dialog).getByLabelText(/Type the file name/), " Caf\u00e9 prices.csv ");
    // then that confirms
    expect(within(dialog).getByRole("button", { name: "Revert import" })).toBeEnabled();
    expect(sameName("Caf\u00e9 prices.csv", nfd)).toBe(true);
    expect(sameName("Cafe prices.csv", nfd)).toBe(false);
  });

  it("wraps a long file name without spaces in the dialog's title and field label", async () => {
    // given a file name of 90 characters without a space
    loadAppStyles();
    const long = `Supplier_export_${"abcdefghij".repeat(7)}.csv`;
    api({ "GET /api/imports/imp-2": () => ({ body: { ...done, filename: long } }) });
    const { user } = open();
    await user.click(await screen.findByRole("button", { name: "Revert" }));
    const dialog = await screen.findByRole("dialog", { name: `Revert “${long}”?` });
    // then both may break it anywhere (rather than run out of the dialog)
    expect(getComputedStyle(within(dialog).getByRole("heading", { name: `Revert “${long}”?` })).overflowWrap).toBe("anywhere");
    expect(getComputedStyle(dialog.querySelector(".field__label")!).overflowWrap).toBe("anywhere");
    expect(getComputedStyle(dialog.querySelector(".dialog__body")!).overflowWrap).toBe("anywhere");
  });

  it("says the plan in sentences whose words agree with the counts (1 product … its values)", async () => {
    // given an import that created one product and changed one
    api({ "GET /api/imports/imp-2/changes/summary": () => ({ body: { create: 1, update: 1, unchanged: 0, deactivate: 0, fields: { price: 1 } } }) });
    const { user } = open();
    await user.click(await screen.findByRole("button", { name: "Revert" }));
    const plan = within(await screen.findByRole("dialog")).getByTestId("revert-plan");
    // then neither line reads "1 products" or "1 product … their"
    await waitFor(() => expect(plan).toHaveTextContent("1 product it created will be deleted;"));
    expect(plan).toHaveTextContent("1 product it changed will get its previous values back.");
  });

  it("closes the dialog when the revert started though its answer was lost, instead of offering it again", async () => {
    // given a revert the server starts, whose answer never arrives (the connection drops)
    let started = false;
    api({
      "GET /api/imports/imp-2": () => ({
        body: started ? { ...done, status: "reverting", revert: { status: "running", requested_at: requested, restored: 0, deleted: 0, conflicts: 0 } } : done,
      }),
      "POST /api/imports/imp-2/revert": () => {
        started = true;
        throw new TypeError("Failed to fetch");
      },
    });
    const { user } = open();
    await user.click(await screen.findByRole("button", { name: "Revert" }));
    const dialog = await screen.findByRole("dialog", { name: "Revert “update.csv”?" });
    await user.type(within(dialog).getByLabelText(/Type the file name/), "update.csv");
    await user.click(within(dialog).getByRole("button", { name: "Revert import" }));
    // then the page reads the import again: reverting, and the dialog with its "cannot reach" and its button is gone
    await waitFor(() => expect(screen.getByTestId("detail-status")).toHaveTextContent("Reverting"));
    await waitFor(() => expect(screen.queryByRole("dialog")).toBeNull());
  });

  it("is for admins only", async () => {
    api();
    signInAs(["importer"]);
    open();
    await screen.findByRole("heading", { name: "update.csv" });
    expect(screen.queryByRole("button", { name: "Revert" })).toBeNull();
  });
});

describe("a held replace", () => {
  beforeEach(() => {
    FakeWebSocket.reset();
    vi.stubGlobal("WebSocket", FakeWebSocket);
  });

  it("takes a confirm whose answer was lost as taken once the import says so, closing its dialog", async () => {
    const held = { ...done, replace: { scope: "all", max_deactivate_percent: 20, status: "held", would_deactivate: 40 } };
    let taken = false;
    api({
      "GET /api/imports/imp-2": () => ({ body: taken ? { ...held, replace: { ...held.replace, status: "done" }, products_deactivated: 40 } : held }),
      "POST /api/imports/imp-2/replace": () => {
        taken = true;
        throw new TypeError("Failed to fetch");
      },
    });
    const { user } = open();
    await user.click(within(await screen.findByTestId("replace-held")).getByRole("button", { name: "Deactivate them" }));
    await user.click(within(await screen.findByRole("dialog")).getByRole("button", { name: "Deactivate" }));
    expect(await screen.findByTestId("replace-done")).toHaveTextContent("40 products missing from the file deactivated");
    expect(screen.queryByRole("dialog")).toBeNull();
  });

  it("warns and carries out the deactivation once an admin confirms", async () => {
    const held = { ...done, replace: { scope: "all", max_deactivate_percent: 20, status: "held", would_deactivate: 40 } };
    const { calls } = api({
      "GET /api/imports/imp-2": () => ({ body: held }),
      "POST /api/imports/imp-2/replace": () => ({
        status: 202,
        body: { import: { ...held, status: "completed", products_deactivated: 40, replace: { ...held.replace, status: "done" } } },
      }),
    });
    const { user } = open();
    const warning = await screen.findByTestId("replace-held");
    expect(warning).toHaveTextContent("Replace held: nothing was deactivated. 40 products in scope (all products) are not in this file, over the 20 % cap");
    await user.click(within(warning).getByRole("button", { name: "Deactivate them" }));
    await user.click(within(await screen.findByRole("dialog")).getByRole("button", { name: "Deactivate" }));
    expect(await screen.findByTestId("replace-done")).toHaveTextContent("40 products missing from the file deactivated");
    expect(calls.find((c) => c.method === "POST" && c.path === "/api/imports/imp-2/replace")!.query.get("confirm")).toBe("true");
  });

  it("shows a refused confirm inside its dialog, which stays open", async () => {
    // given a held replace whose confirm the server refuses
    const held = { ...done, replace: { scope: "all", max_deactivate_percent: 20, status: "held", would_deactivate: 40 } };
    api({
      "GET /api/imports/imp-2": () => ({ body: held }),
      "POST /api/imports/imp-2/replace": () => ({ status: 409, body: { detail: "nothing is held" } }),
    });
    const { user } = open();
    await user.click(within(await screen.findByTestId("replace-held")).getByRole("button", { name: "Deactivate them" }));
    const dialog = await screen.findByRole("dialog", { name: "Deactivate the missing products?" });
    // when the admin confirms
    await user.click(within(dialog).getByRole("button", { name: "Deactivate" }));
    // then the reason shows in the dialog (not behind it), and the dialog stays
    expect(await within(dialog).findByRole("alert")).toHaveTextContent("nothing is held");
    expect(screen.getByRole("dialog", { name: "Deactivate the missing products?" })).toBeInTheDocument();
    expect(screen.getAllByRole("alert")).toHaveLength(1); // and only there
  });

  it("draws its confirm dialog outside the amber warning and its live region", async () => {
    const held = { ...done, replace: { scope: "all", max_deactivate_percent: 20, status: "held", would_deactivate: 40 } };
    api({ "GET /api/imports/imp-2": () => ({ body: held }) });
    const { user } = open();
    const warning = await screen.findByTestId("replace-held");
    await user.click(within(warning).getByRole("button", { name: "Deactivate them" }));
    const dialog = await screen.findByRole("dialog", { name: "Deactivate the missing products?" });
    // then the dialog takes neither the warning's colours nor its announcements
    expect(warning).not.toContainElement(dialog);
    expect(dialog.closest('.alert, [role="status"], [role="alert"], [aria-live]')).toBeNull();
    expect(within(dialog).getByRole("button", { name: "Cancel" })).toHaveFocus();
  });

  it("tells a user who is not an admin who can deactivate the held products, instead of asking them to", async () => {
    const replace = { scope: "all", max_deactivate_percent: 20, status: "held", would_deactivate: 40 };
    api({ "GET /api/imports/imp-2": () => ({ body: { ...done, replace } }) });
    signInAs(["importer"]);
    open();
    const warning = await screen.findByTestId("replace-held");
    expect(warning).toHaveTextContent("40 products in scope (all products) are not in this file, over the 20 % cap.");
    expect(warning).toHaveTextContent("They stay active unless an admin deactivates them here");
    expect(warning).not.toHaveTextContent("Check the file, then deactivate them");
    expect(within(warning).queryByRole("button")).toBeNull();
  });

  it("offers no confirm on a reverted import, and says a confirmed one is being carried out", async () => {
    const replace = { scope: "all", max_deactivate_percent: 20, status: "held", would_deactivate: 40 };
    api({ "GET /api/imports/imp-2": () => ({ body: { ...done, status: "reverted", replace } }) });
    const first = open();
    expect(await screen.findByTestId("replace-held-reverted")).toHaveTextContent("not carried out: the import was reverted");
    expect(screen.queryByRole("button", { name: "Deactivate them" })).toBeNull();
    first.unmount();

    // as the API says it now: "cancelled"
    api({ "GET /api/imports/imp-2": () => ({ body: { ...done, status: "reverted", replace: { ...replace, status: "cancelled" } } }) });
    const second = open();
    expect(await screen.findByTestId("replace-held-reverted")).toHaveTextContent("not carried out: the import was reverted");
    second.unmount();

    api({ "GET /api/imports/imp-2": () => ({ body: { ...done, replace: { ...replace, confirmed_at: "2026-11-30T10:00:00Z" } } }) });
    open();
    expect(await screen.findByTestId("replace-confirmed")).toHaveTextContent("confirmed: deactivating");
    expect(screen.queryByRole("button", { name: "Deactivate them" })).toBeNull();
  });
});
