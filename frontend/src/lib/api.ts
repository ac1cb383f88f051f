import type { z } from "zod";

/** One field-level problem reported by the API (FastAPI 422 `detail` items). */
export interface FieldError {
  field: string | null;
  message: string;
}

/** Any non-2xx answer from the API, with the server's `detail` put into words. */
export class ApiError extends Error {
  readonly status: number;
  readonly detail: unknown;
  readonly fieldErrors: FieldError[];

  constructor(status: number, detail: unknown, message?: string) {
    const fieldErrors = parseFieldErrors(detail);
    super(message ?? describeDetail(status, detail, fieldErrors));
    this.name = "ApiError";
    this.status = status;
    this.detail = detail;
    this.fieldErrors = fieldErrors;
  }

  /** Field errors keyed by field name (first message per field). */
  byField(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const e of this.fieldErrors) {
      if (e.field && !(e.field in out)) out[e.field] = e.message;
    }
    return out;
  }

  /** Messages that belong to no field the form knows about. */
  generalMessages(knownFields: readonly string[]): string[] {
    return this.fieldErrors
      .filter((e) => !e.field || !knownFields.includes(e.field))
      .map((e) => (e.field ? `${e.field}: ${e.message}` : e.message));
  }
}

/** The server answered 2xx but with JSON the UI does not understand. */
export class UnexpectedResponseError extends Error {
  constructor(path: string, issues: string) {
    super(`Unexpected response from ${path}: ${issues}`);
    this.name = "UnexpectedResponseError";
  }
}

function parseFieldErrors(detail: unknown): FieldError[] {
  if (!Array.isArray(detail)) return [];
  const out: FieldError[] = [];
  for (const item of detail) {
    if (!item || typeof item !== "object") continue;
    const rec = item as { loc?: unknown; msg?: unknown };
    const loc = Array.isArray(rec.loc) ? rec.loc : [];
    // The field is the last string in `loc` that is not a container name ("body", "query", "path").
    const names = loc.filter((p): p is string => typeof p === "string");
    const field = names.length > 0 && !["body", "query", "path"].includes(names[names.length - 1]!)
      ? names[names.length - 1]!
      : null;
    // pydantic prefixes messages of custom validators with "Value error, "; people do not need it
    const message = typeof rec.msg === "string" ? rec.msg.replace(/^Value error, /, "") : "Invalid value";
    out.push({ field, message });
  }
  return out;
}

function describeDetail(status: number, detail: unknown, fieldErrors: FieldError[]): string {
  if (typeof detail === "string" && detail.trim()) return detail;
  if (fieldErrors.length > 0) {
    return fieldErrors.map((e) => (e.field ? `${e.field}: ${e.message}` : e.message)).join("; ");
  }
  if (detail && typeof detail === "object" && "message" in detail) {
    const m = (detail as { message: unknown }).message;
    if (typeof m === "string") return m;
  }
  switch (status) {
    case 400: return "The request was not accepted (400).";
    case 404: return "Not found (404).";
    case 409: return "Conflict with the current state (409).";
    case 413: return "The file is too large (413).";
    case 422: return "Some values are not valid (422).";
    default: return status >= 500 ? `The server had a problem (${status}). Try again.` : `Request failed (${status}).`;
  }
}

/**
 * One user-supplied value (a SKU, an id) as one segment of an API or app path. Every path built from such a
 * value goes through here. Besides what `encodeURIComponent` escapes, "." is sent as "%2E". A value that is
 * only dots ("." or "..") needs more: the URL parser (WHATWG URL, so `fetch`, XHR, `history.pushState`)
 * folds such a segment, even percent-encoded, into the path around it (`/api/products/%2E%2E/history` goes
 * out as `/api/history`). It gets a trailing encoded space, which the URL parser leaves alone and the API
 * trims off again (CONTRACT §1: a SKU is compared after trimming). A value that is not a SKU (a server-made
 * id) is never only dots; if one were, the API answers 404 for it instead of serving another endpoint.
 */
export function pathSegment(value: string): string {
  const encoded = encodeURIComponent(value).replace(/\./g, "%2E");
  return /^(%2E){1,2}$/.test(encoded) ? `${encoded}%20` : encoded;
}

/** The API answered 404: the thing asked about is not (or no longer) there. */
export function isNotFound(err: unknown): boolean {
  return err instanceof ApiError && err.status === 404;
}

/** Run a delete; a 404 means it is gone already (another tab, someone else): that is done too. */
export async function deleteIdempotently(remove: () => Promise<unknown>): Promise<{ alreadyGone: boolean }> {
  try {
    await remove();
    return { alreadyGone: false };
  } catch (err) {
    if (isNotFound(err)) return { alreadyGone: true };
    throw err;
  }
}

export type Query = Record<string, string | number | boolean | null | undefined>;

export function withQuery(path: string, query?: Query): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined || v === null || v === "") continue;
    params.set(k, String(v));
  }
  const s = params.toString();
  return s ? `${path}?${s}` : path;
}

export interface RequestOptions {
  method?: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  query?: Query;
  body?: unknown;
  /** Bytes sent as they are (e.g. the head of a file), instead of a JSON `body`. */
  raw?: { data: Blob | ArrayBuffer; contentType: string };
  signal?: AbortSignal;
}

/**
 * Where the API wants a bearer token (a deployment with sign-in), the session that holds it.
 * Without one (local mode) requests go out without `Authorization`, exactly as before.
 */
export interface AuthProvider {
  /** A valid access token (refreshed if it is about to expire), or null when signed out. */
  accessToken(): Promise<string | null>;
  /** The API answered 401: try to get a new token (null when that is not possible). */
  refreshAfterUnauthorized(): Promise<string | null>;
  /** No token will do any more: the user has to sign in again. */
  sessionEnded(): void;
}

let authProvider: AuthProvider | null = null;

export function setAuthProvider(provider: AuthProvider | null): void {
  authProvider = provider;
}

export function signInRequired(): boolean {
  return authProvider !== null;
}

async function send(path: string, opts: RequestOptions): Promise<Response> {
  const auth = authProvider;
  const token = auth ? await auth.accessToken() : null;
  let res = await sendOnce(path, opts, token);
  if (res.status === 401 && auth) {
    // The token may have expired or been revoked since we last looked: refresh and try once more.
    const fresh = await auth.refreshAfterUnauthorized();
    if (fresh) res = await sendOnce(path, opts, fresh);
    if (res.status === 401) {
      auth.sessionEnded();
      throw new ApiError(401, null, "Your session has ended. Sign in again to continue.");
    }
  }
  if (!res.ok) {
    let detail: unknown;
    try {
      const body: unknown = await res.json();
      detail = body && typeof body === "object" && "detail" in body ? (body as { detail: unknown }).detail : body;
    } catch {
      detail = null;
    }
    throw new ApiError(res.status, detail);
  }
  return res;
}

async function sendOnce(path: string, opts: RequestOptions, token: string | null): Promise<Response> {
  const headers: Record<string, string> = { Accept: "application/json" };
  const init: RequestInit = { method: opts.method ?? "GET", signal: opts.signal };
  if (opts.raw !== undefined) {
    init.body = opts.raw.data;
    headers["Content-Type"] = opts.raw.contentType;
  } else if (opts.body !== undefined) {
    init.body = JSON.stringify(opts.body);
    headers["Content-Type"] = "application/json";
  }
  if (token) headers.Authorization = `Bearer ${token}`;
  init.headers = headers;
  try {
    return await fetch(withQuery(path, opts.query), init);
  } catch (err) {
    if (err instanceof DOMException && err.name === "AbortError") throw err;
    throw new ApiError(0, null, "Cannot reach the server. Check that it is running and try again.");
  }
}

/** Call the API and check the JSON answer against `schema` (types at the edge). */
export async function apiRequest<S extends z.ZodType>(
  path: string,
  schema: S,
  opts: RequestOptions = {},
): Promise<z.output<S>> {
  const res = await send(path, opts);
  const text = await res.text();
  let json: unknown = null;
  if (text) {
    try {
      json = JSON.parse(text);
    } catch {
      throw new UnexpectedResponseError(path, "not JSON");
    }
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues
      .slice(0, 3)
      .map((i) => `${i.path.join(".") || "(root)"} ${i.message}`)
      .join("; ");
    throw new UnexpectedResponseError(path, issues);
  }
  return parsed.data;
}

/** A file from the API (e.g. a CSV export), fetched with the same headers as every other call. */
export async function apiDownload(path: string, opts: RequestOptions = {}): Promise<Blob> {
  const res = await send(path, opts);
  return res.blob();
}

/** Call the API when the answer has no body the UI needs (204 and the like). */
export async function apiSend(path: string, opts: RequestOptions = {}): Promise<void> {
  await send(path, opts);
}

/** Worth asking again later: the server was not reached, was busy (429) or failed (5xx). */
export function isTransientError(err: unknown): boolean {
  if (err instanceof UnexpectedResponseError) return false;
  if (err instanceof ApiError) return err.status === 0 || err.status === 429 || err.status >= 500;
  return !(err instanceof DOMException && err.name === "AbortError");
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
