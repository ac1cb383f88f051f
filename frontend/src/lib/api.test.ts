import { describe, expect, it } from "vitest";
import { z } from "zod";
import { mockApi } from "../test/api";
import { ApiError, apiRequest, UnexpectedResponseError, withQuery } from "./api";

describe("apiRequest", () => {
  it("turns FastAPI 422 details into field errors", async () => {
    // given an API that rejects two fields
    mockApi({
      "PUT /api/products/A": () => ({
        status: 422,
        body: {
          detail: [
            { loc: ["body", "price"], msg: "Price must be ≥ 0", type: "value_error" },
            { loc: ["body"], msg: "Something about the whole body", type: "value_error" },
          ],
        },
      }),
    });
    // when the UI calls it
    const err = await apiRequest("/api/products/A", z.unknown(), { method: "PUT", body: {} }).catch((e: unknown) => e);
    // then the error carries the fields and a readable message
    expect(err).toBeInstanceOf(ApiError);
    const apiErr = err as ApiError;
    expect(apiErr.status).toBe(422);
    expect(apiErr.byField()).toEqual({ price: "Price must be ≥ 0" });
    expect(apiErr.generalMessages(["price"])).toEqual(["Something about the whole body"]);
  });

  it("uses a string detail as the message", async () => {
    mockApi({ "GET /api/imports/x": () => ({ status: 404, body: { detail: "Import not found" } }) });
    await expect(apiRequest("/api/imports/x", z.unknown())).rejects.toThrow("Import not found");
  });

  it("rejects JSON that does not match the schema", async () => {
    mockApi({ "GET /api/config": () => ({ body: { websocket_url: 42 } }) });
    await expect(apiRequest("/api/config", z.object({ websocket_url: z.string() }))).rejects.toBeInstanceOf(UnexpectedResponseError);
  });

  it("builds query strings without empty values", () => {
    expect(withQuery("/api/products", { q: "lamp", active: "", cursor: null, limit: 25 })).toBe("/api/products?q=lamp&limit=25");
  });
});
