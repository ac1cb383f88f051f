import { apiDownload, apiRequest, withQuery } from "../../../lib/api";
import { useQuery } from "../../../lib/query";
import {
  createImportResponseSchema,
  importPageSchema,
  importSchema,
  rowErrorPageSchema,
  type CreateImportResponse,
} from "./schemas";

export const IMPORTS_PAGE_SIZE = 20;
export const ERRORS_PAGE_SIZE = 50;

export function listImports(cursor: string | null, limit = IMPORTS_PAGE_SIZE, signal?: AbortSignal) {
  return apiRequest("/api/imports", importPageSchema, { query: { cursor, limit }, signal });
}

export function getImport(id: string, signal?: AbortSignal) {
  return apiRequest(`/api/imports/${encodeURIComponent(id)}`, importSchema, { signal });
}

export function createImport(file: { name: string; size: number; type: string }): Promise<CreateImportResponse> {
  return apiRequest("/api/imports", createImportResponseSchema, {
    method: "POST",
    body: { filename: file.name, size: file.size, content_type: file.type || "text/csv" },
  });
}

export function listImportErrors(id: string, cursor: string | null, limit = ERRORS_PAGE_SIZE, signal?: AbortSignal) {
  return apiRequest(`/api/imports/${encodeURIComponent(id)}/errors`, rowErrorPageSchema, {
    query: { cursor, limit },
    signal,
  });
}

export function importErrorsCsvUrl(id: string): string {
  return withQuery(`/api/imports/${encodeURIComponent(id)}/errors.csv`);
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

export function useImportsPage(cursor: string | null) {
  return useQuery(["imports", cursor], (signal) => listImports(cursor, IMPORTS_PAGE_SIZE, signal));
}

export function useImport(id: string) {
  return useQuery(["import", id], (signal) => getImport(id, signal));
}

/** `version` (e.g. the failed-row count) refetches the page when it changes while the import runs. */
export function useImportErrors(id: string, cursor: string | null, version: unknown = null) {
  return useQuery(["import-errors", id, cursor, version], (signal) => listImportErrors(id, cursor, ERRORS_PAGE_SIZE, signal));
}
