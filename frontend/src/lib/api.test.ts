import { describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { mockApi } from "@/test/api";
import { ApiError, apiRequest, pathSegment, setAuthProvider, UnexpectedResponseError, withQuery } from "./api";

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

describe("apiRequest with sign-in", () => {
  /** A stand-in session: hands out `tokens` in turn, counts refreshes and ended sessions. */
  function provider(tokens: string[], refreshed: (string | null)[] = []) {
    const p = {
      refreshes: 0,
      ended: 0,
      accessToken: vi.fn(async () => tokens.shift() ?? null),
      refreshAfterUnauthorized: vi.fn(async () => {
        p.refreshes += 1;
        return refreshed.shift() ?? null;
      }),
      sessionEnded: vi.fn(() => {
        p.ended += 1;
      }),
    };
    setAuthProvider(p);
    return p;
  }

  it("sends no Authorization header where the deployment has no sign-in", async () => {
    const { calls } = mockApi({ "GET /api/imports": () => ({ body: { ok: true } }) });
    await apiRequest("/api/imports", z.unknown());
    expect(calls[0]!.headers.get("Authorization")).toBeNull();
  });

  it("sends the access token as a bearer token on every call", async () => {
    provider(["tok-1", "tok-1"]);
    const { calls } = mockApi({
      "GET /api/imports": () => ({ body: { ok: true } }),
      "PUT /api/products/A": () => ({ body: { ok: true } }),
    });
    await apiRequest("/api/imports", z.unknown());
    await apiRequest("/api/products/A", z.unknown(), { method: "PUT", body: { name: "x" } });
    expect(calls.map((c) => c.headers.get("Authorization"))).toEqual(["Bearer tok-1", "Bearer tok-1"]);
    expect(calls[1]!.headers.get("Content-Type")).toBe("application/json");
  });

  it("on a 401 refreshes the token and retries once", async () => {
    const p = provider(["stale"], ["fresh"]);
    const { calls } = mockApi({
      "GET /api/imports": (req) =>
        req.headers.get("Authorization") === "Bearer fresh" ? { body: { ok: true } } : { status: 401, body: { message: "Unauthorized" } },
    });
    await expect(apiRequest("/api/imports", z.object({ ok: z.boolean() }))).resolves.toEqual({ ok: true });
    expect(calls.map((c) => c.headers.get("Authorization"))).toEqual(["Bearer stale", "Bearer fresh"]);
    expect(p.refreshes).toBe(1);
    expect(p.ended).toBe(0);
  });

  it("ends the session when the retry is refused too (no loop)", async () => {
    const p = provider(["stale"], ["also-refused"]);
    const { calls } = mockApi({ "GET /api/imports": () => ({ status: 401, body: { message: "Unauthorized" } }) });
    const err = await apiRequest("/api/imports", z.unknown()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).status).toBe(401);
    expect(calls).toHaveLength(2);
    expect(p.ended).toBe(1);
  });

  it("ends the session when no new token can be had", async () => {
    const p = provider(["stale"], [null]);
    const { calls } = mockApi({ "GET /api/imports": () => ({ status: 401, body: { message: "Unauthorized" } }) });
    await expect(apiRequest("/api/imports", z.unknown())).rejects.toThrow(/session has ended/);
    expect(calls).toHaveLength(1);
    expect(p.ended).toBe(1);
  });

  it("leaves other errors alone", async () => {
    const p = provider(["tok"]);
    mockApi({ "GET /api/imports/x": () => ({ status: 404, body: { detail: "Import not found" } }) });
    await expect(apiRequest("/api/imports/x", z.unknown())).rejects.toThrow("Import not found");
    expect(p.refreshes).toBe(0);
  });
});

describe("pathSegment", () => {
  // what `fetch` and `history.pushState` do to a path: the WHATWG URL parser, which folds "." and ".."
  // segments, also when written %2E
  const sent = (path: string) => new URL(path, "http://127.0.0.1:8000/").pathname;

  it("encodes every dot, and what encodeURIComponent encodes", () => {
    expect(pathSegment("AB.1")).toBe("AB%2E1");
    expect(pathSegment("a/b c?#%")).toBe("a%2Fb%20c%3F%23%25");
    expect(pathSegment("...")).toBe("%2E%2E%2E");
  });

  it("keeps a value of only dots from being folded into the path around it", () => {
    for (const value of [".", "..", "...", "./x", "a..b", "Café.csv", "x/.."]) {
      const path = sent(`/api/products/${pathSegment(value)}/history`);
      // the segment is still there, between /api/products/ and /history ...
      const segment = path.match(/^\/api\/products\/([^/]+)\/history$/)?.[1];
      expect(segment, value).toBeDefined();
      // ... and says the value, once the server has decoded and trimmed it (CONTRACT §1: a SKU is trimmed)
      expect(decodeURIComponent(segment!).trim(), value).toBe(value);
    }
    // (plain %2E is not enough: the parser folds it too)
    expect(sent("/api/products/%2E%2E/history")).toBe("/api/history");
  });
});

