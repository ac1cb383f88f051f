import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { FakeWebSocket, FakeXhr, makeImport, mockApi } from "@/test/api";
import { renderPage } from "@/test/render";
import { ImportsPage } from "../ImportsPage";

const suggestion = {
  encoding: "windows-1252",
  delimiter: ";",
  profile: "generic",
  columns: [
    { header: "Item Code", field: "attribute", samples: ["A-1", "A-2"] },
    { header: "Title", field: "name", samples: ["Lamp", "Desk"] },
    { header: "Colour", field: "attribute", samples: ["red"] },
  ],
  missing: ["sku"],
  warnings: [],
  mapping_id: null,
  extra_field_from_a_newer_server: true,
};

function api(extra: Parameters<typeof mockApi>[0] = {}) {
  return mockApi({
    "GET /api/config": () => ({ body: { websocket_url: null } }),
    "GET /api/imports": () => ({ body: { items: [], next_cursor: null } }),
    "POST /api/mappings/suggest": () => ({ body: suggestion }),
    "POST /api/imports": (req) => ({
      status: 201,
      body: {
        import: makeImport({ id: "imp-7", status: "pending", mode: (req.body as { mode?: string }).mode ?? "import" }),
        upload: { method: "POST", url: "http://s3/bucket", fields: { key: "k" } },
      },
    }),
    ...extra,
  });
}

function dropCsv(content: string, name = "supplier.csv") {
  const file = new File([content], name, { type: "text/csv" });
  fireEvent.drop(screen.getByTestId("drop-zone"), { dataTransfer: { files: [file] } });
  return file;
}

describe("the mapping step", () => {
  beforeEach(() => {
    FakeWebSocket.reset();
    FakeXhr.reset();
    vi.stubGlobal("WebSocket", FakeWebSocket);
    vi.stubGlobal("XMLHttpRequest", FakeXhr);
  });

  it("sends only the first 64 KB, maps an unknown column, remembers it and previews", async () => {
    // given a 100 KB file whose SKU column has a name the importer does not know
    const { calls } = api({ "POST /api/mappings": (req) => ({ status: 201, body: { id: "m-1", ...(req.body as object) } }) });
    const { user } = renderPage(<ImportsPage />);
    await screen.findByTestId("drop-zone");
    dropCsv("Item Code;Title;Colour\n" + "A-1;Lamp;red\n".repeat(8000));

    // then the server reads the head of the file and the step shows each column with samples
    const step = await screen.findByTestId("mapping-step");
    await within(step).findByText("Item Code");
    const suggest = calls.find((c) => c.path === "/api/mappings/suggest")!;
    expect(suggest.headers.get("Content-Type")).toBe("application/octet-stream");
    expect((suggest.raw as Blob).size).toBe(64 * 1024);
    expect(within(step).getByText(/A-1 · A-2/)).toBeInTheDocument();
    expect(within(step).getByText("semicolon")).toBeInTheDocument();
    expect(within(step).getByLabelText("Encoding")).toHaveDisplayValue("Detected: Windows-1252");
    // no column feeds the SKU yet: the file cannot go
    expect(within(step).getByTestId("mapping-missing")).toHaveTextContent("No column feeds SKU");
    expect(within(step).getByRole("button", { name: "Preview" })).toBeDisabled();

    // when the user maps "Item Code" to SKU and asks to remember the mapping
    await user.selectOptions(within(step).getByLabelText("Import column “Item Code” as"), "sku");
    expect(within(step).queryByTestId("mapping-missing")).toBeNull();
    await user.click(within(step).getByLabelText(/Remember this mapping/));
    await user.click(within(step).getByRole("button", { name: "Preview" }));

    // then the mapping is saved by its header set, and the preview is created with it
    await waitFor(() => expect(FakeXhr.instances).toHaveLength(1));
    const saved = calls.find((c) => c.method === "POST" && c.path === "/api/mappings")!;
    expect(saved.body).toEqual({
      name: "Columns of supplier",
      mapping: { "Item Code": "sku", Title: "name", Colour: "attribute" },
      headers: ["Item Code", "Title", "Colour"],
      profile: null,
    });
    const created = calls.find((c) => c.method === "POST" && c.path === "/api/imports")!;
    expect(created.body).toMatchObject({ filename: "supplier.csv", mode: "preview", mapping: { "Item Code": "sku", Title: "name", Colour: "attribute" } });
    // and the drop zone is back for the next file
    expect(screen.getByTestId("drop-zone")).toBeInTheDocument();
  });

  it("replaces, when asked again, a mapping saved for the same columns while the step was open (it only showed the 409)", async () => {
    // given a step opened before another tab saved a mapping for these columns
    let saved = false;
    const { calls } = api({
      "POST /api/mappings/suggest": () => ({ body: { ...suggestion, mapping_id: saved ? "m-9" : null } }),
      "POST /api/mappings": () => {
        saved = true;
        return { status: 409, body: { detail: "the saved mapping 'Columns of supplier' (id m-9) already has this header set" } };
      },
      "PUT /api/mappings/m-9": (req) => ({ body: { id: "m-9", ...(req.body as object) } }),
    });
    const { user } = renderPage(<ImportsPage />);
    await screen.findByTestId("drop-zone");
    dropCsv("Item Code;Title;Colour\nA-1;Lamp;red\n");
    const step = await screen.findByTestId("mapping-step");
    await user.selectOptions(await within(step).findByLabelText("Import column “Item Code” as"), "sku");
    await user.click(within(step).getByLabelText(/Remember this mapping/));
    // when the user starts and the server answers that these columns have a mapping now
    await user.click(within(step).getByRole("button", { name: "Import now" }));
    // then nothing starts, the step says what happened, and "Remember" became "Update the saved mapping"
    expect(await within(step).findByRole("alert")).toHaveTextContent("A mapping for these columns was saved meanwhile");
    expect(within(step).getByLabelText(/Update the saved mapping/)).toBeChecked();
    expect(calls.some((c) => c.method === "POST" && c.path === "/api/imports")).toBe(false);
    // and starting again replaces that mapping with these choices, and imports
    await user.click(within(step).getByRole("button", { name: "Import now" }));
    await waitFor(() => expect(calls.some((c) => c.method === "POST" && c.path === "/api/imports")).toBe(true));
    expect(calls.find((c) => c.method === "PUT")!.body).toMatchObject({ mapping: { "Item Code": "sku", Title: "name", Colour: "attribute" } });
  });

  it("keeps a saved mapping's own name when the user updates it (it was renamed after the file)", async () => {
    // given a file whose columns have a saved mapping the user renamed "Supplier X"
    const { calls } = api({
      "POST /api/mappings/suggest": () => ({ body: { ...suggestion, missing: [], mapping_id: "m-9" } }),
      "GET /api/mappings/m-9": () => ({ body: { id: "m-9", name: "Supplier X", mapping: {}, headers: null } }),
      "PUT /api/mappings/m-9": (req) => ({ body: { id: "m-9", ...(req.body as object) } }),
    });
    const { user } = renderPage(<ImportsPage />);
    await screen.findByTestId("drop-zone");
    dropCsv("Item Code;Title;Colour\nA-1;Lamp;red\n", "partner_feed.csv");
    const step = await screen.findByTestId("mapping-step");
    // when the user edits a column and ticks "Update the saved mapping"
    await user.selectOptions(await within(step).findByLabelText("Import column “Item Code” as"), "sku");
    await user.click(within(step).getByLabelText(/Update the saved mapping/));
    // then the name offered is the mapping's own, and the update keeps it
    await waitFor(() => expect(within(step).getByDisplayValue("Supplier X")).toBeInTheDocument());
    await user.click(within(step).getByRole("button", { name: "Import now" }));
    await waitFor(() => expect(calls.some((c) => c.method === "PUT")).toBe(true));
    expect(calls.find((c) => c.method === "PUT")!.body).toMatchObject({ name: "Supplier X" });
  });

  it("offers the likeliest columns for a missing SKU and name in one click each", async () => {
    // given a German file: neither SKU nor name is recognised, the server names the likeliest columns
    const { calls } = api({
      "POST /api/mappings/suggest": () => ({
        body: {
          ...suggestion,
          columns: [
            { header: "Artikelnummer", field: "attribute", samples: ["A-1"] },
            { header: "Bezeichnung", field: "attribute", samples: ["Stuhl"] },
            { header: "Preis", field: "attribute", samples: ["12,50"] },
          ],
          missing: ["sku", "name"],
          likeliest: { sku: ["Artikelnummer"], name: ["Bezeichnung"] },
        },
      }),
    });
    const { user } = renderPage(<ImportsPage />);
    await screen.findByTestId("drop-zone");
    dropCsv("Artikelnummer;Bezeichnung;Preis\nA-1;Stuhl;12,50\n");
    const step = await screen.findByTestId("mapping-step");
    const missing = await within(step).findByTestId("mapping-missing");
    expect(within(step).getByRole("button", { name: "Preview" })).toBeDisabled();

    // when the user takes both offers
    await user.click(within(missing).getByRole("button", { name: "Use “Artikelnummer” as SKU" }));
    expect(within(step).getByTestId("mapping-missing")).toHaveTextContent("No column feeds Name");
    expect(within(step).queryByRole("button", { name: /as SKU/ })).toBeNull();
    await user.click(within(step).getByRole("button", { name: "Use “Bezeichnung” as Name" }));

    // then nothing is missing, the choices show as edits, and the import carries them as its mapping
    expect(within(step).queryByTestId("mapping-missing")).toBeNull();
    expect(within(step).getByLabelText("Import column “Artikelnummer” as")).toHaveValue("sku");
    await user.click(within(step).getByRole("button", { name: "Preview" }));
    await waitFor(() => expect(calls.some((c) => c.method === "POST" && c.path === "/api/imports")).toBe(true));
    const created = calls.find((c) => c.method === "POST" && c.path === "/api/imports")!;
    expect(created.body).toMatchObject({ mapping: { Artikelnummer: "sku", Bezeichnung: "name", Preis: "attribute" } });
  });

  it("offers nothing when the server names no likely column (an older server, or nothing alike)", async () => {
    api();
    renderPage(<ImportsPage />);
    await screen.findByTestId("drop-zone");
    dropCsv("Item Code;Title;Colour\nA-1;Lamp;red\n");
    const missing = await screen.findByTestId("mapping-missing");
    expect(within(missing).queryByRole("button")).toBeNull();
  });

  it("imports as suggested without sending a mapping, and sends the overrides chosen", async () => {
    const { calls } = api({
      "POST /api/mappings/suggest": () => ({ body: { ...suggestion, columns: [{ header: "sku", field: "sku", samples: [] }, { header: "name", field: "name", samples: [] }], missing: [] } }),
    });
    const { user } = renderPage(<ImportsPage />);
    await screen.findByTestId("drop-zone");
    dropCsv("sku,name\nA,B\n");
    const step = await screen.findByTestId("mapping-step");
    await within(step).findByText("sku");
    await user.selectOptions(within(step).getByLabelText("Encoding"), "utf-8");
    await waitFor(() => expect(calls.filter((c) => c.path === "/api/mappings/suggest").at(-1)!.query.get("encoding")).toBe("utf-8"));
    await user.click(within(step).getByRole("button", { name: "Import now" }));
    await waitFor(() => expect(FakeXhr.instances).toHaveLength(1));
    const created = calls.find((c) => c.method === "POST" && c.path === "/api/imports")!;
    expect(created.body).toEqual({ filename: "supplier.csv", size: 13, content_type: "text/csv", mode: "import", encoding: "utf-8" });
  });

  it("says which column a platform's rule picks when two feed one field", async () => {
    api({
      "POST /api/mappings/suggest": () => ({
        body: {
          ...suggestion, profile: "shopify", missing: [],
          columns: [
            { header: "Variant SKU", field: "sku", samples: [] }, { header: "Title", field: "name", samples: [] },
            { header: "Published", field: "active", samples: ["TRUE"] }, { header: "Status", field: "active", samples: ["draft"] },
          ],
        },
      }),
    });
    renderPage(<ImportsPage />);
    await screen.findByTestId("drop-zone");
    dropCsv("Variant SKU,Title,Published,Status\nA,B,TRUE,draft\n");
    const step = await screen.findByTestId("mapping-step");
    const note = await within(step).findByRole("note");
    // not the generic rule ("the leftmost wins"), which would make Published win and drafts active
    expect(note).toHaveTextContent("comes from “Published” and “Status”: the Shopify export's rule decides which");
    expect(note).toHaveTextContent("“Status” wins over “Published”");
    expect(note).not.toHaveTextContent("leftmost");
  });

  it("offers replace mode with its cap to admins and checks it", async () => {
    const { calls } = api({
      "POST /api/mappings/suggest": () => ({ body: { ...suggestion, columns: [{ header: "sku", field: "sku", samples: [] }, { header: "name", field: "name", samples: [] }], missing: [] } }),
    });
    const { user } = renderPage(<ImportsPage />);
    await screen.findByTestId("drop-zone");
    dropCsv("sku,name\nA,B\n");
    const step = await screen.findByTestId("mapping-step");
    await within(step).findByText("sku");
    await user.click(within(step).getByText(/More options/));
    await user.click(within(step).getByLabelText(/Deactivate products in scope/));
    const cap = within(step).getByLabelText(/Hold if more than this %/);
    await user.clear(cap);
    await user.type(cap, "150");
    expect(within(step).getByRole("button", { name: "Import now" })).toBeDisabled();
    await user.clear(cap);
    await user.type(cap, "10");
    await user.click(within(step).getByRole("button", { name: "Import now" }));
    await waitFor(() => expect(FakeXhr.instances).toHaveLength(1));
    expect(calls.find((c) => c.method === "POST" && c.path === "/api/imports")!.body).toMatchObject({
      mode: "import",
      replace: { scope: "all", max_deactivate_percent: 10 },
    });
  });

  it("still lets the file go as it is when the server cannot read the columns", async () => {
    api({ "POST /api/mappings/suggest": () => ({ status: 413, body: { detail: "send at most the file's first 64 KB" } }) });
    const { user } = renderPage(<ImportsPage />);
    await screen.findByTestId("drop-zone");
    dropCsv("sku,name\nA,B\n");
    const step = await screen.findByTestId("mapping-step");
    expect(await within(step).findByRole("alert")).toHaveTextContent("first 64 KB");
    await user.click(within(step).getByRole("button", { name: "Cancel" }));
    expect(screen.queryByTestId("mapping-step")).toBeNull();
    expect(FakeXhr.instances).toHaveLength(0);
  });

  it("offers no import of a file the server says cannot be imported, and opens the picker for another", async () => {
    // given a file that has bytes, but none the server can import (a blank export: only a BOM and spaces)
    api({ "POST /api/mappings/suggest": () => ({ status: 422, body: { detail: "the file is empty" } }) });
    const { user } = renderPage(<ImportsPage />);
    await screen.findByTestId("drop-zone");
    dropCsv("\uFEFF  \n", "blank.csv");
    const step = await screen.findByTestId("mapping-step");
    // then the server's reason reads as a sentence, with its full stop
    expect(await within(step).findByText(/This file cannot be imported/)).toBeInTheDocument();
    expect(within(step).getByText(/The file is empty\. Choose another file to import instead\./)).toBeInTheDocument();
    // going on could only end in a failed import
    expect(within(step).queryByRole("button", { name: /as it is/ })).toBeNull();
    // and "Choose another file" does: the step gives way to the drop zone, whose file picker opens
    const pick = vi.spyOn(HTMLInputElement.prototype, "click");
    await user.click(within(step).getByRole("button", { name: "Choose another file" }));
    expect(screen.queryByTestId("mapping-step")).toBeNull();
    await waitFor(() => expect(pick).toHaveBeenCalled());
    expect(pick.mock.contexts.at(-1)).toBe(screen.getByTestId("file-input"));
    pick.mockRestore();
  });

  it("lets the user read an unreadable file with another encoding, as the server's reason advises (it offered only “Choose another file”)", async () => {
    // given a file whose header the server cannot read as UTF-8 (a UTF-8 mark before Windows-1252 text)
    const { calls } = api({
      "POST /api/mappings/suggest": (req) =>
        req.query.get("encoding") === "windows-1252"
          ? { body: { ...suggestion, encoding: "windows-1252", missing: [], columns: [{ header: "sku", field: "sku", samples: ["A-1"] }, { header: "name", field: "name", samples: ["Lampe"] }] } }
          : { status: 422, body: { detail: "the header is not valid UTF-8 (byte 11 of the line); if the file was saved in another encoding (Excel on Windows: Windows-1252), import it with that encoding" } },
    });
    const { user } = renderPage(<ImportsPage />);
    await screen.findByTestId("drop-zone");
    dropCsv("\uFEFFsku,name\nA-1,Lampe\n", "latin.csv");
    const step = await screen.findByTestId("mapping-step");
    expect(await within(step).findByText(/This file cannot be imported/)).toBeInTheDocument();
    // when the user picks the encoding the reason names
    await user.selectOptions(within(step).getByLabelText("Encoding"), "windows-1252");
    // then the file is read again with it, and can be imported with it
    expect(await within(step).findByText("Lampe")).toBeInTheDocument();
    expect(within(step).queryByText(/This file cannot be imported/)).toBeNull();
    await user.click(within(step).getByRole("button", { name: "Import now" }));
    await waitFor(() => expect(FakeXhr.instances).toHaveLength(1));
    const created = calls.find((c) => c.method === "POST" && c.path === "/api/imports")!;
    expect((created.body as { encoding?: string }).encoding).toBe("windows-1252");
  });

  it("counts a file read again with another encoding among those “Import all” takes", async () => {
    // given two files, the first of which only reads as Windows-1252
    api({
      "POST /api/mappings/suggest": (req) =>
        (req.raw as Blob).size === 3 && req.query.get("encoding") !== "windows-1252"
          ? { status: 422, body: { detail: "the header is not valid UTF-8 (byte 1 of the line)" } }
          : { body: suggestion },
    });
    const { user } = renderPage(<ImportsPage />);
    await screen.findByTestId("drop-zone");
    fireEvent.drop(screen.getByTestId("drop-zone"), { dataTransfer: { files: [new File(["abc"], "latin.csv"), new File(["a"], "one.csv")] } });
    const step = await screen.findByTestId("mapping-step");
    expect(await screen.findByText(/\(1 file that cannot be imported will be skipped\)/)).toBeInTheDocument();
    // when it is read again as Windows-1252
    await user.selectOptions(within(step).getByLabelText("Encoding"), "windows-1252");
    // then it is importable again
    expect(await within(step).findByText("Item Code")).toBeInTheDocument();
    expect(screen.queryByText(/cannot be imported will be skipped/)).toBeNull();
    expect(screen.getByRole("button", { name: "Import all 2 as read" })).toBeInTheDocument();
  });

  it("leaves an empty file out: never a step, never counted in “Import all”, said in the upload list", async () => {
    // given an empty file chosen with two others
    api();
    renderPage(<ImportsPage />);
    await screen.findByTestId("drop-zone");
    fireEvent.drop(screen.getByTestId("drop-zone"), {
      dataTransfer: { files: [new File([""], "empty.csv"), new File(["a"], "one.csv"), new File(["b"], "two.csv")] },
    });
    // then the steps are for the two others, and the bulk button counts two
    expect(await screen.findByRole("heading", { name: "Columns of “one.csv”" })).toBeInTheDocument();
    expect(screen.getByText(/2 files are waiting/)).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Import all 2 as read" })).toBeInTheDocument();
    // and the upload list says why the empty one was not sent
    const rejected = screen.getAllByTestId("upload-item").find((li) => li.dataset.phase === "rejected")!;
    expect(rejected).toHaveTextContent("“empty.csv” is empty (0 bytes): there is nothing to import.");
  });

  it("skips a file the server cannot import when others wait, and does not count it in “Import all”", async () => {
    // given three files, the first of which the server cannot import
    const { calls } = api({
      "POST /api/mappings/suggest": (req) =>
        (req.raw as Blob).size === 3 ? { status: 422, body: { detail: "the file is a spreadsheet workbook" } } : { body: suggestion },
    });
    const { user } = renderPage(<ImportsPage />);
    await screen.findByTestId("drop-zone");
    fireEvent.drop(screen.getByTestId("drop-zone"), {
      dataTransfer: { files: [new File(["PK\u0003"], "book.csv"), new File(["a"], "one.csv"), new File(["b"], "two.csv")] },
    });
    const step = await screen.findByTestId("mapping-step");
    // then its step says it will be skipped, and the bulk button leaves it out
    expect(await within(step).findByText(/It will be skipped; the next file waits\./)).toBeInTheDocument();
    expect(screen.getByText(/3 files are waiting for their mapping step \(1 file that cannot be imported will be skipped\)\./)).toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "Import all 2 as read" }));
    await waitFor(() => expect(FakeXhr.instances).toHaveLength(2));
    const created = calls.filter((c) => c.method === "POST" && c.path === "/api/imports").map((c) => (c.body as { filename: string }).filename);
    expect(created.sort()).toEqual(["one.csv", "two.csv"]);
  });

  it("takes dropped files one at a time, with focus on the step, or all at once as read", async () => {
    const { calls } = api();
    const { user } = renderPage(<ImportsPage />);
    await screen.findByTestId("drop-zone");
    fireEvent.drop(screen.getByTestId("drop-zone"), {
      dataTransfer: { files: [new File(["a"], "one.csv"), new File(["b"], "two.csv"), new File(["c"], "three.csv")] },
    });
    const step = await screen.findByTestId("mapping-step");
    expect(within(step).getByRole("heading", { name: "Columns of “one.csv”" })).toHaveFocus();
    expect(step).toHaveTextContent("file 1 of 3");
    await user.click(await within(step).findByRole("button", { name: "Cancel" }));
    expect(await screen.findByRole("heading", { name: "Columns of “two.csv”" })).toHaveFocus();
    await user.click(screen.getByRole("button", { name: "Import all 2 as read" }));
    await waitFor(() => expect(FakeXhr.instances).toHaveLength(2));
    const created = calls.filter((c) => c.method === "POST" && c.path === "/api/imports").map((c) => c.body as { filename: string; mode?: string });
    expect(created.map((b) => b.filename).sort()).toEqual(["three.csv", "two.csv"]);
    expect(created.every((b) => b.mode === undefined)).toBe(true);
    // and keyboard focus is back on the drop zone's button
    expect(screen.getByRole("button", { name: "Choose files…" })).toHaveFocus();
  });
});
