import { vi } from "vitest";

export interface MockRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: Headers;
  body: unknown;
  /** A body that was not JSON text (a Blob, bytes). */
  raw: unknown;
}

export type MockReply = { status?: number; body?: unknown } | undefined;
export type MockHandler = (req: MockRequest) => MockReply | Promise<MockReply>;

/**
 * Replace `fetch` with a tiny router: keys are "METHOD /path" (exact path, query ignored).
 * Unknown routes answer 404 so a test fails loudly. Returns the list of requests seen.
 */
export function mockApi(routes: Record<string, MockHandler>) {
  const calls: MockRequest[] = [];
  const fetchMock = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = new URL(String(input), "http://localhost");
    const method = (init?.method ?? "GET").toUpperCase();
    const body = typeof init?.body === "string" ? (JSON.parse(init.body) as unknown) : undefined;
    const raw = init?.body !== undefined && typeof init.body !== "string" ? init.body : undefined;
    const req = { method, path: url.pathname, query: url.searchParams, headers: new Headers(init?.headers), body, raw };
    calls.push(req);
    const handler = routes[`${method} ${url.pathname}`];
    const reply = handler ? await handler(req) : { status: 404, body: { detail: `no mock for ${method} ${url.pathname}` } };
    const status = reply?.status ?? 200;
    const text = status === 204 || reply?.body === undefined ? "" : JSON.stringify(reply.body);
    return new Response(text || null, { status, headers: { "Content-Type": "application/json" } });
  });
  vi.stubGlobal("fetch", fetchMock);
  return { calls, fetchMock };
}

/** An API that cannot be reached (fetch fails, as with the network down) until `end()`: `answer(reply)` is a
 * route handler that fails while the outage lasts and answers `reply` after it. */
export function apiOutage() {
  let down = true;
  return {
    answer: (reply: MockReply): MockHandler => () => {
      if (down) throw new TypeError("Failed to fetch");
      return reply;
    },
    end: () => {
      down = false;
    },
  };
}

export function makeImport(overrides: Record<string, unknown> = {}) {
  return {
    id: "imp-1",
    filename: "catalog.csv",
    source: "upload",
    status: "processing",
    rows_total: 1000,
    rows_processed: 250,
    rows_imported: 240,
    rows_failed: 10,
    products_created: 200,
    products_updated: 40,
    products_unchanged: 0,
    chunks_total: 4,
    chunks_done: 1,
    error: null,
    created_at: "2025-01-01T10:00:00Z",
    started_at: "2025-01-01T10:00:01Z",
    finished_at: null,
    ...overrides,
  };
}

export function makeProduct(overrides: Record<string, unknown> = {}) {
  return {
    sku: "AB-1",
    name: "Desk lamp",
    description: null,
    price: "19.9900",
    currency: "USD",
    quantity: 5,
    active: true,
    brand: "Lumo",
    category: "Lighting",
    barcode: null,
    attributes: {},
    created_at: "2025-01-01T10:00:00Z",
    updated_at: "2025-01-01T10:00:00Z",
    last_import_id: null,
    ...overrides,
  };
}

/** A WebSocket stand-in the test drives by hand. */
export class FakeWebSocket {
  static instances: FakeWebSocket[] = [];
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSING = 2;
  static readonly CLOSED = 3;
  readonly url: string;
  readyState = 0;
  sent: string[] = [];
  onopen: ((ev: Event) => unknown) | null = null;
  onclose: ((ev: CloseEvent) => unknown) | null = null;
  onerror: ((ev: Event) => unknown) | null = null;
  onmessage: ((ev: MessageEvent) => unknown) | null = null;

  constructor(url: string) {
    this.url = url;
    FakeWebSocket.instances.push(this);
  }
  static reset() {
    FakeWebSocket.instances = [];
  }
  static latest(): FakeWebSocket {
    const s = FakeWebSocket.instances[FakeWebSocket.instances.length - 1];
    if (!s) throw new Error("no socket opened");
    return s;
  }
  send(data: string) {
    this.sent.push(data);
  }
  close() {
    this.readyState = 3;
  }
  // test drivers
  open() {
    this.readyState = 1;
    this.onopen?.(new Event("open"));
  }
  receive(data: unknown) {
    this.onmessage?.(new MessageEvent("message", { data: JSON.stringify(data) }));
  }
  drop() {
    this.readyState = 3;
    this.onerror?.(new Event("error"));
    this.onclose?.(new CloseEvent("close", { code: 1006 }));
  }
}

/** An XMLHttpRequest stand-in: records the FormData, lets the test push progress and finish. */
export class FakeXhr {
  static instances: FakeXhr[] = [];
  method = "";
  url = "";
  body: FormData | null = null;
  status = 0;
  responseText = "";
  upload: { onprogress: ((ev: ProgressEvent) => void) | null } = { onprogress: null };
  onload: (() => void) | null = null;
  onerror: (() => void) | null = null;
  onabort: (() => void) | null = null;

  constructor() {
    FakeXhr.instances.push(this);
  }
  static reset() {
    FakeXhr.instances = [];
  }
  static latest(): FakeXhr {
    const x = FakeXhr.instances[FakeXhr.instances.length - 1];
    if (!x) throw new Error("no XHR created");
    return x;
  }
  open(method: string, url: string) {
    this.method = method;
    this.url = url;
  }
  send(body: FormData) {
    this.body = body;
  }
  abort() {
    this.onabort?.();
  }
  // test drivers
  progress(loaded: number, total: number) {
    this.upload.onprogress?.({ loaded, total, lengthComputable: true } as ProgressEvent);
  }
  respond(status: number, text = "") {
    this.status = status;
    this.responseText = text;
    this.onload?.();
  }
}
