import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { z } from "zod";
import { apiRequest, apiSend, deleteIdempotently, isNotFound, pathSegment } from "@/lib/api";
import { PRODUCT_FIELDS } from "@/lib/fields";
import { pageOf } from "@/lib/page";

/** The product fields a column can feed (CONTRACT §1), then the two other choices. */
export const FIELDS = PRODUCT_FIELDS;
export const REQUIRED_FIELDS = ["sku", "name"] as const;
export type Target = (typeof FIELDS)[number] | "attribute" | "ignore";
export const TARGETS: readonly Target[] = [...FIELDS, "attribute", "ignore"];
export const PROFILES = ["generic", "shopify", "woocommerce", "magento"] as const;
export const ENCODINGS = ["utf-8", "utf-16", "windows-1252"] as const;

/** How many bytes of a file the mapping step reads (CONTRACT §3 `/api/mappings/suggest`). */
export const SUGGEST_BYTES = 64 * 1024;

const text = z.string().nullable().optional().transform((v) => v ?? null);

/** `POST /api/mappings/suggest`: the reading the import will do of the file's first bytes. */
export const suggestionSchema = z.object({
  encoding: text,
  delimiter: text,
  profile: text,
  columns: z.array(
    z.object({
      header: z.string(),
      field: z.string().nullable().optional().transform((v) => v ?? "attribute"),
      samples: z.array(z.union([z.string(), z.number()]).transform(String)).nullable().optional().transform((v) => v ?? []),
    }),
  ),
  missing: z.array(z.string()).nullable().optional().transform((v) => v ?? []),
  /** For each missing field, the headers most likely to hold it, best first (older servers: none). */
  likeliest: z.record(z.string(), z.array(z.string())).nullable().optional().transform((v) => v ?? {}),
  warnings: z.array(z.string()).nullable().optional().transform((v) => v ?? []),
  /** The saved mapping that applied by its header set, if one did. */
  mapping_id: z.union([z.string(), z.number()]).nullable().optional().transform((v) => (v === null || v === undefined ? null : String(v))),
});
export type Suggestion = z.infer<typeof suggestionSchema>;

export const savedMappingSchema = z.object({
  id: z.union([z.string(), z.number()]).transform(String),
  name: z.string().nullable().optional().transform((v) => v ?? "(unnamed)"),
  mapping: z.record(z.string(), z.string()).nullable().optional().transform((v) => v ?? {}),
  profile: text,
  headers: z.array(z.string()).nullable().optional().transform((v) => v ?? null),
  prefix: text,
  replace: z
    .object({ scope: z.string().optional(), max_deactivate_percent: z.number().nullable().optional() })
    .passthrough()
    .nullable()
    .optional()
    .transform((v) => v ?? null),
  created_at: text,
  updated_at: text,
});
export type SavedMapping = z.infer<typeof savedMappingSchema>;
export const savedMappingPageSchema = pageOf(savedMappingSchema);

export interface ReplaceOptions {
  scope: "all" | "partner";
  max_deactivate_percent: number;
}

export interface MappingInput {
  name: string;
  mapping: Record<string, string>;
  profile?: string | null;
  headers?: string[] | null;
  prefix?: string | null;
  replace?: ReplaceOptions | null;
}

export const mappingKeys = {
  all: ["mappings"] as const,
  list: (cursor: string | null) => [...mappingKeys.all, "list", { cursor }] as const,
  suggestion: (fileKey: string, overrides: { profile: string | null; encoding: string | null }) =>
    [...mappingKeys.all, "suggest", fileKey, overrides] as const,
};

const path = (id: string) => `/api/mappings/${pathSegment(id)}`;

/** Send the first 64 KB of `file` (never the whole file) and get the suggested reading back. */
export function suggestMapping(file: Blob, overrides: { profile?: string | null; encoding?: string | null } = {}, signal?: AbortSignal) {
  return apiRequest("/api/mappings/suggest", suggestionSchema, {
    method: "POST",
    query: { profile: overrides.profile, encoding: overrides.encoding },
    raw: { data: file.slice(0, SUGGEST_BYTES), contentType: "application/octet-stream" },
    signal,
  });
}

export function listMappings(cursor: string | null, limit = 100, signal?: AbortSignal) {
  return apiRequest("/api/mappings", savedMappingPageSchema, { query: { cursor, limit }, signal });
}

export function getMapping(id: string, signal?: AbortSignal) {
  return apiRequest(path(id), savedMappingSchema, { signal });
}

export function createMapping(input: MappingInput) {
  return apiRequest("/api/mappings", savedMappingSchema, { method: "POST", body: input });
}

export function updateMapping(id: string, input: MappingInput) {
  return apiRequest(path(id), savedMappingSchema, { method: "PUT", body: input });
}

export function deleteMapping(id: string) {
  return apiSend(path(id), { method: "DELETE" });
}

// -- queries ------------------------------------------------------------------------------------------

/** The mapping step's reading of one dropped file (`fileKey` names that file while it waits). */
export function useSuggestion(fileKey: string, file: Blob, overrides: { profile: string | null; encoding: string | null }) {
  return useQuery({
    queryKey: mappingKeys.suggestion(fileKey, overrides),
    queryFn: ({ signal }) => suggestMapping(file, overrides, signal),
    staleTime: Infinity,
    gcTime: 0,
    placeholderData: keepPreviousData,
  });
}

/** One saved mapping (`id` null: none, nothing is fetched). */
export function useSavedMapping(id: string | null) {
  return useQuery({
    queryKey: [...mappingKeys.all, "one", id],
    queryFn: ({ signal }) => getMapping(id as string, signal),
    enabled: id !== null,
  });
}

export function useMappings(cursor: string | null) {
  return useQuery({
    queryKey: mappingKeys.list(cursor),
    queryFn: ({ signal }) => listMappings(cursor, 100, signal),
    placeholderData: keepPreviousData,
  });
}

// -- mutations ----------------------------------------------------------------------------------------

/** The mapping being edited is gone: deleted in another tab or by someone else. */
export class MappingDeletedError extends Error {
  constructor() {
    super("This mapping was deleted meanwhile (in another tab or by someone else), so the changes were not saved. The list shows the mappings as they are now.");
    this.name = "MappingDeletedError";
  }
}

/** Create (id null) or replace a saved mapping. */
export function useSaveMapping() {
  const client = useQueryClient();
  const refresh = () => client.invalidateQueries({ queryKey: [...mappingKeys.all, "list"] });
  return useMutation({
    mutationFn: ({ id, input }: { id: string | null; input: MappingInput }) =>
      id
        ? updateMapping(id, input).catch((err: unknown) => {
            throw isNotFound(err) ? new MappingDeletedError() : err;
          })
        : createMapping(input),
    onSuccess: refresh,
    onError: (err) => {
      if (err instanceof MappingDeletedError) void refresh();
    },
  });
}

/** Delete a saved mapping. A 404 means it is gone already (another tab, someone else): that is done too. */
export function useDeleteMapping() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => deleteIdempotently(() => deleteMapping(id)),
    onSuccess: () => client.invalidateQueries({ queryKey: [...mappingKeys.all, "list"] }),
  });
}
