import { screen, waitFor, within } from "@testing-library/react";
import { Route, useLocation } from "react-router-dom";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { FakeWebSocket, makeImport, mockApi } from "@/test/api";
import { signInAs } from "@/test/auth";
import { renderPage } from "@/test/render";
import { ImportDetailPage } from "../ImportDetailPage";

const preview = makeImport({
  id: "pre-1",
  mode: "preview",
  status: "previewed",
  rows_total: 6,
  rows_processed: 6,
  rows_imported: 5,
  rows_failed: 1,
  rows_skipped: 2,
  products_created: 2,
  products_updated: 3,
  products_unchanged: 0,
  finished_at: "2025-01-01T10:00:05Z",
});

const changes = [
  { sku: "A-1", action: "create", changes: { name: { from: null, to: "Lamp" } } },
  { sku: "A-2", action: "update", changes: { price: { from: "10.00", to: "12.50" }, attributes: { from: { colour: "red" }, to: { colour: "blue" } } } },
];

function api(extra: Parameters<typeof mockApi>[0] = {}) {
  return mockApi({
    "GET /api/config": () => ({ body: { websocket_url: null } }),
    "GET /api/imports/pre-1": () => ({ body: preview }),
    "GET /api/imports/pre-1/errors": () => ({ body: { items: [{ row: 4, sku: "A-4", column: "price", message: "remove the currency symbol", value: "$3" }], next_cursor: null } }),
    "GET /api/imports/pre-1/changes/summary": () => ({ body: { create: 2, update: 3, unchanged: 0, deactivate: 0, fields: { price: 3, name: 1, attributes: 2 } } }),
    "GET /api/imports/pre-1/changes": (req) => ({
      body: {
        items: changes.filter((c) => (!req.query.get("action") || c.action === req.query.get("action")) && c.sku.startsWith(req.query.get("sku") ?? "")),
        next_cursor: null,
      },
    }),
    ...extra,
  });
}

/**
 * The page live over a socket that stays connecting: it asks for nothing by itself (without a websocket_url it
 * polls every 2 s, so what a test saw depended on how fast the machine ran it).
 */
const LIVE_WITHOUT_POLLING = { "GET /api/config": () => ({ body: { websocket_url: "ws://127.0.0.1:8001/ws" } }) };

/** What a browser does to the focus of a button that turns disabled (jsdom keeps it there). */
function dropFocusToBody() {
  const elsewhere = document.body.appendChild(document.createElement("input"));
  elsewhere.focus();
  elsewhere.blur();
  elsewhere.remove();
}

/** The imports page as far as these tests need it: it names itself and shows the flash it was sent. */
function ImportsPageStandIn() {
  const flash = (useLocation().state as { flash?: string } | null)?.flash;
  return (
    <>
      <p>the imports page</p>
      {flash ? <p data-testid="flash">{flash}</p> : null}
    </>
  );
}

function LocationProbe() {
  return <output data-testid="location">{useLocation().search}</output>;
}

function open() {
  return renderPage(<ImportDetailPage />, { path: "/imports/:id", at: "/imports/pre-1", routes: <Route path="/" element={<ImportsPageStandIn />} /> });
}

describe("the preview page", () => {
  beforeEach(() => {
    FakeWebSocket.reset();
    vi.stubGlobal("WebSocket", FakeWebSocket);
  });

  it("shows the cards, the changed fields, every change with before → after, and the row errors", async () => {
    api();
    open();
    expect(await screen.findByTestId("preview")).toHaveTextContent("Nothing has been written yet.");
    expect(screen.getByTestId("card-create")).toHaveTextContent("2Would be created");
    expect(screen.getByTestId("card-update")).toHaveTextContent("3Would be updated");
    expect(screen.getByTestId("card-skipped")).toHaveTextContent("2");
    expect(screen.getByTestId("card-errors")).toHaveTextContent("1Row errors");
    // the chart: one bar per changed field, largest first
    const bars = await screen.findAllByTestId("field-bar");
    expect(bars.map((b) => b.getAttribute("data-field"))).toEqual(["price", "attributes", "name"]);
    expect(bars[0]).toHaveTextContent("Price3 products of 3 updated");
    // the table: before struck out, after inserted
    const row = (await screen.findAllByTestId("change-row")).find((r) => r.getAttribute("data-sku") === "A-2")!;
    expect(within(row).getByText("10.00").closest("del")).not.toBeNull();
    expect(within(row).getByText("12.50").closest("ins")).not.toBeNull();
    expect(within(row).getByText("Attributes: colour")).toBeInTheDocument();
    expect(await screen.findByTestId("row-error-table")).toHaveTextContent("remove the currency symbol");
  });

  it("counts a replace's deactivations in the changed-field bars' share (it read “22,902 products of 1 updated”)", async () => {
    // given a preview whose replace deactivates 22,902 products and updates the price of one
    api({
      "GET /api/imports/pre-1/changes/summary": () => ({
        body: { create: 0, update: 1, unchanged: 99, deactivate: 22902, fields: { active: 22902, price: 1 } },
      }),
    });
    open();
    // then each bar's count is told as a share of every product it changes
    const bars = await screen.findAllByTestId("field-bar");
    expect(bars[0]).toHaveTextContent("Active22,902 products of 22,903 updated or deactivated");
    expect(bars[1]).toHaveTextContent("Price1 product of 22,903 updated or deactivated");
  });

  it("says a preview's replace would deactivate, not that it deactivated (a tester read “done”)", async () => {
    for (const status of ["planned", "done"]) {
      // (“done” is what an older API said of a preview's replace)
      const replace = { scope: "all", max_deactivate_percent: 20, status };
      api({ ...LIVE_WITHOUT_POLLING, "GET /api/imports/pre-1": () => ({ body: { ...preview, replace, products_deactivated: 3 } }) });
      const view = open();
      expect(await screen.findByTestId("replace-planned")).toHaveTextContent(
        "Replace (all products): 3 products missing from the file would be deactivated when the preview is applied.");
      expect(screen.queryByTestId("replace-done")).toBeNull();
      view.unmount();
    }
  });

  it("filters by action and searches by SKU through the API", async () => {
    const { calls } = api();
    const { user } = open();
    await screen.findAllByTestId("change-row");
    await user.selectOptions(screen.getByLabelText("Action"), "update");
    await waitFor(() => expect(screen.getAllByTestId("change-row")).toHaveLength(1));
    expect(calls.filter((c) => c.path.endsWith("/changes")).at(-1)!.query.get("action")).toBe("update");
    await user.selectOptions(screen.getByLabelText("Action"), "");
    await user.type(screen.getByLabelText("SKU"), "A-1");
    await waitFor(() => expect(calls.filter((c) => c.path.endsWith("/changes")).at(-1)!.query.get("sku")).toBe("A-1"));
    await waitFor(() => expect(screen.getAllByTestId("change-row").map((r) => r.getAttribute("data-sku"))).toEqual(["A-1"]));
  });

  it("keeps the action filter and the SKU search in the URL, so a reload or Back shows the same changes", async () => {
    // given a preview filtered to the updates of SKUs starting "A-2"
    const { calls } = api();
    const first = renderPage(
      <>
        <ImportDetailPage />
        <LocationProbe />
      </>,
      { path: "/imports/:id", at: "/imports/pre-1" },
    );
    await screen.findAllByTestId("change-row");
    await first.user.selectOptions(screen.getByLabelText("Action"), "update");
    await first.user.type(screen.getByLabelText("SKU"), "A-2");
    // then the URL carries both (replacing the entry: typing adds no Back steps)
    await waitFor(() => expect(screen.getByTestId("location")).toHaveTextContent("?action=update&sku=A-2"));
    const url = `/imports/pre-1${screen.getByTestId("location").textContent}`;
    first.unmount();
    // when the page is opened again from that URL (reload, Back)
    calls.length = 0;
    renderPage(<ImportDetailPage />, { path: "/imports/:id", at: url });
    // then the filter and the search are back, and only they were asked for
    await waitFor(() => expect(screen.getAllByTestId("change-row").map((r) => r.getAttribute("data-sku"))).toEqual(["A-2"]));
    expect(screen.getByLabelText("Action")).toHaveValue("update");
    expect(screen.getByLabelText("SKU")).toHaveValue("A-2");
    const asked = calls.filter((c) => c.path.endsWith("/changes"));
    expect(asked.map((c) => [c.query.get("action"), c.query.get("sku")])).toEqual([["update", "A-2"]]);
  });

  it("ignores an action in the URL that the API does not know, and cuts a SKU to what it takes", async () => {
    const { calls } = api();
    renderPage(<ImportDetailPage />, { path: "/imports/:id", at: `/imports/pre-1?action=bogus&sku=${"A".repeat(80)}` });
    await waitFor(() => expect(calls.some((c) => c.path.endsWith("/changes"))).toBe(true));
    const sent = calls.find((c) => c.path.endsWith("/changes"))!;
    expect(sent.query.get("action")).toBeNull();
    expect(sent.query.get("sku")).toHaveLength(64);
    expect(screen.getByLabelText("Action")).toHaveValue("");
  });

  it("opens a finished import's changes when the URL carries their filters", async () => {
    api({ "GET /api/imports/pre-1": () => ({ body: { ...preview, mode: "upsert", status: "completed" } }) });
    renderPage(<ImportDetailPage />, { path: "/imports/:id", at: "/imports/pre-1?action=create" });
    await waitFor(() => expect(screen.getAllByTestId("change-row").map((r) => r.getAttribute("data-sku"))).toEqual(["A-1"]));
    expect(screen.getByTestId("import-changes")).toHaveAttribute("open");
    expect(screen.getByLabelText("Action")).toHaveValue("create");
  });

  it("applies the preview and goes to the new import", async () => {
    const applied = makeImport({ id: "imp-9", filename: "catalog.csv", status: "pending", preview_of: "pre-1" });
    const { calls } = api({
      "POST /api/imports/pre-1/apply": () => ({ status: 201, body: { import: applied } }),
      "GET /api/imports/imp-9": () => ({ body: applied }),
      "GET /api/imports/imp-9/errors": () => ({ body: { items: [], next_cursor: null } }),
    });
    const { user } = open();
    await user.click(await screen.findByRole("button", { name: "Apply" }));
    expect(await screen.findByText(/Applied from/)).toBeInTheDocument();
    expect(calls.some((c) => c.method === "POST" && c.path === "/api/imports/pre-1/apply")).toBe(true);
    expect(screen.getByTestId("detail-status")).toHaveTextContent("Pending");
  });

  it("says why an expired preview cannot be applied", async () => {
    api({ "POST /api/imports/pre-1/apply": () => ({ status: 409, body: { detail: "preview expired" } }) });
    const { user } = open();
    await user.click(await screen.findByRole("button", { name: "Apply" }));
    expect(await screen.findByText("Could not apply the preview: preview expired")).toBeInTheDocument();
  });

  it("leaves for the imports page, saying so, when Apply finds the preview discarded meanwhile (it said “import … not found” and kept Apply)", async () => {
    // given a preview discarded in another tab (or from the command line) while this page shows it
    const { calls } = api({ ...LIVE_WITHOUT_POLLING, "POST /api/imports/pre-1/apply": () => ({ status: 404, body: { detail: "import pre-1 not found" } }) });
    const { user } = open();
    await screen.findAllByTestId("change-row");
    const before = calls.length;
    // when the user applies it
    await user.click(screen.getByRole("button", { name: "Apply" }));
    // then the page gives way to the imports page, where the flash says what happened, and no raw 404 shows
    expect(await screen.findByText("the imports page")).toBeInTheDocument();
    expect(screen.getByTestId("flash")).toHaveTextContent(
      "The preview of “catalog.csv” was discarded meanwhile, so nothing was imported. Drop the file again to preview it.",
    );
    expect(screen.queryByText(/not found/)).toBeNull();
    // and nothing more was asked about the preview that is gone: its queries, removed under the page as it
    // left, were all fetched again, and their answers held up the navigation (this test failed on a busy machine)
    expect(calls.slice(before).map((c) => `${c.method} ${c.path}`)).toEqual(["POST /api/imports/pre-1/apply"]);
  });

  it("takes a preview discarded meanwhile as discarded (the dialog said “import … not found” and stayed open)", async () => {
    // given a preview discarded in another tab while this page shows it
    const { calls } = api({ ...LIVE_WITHOUT_POLLING, "DELETE /api/imports/pre-1": () => ({ status: 404, body: { detail: "import pre-1 not found" } }) });
    const { user } = open();
    await screen.findAllByTestId("change-row");
    // when the user discards it here too
    await user.click(screen.getByRole("button", { name: "Discard" }));
    const dialog = await screen.findByRole("dialog", { name: "Discard this preview?" });
    const before = calls.length;
    await user.click(within(dialog).getByRole("button", { name: "Discard preview" }));
    // then that is done: the imports page, which says it was already discarded
    expect(await screen.findByText("the imports page")).toBeInTheDocument();
    expect(screen.getByTestId("flash")).toHaveTextContent("The preview of “catalog.csv” was already discarded.");
    // and only the DELETE was sent (the page's queries of the preview were not fetched again as it left)
    expect(calls.slice(before).map((c) => `${c.method} ${c.path}`)).toEqual(["DELETE /api/imports/pre-1"]);
  });

  it("takes a preview applied though Apply's answer was lost as applied, not as 'could not apply'", async () => {
    // given an apply the server carries out, whose answer never arrives (the connection drops)
    let applied = false;
    api({
      "GET /api/imports/pre-1": () => ({ body: applied ? { ...preview, applied_as: "imp-9" } : preview }),
      "POST /api/imports/pre-1/apply": () => {
        applied = true;
        throw new TypeError("Failed to fetch");
      },
    });
    const { user } = open();
    await user.click(await screen.findByRole("button", { name: "Apply" }));
    // then the page asks again and says it was applied, with the link, and no "could not apply"
    expect(await screen.findByRole("link", { name: "see the import" })).toHaveAttribute("href", "/imports/imp-9");
    expect(screen.queryByText(/Could not apply the preview/)).toBeNull();
    expect(screen.queryByRole("button", { name: "Apply" })).toBeNull();
  });

  it("gives keyboard focus to the reason when Apply fails (the disabled button had dropped it to <body>)", async () => {
    // given an apply the server refuses after a while
    let refuse: () => void = () => {};
    api({ "POST /api/imports/pre-1/apply": () => new Promise((resolve) => (refuse = () => resolve({ status: 409, body: { detail: "preview expired" } }))) });
    const { user } = open();
    const apply = await screen.findByRole("button", { name: "Apply" });
    await user.click(apply);
    // while it runs the button is disabled, and a browser moves its focus to <body>
    await waitFor(() => expect(screen.getByRole("button", { name: "Applying…" })).toBeDisabled());
    dropFocusToBody();
    expect(document.body).toHaveFocus();
    // when the server says no
    refuse();
    // then the message has the focus (read out, and Tab goes on from there)
    const alert = await screen.findByText("Could not apply the preview: preview expired");
    await waitFor(() => expect(alert).toHaveFocus());
  });

  it("says next to Apply that the replace would be held, with its numbers, instead of “0 would be deactivated”", async () => {
    // given a preview whose replace would deactivate 70,008 of 350,040 products in scope, over the 20 % cap
    const held = {
      ...preview,
      replace: { scope: "all", max_deactivate_percent: 20, status: "held", would_deactivate: 70008, in_scope: 350040 },
      products_deactivated: 0,
      warnings: ["replace would be held: 70,008 of the 350,040 products in scope (20.0 %) are not in the file, more than the cap of 20 %; the import would deactivate none until confirmed"],
    };
    api({ "GET /api/imports/pre-1": () => ({ body: held }) });
    open();
    // then the card counts the products the replace would hold, not a 0
    const card = await screen.findByTestId("card-deactivate");
    expect(card).toHaveTextContent("70,008Would be held");
    expect(card).toHaveTextContent("over the 20 % cap, so none is deactivated until an admin confirms");
    // and the notice by Apply says why, once (not again among the file's warnings at the bottom)
    const notice = screen.getByTestId("replace-would-be-held");
    expect(notice).toHaveTextContent(
      "Replace would be held. 70,008 products in scope (all products) (20.0 % of the 350,040 in scope) are not in this file, more than the cap of 20 %. Applying deactivates none of them",
    );
    expect(screen.getByTestId("preview")).toContainElement(notice);
    expect(screen.queryByTestId("import-warnings")).toBeNull();
  });

  it("shows the held replace's warning by Apply where the server sends no numbers", async () => {
    const held = {
      ...preview,
      replace: { scope: "all", max_deactivate_percent: 20, status: "held" },
      warnings: ["replace would be held: 9 of the 10 products in scope (90.0 %) are not in the file, more than the cap of 20 %; the import would deactivate none until confirmed"],
    };
    api({ "GET /api/imports/pre-1": () => ({ body: held }) });
    open();
    expect(await screen.findByTestId("replace-would-be-held")).toHaveTextContent(
      "Replace would be held. 9 of the 10 products in scope (90.0 %) are not in the file, more than the cap of 20 %; the import would deactivate none until confirmed.",
    );
    expect(screen.getByTestId("card-deactivate")).toHaveTextContent("–Would be held");
  });

  it("discards after confirmation", async () => {
    const { calls } = api({ "DELETE /api/imports/pre-1": () => ({ status: 204 }) });
    const { user } = open();
    await user.click(await screen.findByRole("button", { name: "Discard" }));
    const dialog = await screen.findByRole("dialog", { name: "Discard this preview?" });
    await user.click(within(dialog).getByRole("button", { name: "Discard preview" }));
    expect(await screen.findByText("the imports page")).toBeInTheDocument();
    expect(calls.some((c) => c.method === "DELETE" && c.path === "/api/imports/pre-1")).toBe(true);
  });

  it("shows a refused discard inside its dialog, which stays open", async () => {
    // given a preview the server will not discard (it was applied meanwhile)
    api({ "DELETE /api/imports/pre-1": () => ({ status: 409, body: { detail: "only a previewed or pending import can be discarded" } }) });
    const { user } = open();
    await user.click(await screen.findByRole("button", { name: "Discard" }));
    const dialog = await screen.findByRole("dialog", { name: "Discard this preview?" });
    // when the user confirms
    await user.click(within(dialog).getByRole("button", { name: "Discard preview" }));
    // then the reason shows in the dialog, which stays open, and nowhere else
    expect(await within(dialog).findByRole("alert")).toHaveTextContent("only a previewed or pending import can be discarded");
    expect(screen.getByRole("dialog", { name: "Discard this preview?" })).toBeInTheDocument();
    expect(screen.getAllByRole("alert")).toHaveLength(1);
  });

  it("takes at most 64 characters in the SKU filter, the API's limit (more was a 422)", async () => {
    const { calls } = api();
    const { user } = open();
    await screen.findAllByTestId("change-row");
    const sku = screen.getByLabelText("SKU");
    expect(sku).toHaveAttribute("maxLength", "64");
    await user.type(sku, "A".repeat(70));
    expect(sku).toHaveValue("A".repeat(64));
    await waitFor(() => expect(calls.filter((c) => c.path.endsWith("/changes")).at(-1)!.query.get("sku")).toBe("A".repeat(64)));
    expect(await screen.findByText("No changes match")).toBeInTheDocument();
  });

  it("shows a viewer the preview without Apply or Discard", async () => {
    api();
    signInAs(["viewer"]);
    open();
    await screen.findByTestId("card-create");
    expect(screen.queryByRole("button", { name: "Apply" })).toBeNull();
    expect(screen.queryByRole("button", { name: "Discard" })).toBeNull();
    // and says why there is no Apply, rather than leaving the user to look for it
    expect(screen.getByText("Applying or discarding it needs the importer group.")).toBeInTheDocument();
  });
});
