import { keepPreviousData, useMutation, useQuery, useQueryClient, type QueryClient } from "@tanstack/react-query";
import { z } from "zod";
import { apiRequest, apiSend, deleteIdempotently, isNotFound, isTransientError, pathSegment } from "@/lib/api";
import type { Page } from "@/lib/page";
import { pageOf } from "@/lib/page";
import { importKeys, putImport } from "./imports";
import { importSchema, type Import } from "./schemas";

export const CHANGES_PAGE_SIZE = 25;
export const CONFLICTS_PAGE_SIZE = 25;
export const ACTIONS = ["create", "update", "unchanged", "deactivate"] as const;

const fieldChangeSchema = z.object({ from: z.unknown().optional(), to: z.unknown().optional() }).passthrough();

/** One product's planned (preview) or applied (import) change: CONTRACT §3 `/changes`. */
export const changeSchema = z.object({
  sku: z.string(),
  action: z.string(),
  changes: z.record(z.string(), fieldChangeSchema).nullable().optional().transform((v) => v ?? {}),
});
export type Change = z.infer<typeof changeSchema>;
export type FieldChange = z.infer<typeof fieldChangeSchema>;
export const changePageSchema = pageOf(changeSchema);

const n = z.number().int().nullable().optional().transform((v) => v ?? 0);
export const changeSummarySchema = z.object({
  create: n,
  update: n,
  unchanged: n,
  deactivate: n,
  fields: z.record(z.string(), z.number()).nullable().optional().transform((v) => v ?? {}),
});
export type ChangeSummary = z.infer<typeof changeSummarySchema>;

/** A product the revert left alone, and what changed it since. */
export const conflictSchema = z.object({
  sku: z.string(),
  changed_by: z
    .object({ import_id: z.string().nullable().optional(), edit: z.boolean().nullable().optional() })
    .passthrough()
    .nullable()
    .optional()
    .transform((v) => v ?? null),
  at: z.string().nullable().optional().transform((v) => v ?? null),
});
export type Conflict = z.infer<typeof conflictSchema>;
export const conflictPageSchema = pageOf(conflictSchema);

const envelope = z.object({ import: importSchema });

export interface ChangeFilters {
  action: string;
  sku: string;
}

export const changeKeys = {
  all: (id: string) => [...importKeys.all, "changes", id] as const,
  page: (id: string, filters: ChangeFilters, cursor: string | null) => [...changeKeys.all(id), "page", { ...filters, cursor }] as const,
  summary: (id: string) => [...changeKeys.all(id), "summary"] as const,
  conflicts: (id: string, cursor: string | null) => [...importKeys.all, "conflicts", id, { cursor }] as const,
};

const path = (id: string) => `/api/imports/${pathSegment(id)}`;

export function listChanges(id: string, filters: ChangeFilters, cursor: string | null, limit = CHANGES_PAGE_SIZE, signal?: AbortSignal) {
  return apiRequest(`${path(id)}/changes`, changePageSchema, {
    // `sku`: a case-insensitive SKU prefix
    query: { action: filters.action, sku: filters.sku.trim(), cursor, limit },
    signal,
  });
}

export function getChangeSummary(id: string, signal?: AbortSignal) {
  return apiRequest(`${path(id)}/changes/summary`, changeSummarySchema, { signal });
}

export function listRevertConflicts(id: string, cursor: string | null, limit = CONFLICTS_PAGE_SIZE, signal?: AbortSignal) {
  return apiRequest(`${path(id)}/revert/conflicts`, conflictPageSchema, { query: { cursor, limit }, signal });
}

export async function applyPreview(id: string): Promise<Import> {
  return (await apiRequest(`${path(id)}/apply`, envelope, { method: "POST" })).import;
}

export function discardImport(id: string) {
  return apiSend(path(id), { method: "DELETE" });
}

export async function revertImport(id: string): Promise<Import> {
  return (await apiRequest(`${path(id)}/revert`, envelope, { method: "POST" })).import;
}

export async function confirmReplace(id: string): Promise<Import> {
  return (await apiRequest(`${path(id)}/replace`, envelope, { method: "POST", query: { confirm: "true" } })).import;
}

// -- queries ------------------------------------------------------------------------------------------

export function useChanges(id: string, filters: ChangeFilters, cursor: string | null, enabled = true) {
  return useQuery({
    queryKey: changeKeys.page(id, filters, cursor),
    queryFn: ({ signal }) => listChanges(id, filters, cursor, CHANGES_PAGE_SIZE, signal),
    placeholderData: keepPreviousData,
    enabled,
  });
}

export function useChangeSummary(id: string, enabled = true) {
  return useQuery({ queryKey: changeKeys.summary(id), queryFn: ({ signal }) => getChangeSummary(id, signal), enabled });
}

export function useRevertConflicts(id: string, cursor: string | null, enabled = true) {
  return useQuery({
    queryKey: changeKeys.conflicts(id, cursor),
    queryFn: ({ signal }) => listRevertConflicts(id, cursor, CONFLICTS_PAGE_SIZE, signal),
    placeholderData: keepPreviousData,
    enabled,
  });
}

// -- mutations: the server's answer goes into the cache at once ---------------------------------------

/**
 * A discarded import leaves every cached list at once, and its own queries go once no page shows them. The
 * page that discarded it (or found it gone) is still showing them as it leaves: removed under it, they were
 * fetched again at once — the import, its summary and its changes, three requests for what is gone, each
 * answer re-rendering the page its navigation was waiting on (the navigation is a transition, which yields
 * to them), so leaving took as long as the slowest of them.
 */
function forgetImport(client: QueryClient, id: string) {
  for (const [key, data] of client.getQueriesData<Page<Import>>({ queryKey: importKeys.lists() })) {
    if (data) client.setQueryData<Page<Import>>(key, { ...data, items: data.items.filter((i) => i.id !== id) });
  }
  removeWhenUnused(client, importKeys.detail(id));
  removeWhenUnused(client, changeKeys.all(id));
}

function removeWhenUnused(client: QueryClient, queryKey: readonly unknown[]) {
  const cache = client.getQueryCache();
  client.removeQueries({ queryKey, type: "inactive" });
  if (cache.findAll({ queryKey }).length === 0) return;
  const unsubscribe = cache.subscribe((event) => {
    if (event.type !== "observerRemoved" || cache.findAll({ queryKey, type: "active" }).length > 0) return;
    unsubscribe();
    client.removeQueries({ queryKey });
  });
}

/**
 * Apply a preview: the new import (created now) goes on top of the history; the preview gets `applied_as`.
 * A 404 means the preview was discarded meanwhile (another tab, the command line): it is forgotten here too.
 */
export function useApplyPreview() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => applyPreview(id),
    onSuccess: (created, previewId) => {
      putImport(client, created);
      void client.invalidateQueries({ queryKey: importKeys.detail(previewId) });
    },
    onError: (err, previewId) => {
      if (isNotFound(err)) forgetImport(client, previewId);
    },
  });
}

/**
 * Discard a preview (or a pending import): it leaves every cached list. A 404 means it was discarded already
 * (another tab, the command line): that is done too (`alreadyGone`).
 */
export function useDiscardImport() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => deleteIdempotently(() => discardImport(id)),
    onSuccess: (_, id) => forgetImport(client, id),
  });
}

export function useRevertImport() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => revertImport(id),
    onSuccess: (imp) => {
      putImport(client, imp);
      client.removeQueries({ queryKey: [...importKeys.all, "conflicts", imp.id] });
    },
    // the answer may have been lost after the server started the revert: read the import again (its status
    // then says "reverting", and the page closes the dialog)
    onError: (err, id) => {
      if (isTransientError(err)) void client.invalidateQueries({ queryKey: importKeys.detail(id) });
    },
  });
}

export function useConfirmReplace() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => confirmReplace(id),
    onSuccess: (imp) => putImport(client, imp),
    // a lost answer (the server may have taken the confirm): read the import again, whose replace then says so
    onError: (err, id) => {
      if (isTransientError(err)) void client.invalidateQueries({ queryKey: importKeys.detail(id) });
    },
  });
}
