import { z } from "zod";
import { pageOf } from "@/lib/page";

const count = z.number().int().nullable().optional().transform((v) => v ?? null);
const time = z.string().nullable().optional().transform((v) => v ?? null);

export const importSchema = z.object({
  id: z.string(),
  filename: z.string().nullable().optional().transform((v) => v ?? "(unnamed)"),
  source: z.string().nullable().optional().transform((v) => v ?? "upload"),
  status: z.string(),
  rows_total: count,
  rows_processed: count,
  rows_imported: count,
  rows_failed: count,
  products_created: count,
  products_updated: count,
  products_unchanged: count,
  chunks_total: count,
  chunks_done: count,
  error: z.string().nullable().optional().transform((v) => v ?? null),
  created_at: time,
  started_at: time,
  finished_at: time,
});
export type Import = z.infer<typeof importSchema>;
export type ImportStatus = "pending" | "processing" | "completed" | "failed";

export const importPageSchema = pageOf(importSchema);

export const createImportResponseSchema = z.object({
  import: importSchema,
  upload: z.object({
    method: z.string().optional(),
    url: z.string(),
    fields: z.record(z.string(), z.union([z.string(), z.number()]).transform(String)),
    expires_in: z.number().optional(),
  }),
});
export type CreateImportResponse = z.infer<typeof createImportResponseSchema>;

export const rowErrorSchema = z.object({
  row: z.number().int().nullable().optional().transform((v) => v ?? null),
  sku: z.string().nullable().optional().transform((v) => v ?? null),
  column: z.string().nullable().optional().transform((v) => v ?? null),
  message: z.string(),
  value: z.string().nullable().optional().transform((v) => v ?? null),
});
export type RowError = z.infer<typeof rowErrorSchema>;
export const rowErrorPageSchema = pageOf(rowErrorSchema);

/** A WebSocket frame the UI understands; anything else is ignored. */
export const importUpdatedMessageSchema = z.object({
  type: z.literal("import.updated"),
  import: importSchema,
});

export function isFinished(imp: Pick<Import, "status">): boolean {
  return imp.status === "completed" || imp.status === "failed";
}

/** Wall time of an import so far (or in total once finished), in ms. */
export function importDurationMs(imp: Import, now: number = Date.now()): number | null {
  if (!imp.started_at) return null;
  const start = Date.parse(imp.started_at);
  const end = imp.finished_at ? Date.parse(imp.finished_at) : isFinished(imp) ? NaN : now;
  if (Number.isNaN(start) || Number.isNaN(end)) return null;
  return Math.max(0, end - start);
}

/** Rows per second over the import's duration. */
export function importThroughput(imp: Import, now: number = Date.now()): number | null {
  const ms = importDurationMs(imp, now);
  if (ms === null || ms <= 0 || imp.rows_processed === null) return null;
  return imp.rows_processed / (ms / 1000);
}

/** Newer of two snapshots of the same import: never move backwards (late frames, slow polls). */
export function newerSnapshot(current: Import, incoming: Import): Import {
  const rank = (s: string) => (s === "completed" || s === "failed" ? 3 : s === "processing" ? 2 : 1);
  if (rank(incoming.status) < rank(current.status)) return current;
  if (rank(incoming.status) === rank(current.status) && (incoming.rows_processed ?? -1) < (current.rows_processed ?? -1)) {
    return current;
  }
  return incoming;
}

/** Merge live snapshots into a list: update in place, put unknown imports on top (newest first). */
export function mergeImports(list: Import[], incoming: Import[], addNew: boolean): Import[] {
  if (incoming.length === 0) return list;
  const byId = new Map(incoming.map((i) => [i.id, i]));
  const out = list.map((imp) => {
    const next = byId.get(imp.id);
    if (!next) return imp;
    byId.delete(imp.id);
    return newerSnapshot(imp, next);
  });
  if (!addNew || byId.size === 0) return out;
  const fresh = [...byId.values()].sort((a, b) => (b.created_at ?? "").localeCompare(a.created_at ?? ""));
  return [...fresh, ...out];
}
