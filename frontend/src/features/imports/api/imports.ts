import { keepPreviousData, useQuery, useQueryClient, type QueryClient } from "@tanstack/react-query";
import { useCallback } from "react";
import { apiDownload, apiRequest, pathSegment, withQuery } from "@/lib/api";
import type { Page } from "@/lib/page";
import {
  createImportResponseSchema,
  importPageSchema,
  importSchema,
  mergeImports,
  newerSnapshot,
  rowErrorPageSchema,
  type CreateImportResponse,
  type Import,
} from "./schemas";

export const IMPORTS_PAGE_SIZE = 20;
export const ERRORS_PAGE_SIZE = 50;
/** Row errors an import keeps (CONTRACT §1); rows_failed counts every failed row. */
export const MAX_STORED_ROW_ERRORS = 100_000;

/** Query keys of this feature: everything under ["imports"], so one invalidation reaches all of it. */
export const importKeys = {
  all: ["imports"] as const,
  lists: () => [...importKeys.all, "list"] as const,
  list: (cursor: string | null) => [...importKeys.lists(), { cursor }] as const,
  detail: (id: string) => [...importKeys.all, "detail", id] as const,
  errors: (id: string) => [...importKeys.all, "errors", id] as const,
  errorsPage: (id: string, cursor: string | null) => [...importKeys.errors(id), { cursor }] as const,
};

const path = (id: string) => `/api/imports/${pathSegment(id)}`;

export function listImports(cursor: string | null, limit = IMPORTS_PAGE_SIZE, signal?: AbortSignal) {
  return apiRequest("/api/imports", importPageSchema, { query: { cursor, limit }, signal });
}

export function getImport(id: string, signal?: AbortSignal) {
  return apiRequest(path(id), importSchema, { signal });
}

/** What the mapping step adds to `POST /api/imports` (CONTRACT §3); each one is optional. */
export interface ImportOptions {
  mode?: "import" | "preview";
  mapping?: Record<string, string>;
  profile?: string;
  encoding?: string;
  replace?: { scope: "all" | "partner"; max_deactivate_percent: number };
  max_errors?: number;
  partner?: string;
}

export function createImport(file: { name: string; size: number; type: string }, options: ImportOptions = {}): Promise<CreateImportResponse> {
  return apiRequest("/api/imports", createImportResponseSchema, {
    method: "POST",
    body: { filename: file.name, size: file.size, content_type: file.type || "text/csv", ...options },
  });
}

export function listImportErrors(id: string, cursor: string | null, limit = ERRORS_PAGE_SIZE, signal?: AbortSignal) {
  return apiRequest(`${path(id)}/errors`, rowErrorPageSchema, { query: { cursor, limit }, signal });
}

export function importErrorsCsvUrl(id: string): string {
  return withQuery(`${path(id)}/errors.csv`);
}

/**
 * Save the row errors as a file. A plain link works where the API needs no token; with sign-in the CSV is
 * fetched with the bearer token and handed to the browser as a blob.
 */
export async function downloadImportErrors(id: string): Promise<void> {
  const blob = await apiDownload(importErrorsCsvUrl(id));
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = `import-${id}-errors.csv`;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

// -- queries ------------------------------------------------------------------------------------------

export function useImportsPage(cursor: string | null) {
  return useQuery({
    queryKey: importKeys.list(cursor),
    queryFn: ({ signal }) => listImports(cursor, IMPORTS_PAGE_SIZE, signal),
    placeholderData: keepPreviousData, // the list does not flicker while the next page loads
  });
}

export function useImport(id: string) {
  return useQuery({
    queryKey: importKeys.detail(id),
    queryFn: ({ signal }) => getImport(id, signal),
    enabled: id !== "",
  });
}

export function useImportErrors(id: string, cursor: string | null) {
  return useQuery({
    queryKey: importKeys.errorsPage(id, cursor),
    queryFn: ({ signal }) => listImportErrors(id, cursor, ERRORS_PAGE_SIZE, signal),
    placeholderData: keepPreviousData,
  });
}

// -- live snapshots into the cache --------------------------------------------------------------------

/**
 * Write import snapshots (WebSocket frames, polls, mutation answers) into every cached view of them: the
 * detail of each import and every cached history page. Snapshots never move an import backwards; imports
 * not yet listed go on top of the first page only when `addNew`.
 */
export function writeImportSnapshots(client: QueryClient, incoming: Import[], { addNew = false } = {}): void {
  if (incoming.length === 0) return;
  for (const imp of incoming) {
    client.setQueryData<Import>(importKeys.detail(imp.id), (prev) => (prev ? newerSnapshot(prev, imp) : prev));
  }
  for (const [key, data] of client.getQueriesData<Page<Import>>({ queryKey: importKeys.lists() })) {
    if (!data) continue;
    const cursor = (key[2] as { cursor?: string | null } | undefined)?.cursor ?? null;
    client.setQueryData<Page<Import>>(key, { ...data, items: mergeImports(data.items, incoming, addNew && cursor === null) });
  }
}

/** Replace one import in the cache as the server just answered it (an action's reply wins over snapshots). */
export function putImport(client: QueryClient, imp: Import): void {
  client.setQueryData<Import>(importKeys.detail(imp.id), imp);
  for (const [key, data] of client.getQueriesData<Page<Import>>({ queryKey: importKeys.lists() })) {
    if (!data) continue;
    const cursor = (key[2] as { cursor?: string | null } | undefined)?.cursor ?? null;
    const known = data.items.some((i) => i.id === imp.id);
    if (!known && cursor !== null) continue;
    const items = known ? data.items.map((i) => (i.id === imp.id ? imp : i)) : [imp, ...data.items];
    client.setQueryData<Page<Import>>(key, { ...data, items });
  }
}

/**
 * The history page's fallback poll (`useLiveImports`): the page at `cursor` as the API has it now. A page
 * that could not load (the API was down when it was opened) takes the answer whole, which clears its error;
 * a loaded one gets the snapshots merged in (never moving an import backwards).
 */
export function useImportsPagePoll(cursor: string | null) {
  const client = useQueryClient();
  return useCallback(async () => {
    const page = await listImports(cursor);
    const key = importKeys.list(cursor);
    if (client.getQueryData(key) === undefined) client.setQueryData(key, page);
    return page.items;
  }, [client, cursor]);
}

/** One import's fallback poll: like `useImportsPagePoll`, an import page that could not load takes the answer. */
export function useImportPoll(id: string) {
  const client = useQueryClient();
  return useCallback(async () => {
    const imp = await getImport(id);
    const key = importKeys.detail(id);
    if (client.getQueryData(key) === undefined) client.setQueryData(key, imp);
    return [imp];
  }, [client, id]);
}

/** `writeImportSnapshots` bound to this component's query cache. */
export function useImportSnapshotWriter(addNew: boolean) {
  const client = useQueryClient();
  return useCallback((incoming: Import[]) => writeImportSnapshots(client, incoming, { addNew }), [client, addNew]);
}
