import { act, renderHook, waitFor } from "@testing-library/react";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { FakeXhr, makeImport, mockApi } from "@/test/api";
import { checkFile, useUploads } from "./useUploads";

describe("checkFile", () => {
  it("accepts .csv in any case and the text files spreadsheets save, and rejects other extensions", () => {
    expect(checkFile({ name: "Catalog.CSV", size: 10 }, null)).toBeNull();
    expect(checkFile({ name: "unicode-text.txt", size: 10 }, null)).toBeNull();
    expect(checkFile({ name: "export.tsv", size: 10 }, null)).toBeNull();
    expect(checkFile({ name: "photo.png", size: 10 }, null)).toMatch(/not a CSV file/);
  });
  it("tells how to save a workbook as CSV", () => {
    expect(checkFile({ name: "catalog.xlsx", size: 10 }, null)).toMatch(/workbook.*Save the sheet as “CSV UTF-8”/);
  });
  it("rejects files over the configured maximum", () => {
    expect(checkFile({ name: "a.csv", size: 2048 }, 1024)).toMatch(/largest file accepted is 1 KiB/);
    expect(checkFile({ name: "a.csv", size: 2048 }, undefined)).toBeNull();
  });
  it("rejects an empty file before a mapping step or an upload (it could only fail)", () => {
    expect(checkFile({ name: "empty.csv", size: 0 }, null)).toBe("“empty.csv” is empty (0 bytes): there is nothing to import. Choose the file with the products.");
  });
});

describe("useUploads", () => {
  beforeEach(() => {
    FakeXhr.reset();
    vi.stubGlobal("XMLHttpRequest", FakeXhr);
  });

  it("creates the import, then uploads with byte progress", async () => {
    // given an API that hands out a presigned POST
    const { calls } = mockApi({
      "POST /api/imports": () => ({
        status: 201,
        body: { import: makeImport({ id: "imp-9", status: "pending" }), upload: { method: "POST", url: "http://s3/bucket", fields: { key: "k" }, expires_in: 3600 } },
      }),
    });
    const created = vi.fn();
    const { result } = renderHook(() => useUploads(created, null));
    // when a CSV is added
    const file = new File(["sku,name\n" + "x".repeat(990)], "catalog.csv", { type: "text/csv" });
    act(() => result.current.addFiles([file]));
    await waitFor(() => expect(FakeXhr.instances).toHaveLength(1));
    // then the API got the file's name, size and type
    expect(calls[0]!.body).toEqual({ filename: "catalog.csv", size: file.size, content_type: "text/csv" });
    expect(created).toHaveBeenCalledWith(expect.objectContaining({ id: "imp-9" }));
    // and the progress follows the bytes sent
    act(() => FakeXhr.latest().progress(500, 1000));
    expect(result.current.uploads[0]).toMatchObject({ phase: "uploading", loaded: 500, total: 1000, importId: "imp-9" });
    act(() => FakeXhr.latest().respond(204));
    await waitFor(() => expect(result.current.uploads[0]!.phase).toBe("uploaded"));
  });

  it("discards the import of an upload the user cancelled (it would wait 24 hours for its file)", async () => {
    const { calls } = mockApi({
      "POST /api/imports": () => ({
        status: 201,
        body: { import: makeImport({ id: "imp-9", status: "pending" }), upload: { method: "POST", url: "http://s3/bucket", fields: {} } },
      }),
      "DELETE /api/imports/imp-9": () => ({ status: 204 }),
    });
    const discarded = vi.fn();
    const { result } = renderHook(() => useUploads(() => {}, null, undefined, discarded));
    act(() => result.current.addFiles([new File(["sku,name\nA,B\n"], "c.csv", { type: "text/csv" })]));
    await waitFor(() => expect(FakeXhr.instances).toHaveLength(1));
    act(() => result.current.cancel(result.current.uploads[0]!.key));
    await waitFor(() => expect(result.current.uploads[0]!.phase).toBe("cancelled"));
    expect(result.current.uploads[0]!.error).toBeNull(); // what the user asked for is no error
    await waitFor(() => expect(discarded).toHaveBeenCalledWith("imp-9"));
    expect(calls.some((c) => c.method === "DELETE" && c.path === "/api/imports/imp-9")).toBe(true);
  });

  it("shows the API's 413 in plain words and never uploads", async () => {
    mockApi({ "POST /api/imports": () => ({ status: 413, body: { detail: "File exceeds the 5 GiB limit" } }) });
    const { result } = renderHook(() => useUploads(() => {}, null));
    act(() => result.current.addFiles([new File(["a"], "huge.csv")]));
    await waitFor(() => expect(result.current.uploads[0]!.phase).toBe("failed"));
    expect(result.current.uploads[0]!.error).toMatch(/too large.*5 GiB limit/);
    expect(FakeXhr.instances).toHaveLength(0);
  });

  it("shows the API's 422 reason without pydantic's prefix", async () => {
    mockApi({
      "POST /api/imports": () => ({
        status: 422,
        body: { detail: [{ type: "value_error", loc: ["body", "filename"], msg: "Value error, only .csv files can be imported" }] },
      }),
    });
    const { result } = renderHook(() => useUploads(() => {}, null));
    act(() => result.current.addFiles([new File(["a"], "x.csv")]));
    await waitFor(() => expect(result.current.uploads[0]!.phase).toBe("failed"));
    expect(result.current.uploads[0]!.error).toBe("“x.csv” was not accepted: only .csv files can be imported");
  });

  it("rejects a non-CSV file before calling the API", () => {
    const { calls } = mockApi({});
    const { result } = renderHook(() => useUploads(() => {}, null));
    act(() => result.current.addFiles([new File(["a"], "photo.png")]));
    expect(result.current.uploads[0]).toMatchObject({ phase: "rejected" });
    expect(calls).toHaveLength(0);
  });
});
