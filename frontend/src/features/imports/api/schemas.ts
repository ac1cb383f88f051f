import { z } from "zod";
import { pageOf } from "@/lib/page";

const count = z.number().int().nullable().optional().transform((v) => v ?? null);
const time = z.string().nullable().optional().transform((v) => v ?? null);

const text = z.string().nullable().optional().transform((v) => v ?? null);
/** A count that older servers do not send: 0 when absent. */
const zeroCount = z.number().int().nullable().optional().transform((v) => v ?? 0);

/** A mapping as the import carries it: header → field | "attribute" | "ignore", plus the saved mapping's "id". */
export const importMappingSchema = z.record(z.string(), z.unknown()).nullable().optional().transform((v) => v ?? null);

/** `replace` on an import (CONTRACT §2 Replace): the options and whether it was carried out or is held. */
export const replaceInfoSchema = z
  .object({
    scope: z.string().nullable().optional().transform((v) => v ?? "all"),
    max_deactivate_percent: z.number().nullable().optional().transform((v) => v ?? null),
    status: z.string().nullable().optional().transform((v) => v ?? null),
    would_deactivate: z.number().int().nullable().optional().transform((v) => v ?? null),
    in_scope: z.number().int().nullable().optional().transform((v) => v ?? null),
    confirmed_at: z.string().nullable().optional().transform((v) => v ?? null),
  })
  .nullable()
  .optional()
  .transform((v) => v ?? null);
export type ReplaceInfo = NonNullable<z.infer<typeof replaceInfoSchema>>;

/** How the warning of a held replace begins, in a preview and in an import (pipeline/finish.py). */
export const PLANNED_HELD_WARNING = "replace would be held:";
export const HELD_WARNING = "replace held:";

/** `revert` on an import (CONTRACT §2 Revert). */
export const revertInfoSchema = z
  .object({
    status: z.string().nullable().optional().transform((v) => v ?? null),
    restored: count,
    deleted: count,
    conflicts: count,
    requested_at: time,
    finished_at: time,
    previous_status: text,
    error: text,
    chunks_total: count,
    chunks_done: count,
  })
  .nullable()
  .optional()
  .transform((v) => v ?? null);
export type RevertInfo = NonNullable<z.infer<typeof revertInfoSchema>>;

export const importSchema = z.object({
  id: z.string(),
  filename: z.string().nullable().optional().transform((v) => v ?? "(unnamed)"),
  source: z.string().nullable().optional().transform((v) => v ?? "upload"),
  partner: text,
  mode: z.string().nullable().optional().transform((v) => v ?? "import"),
  status: z.string(),
  profile: text,
  encoding: text,
  mapping: importMappingSchema,
  warnings: z.array(z.string()).nullable().optional().transform((v) => v ?? []),
  rows_total: count,
  rows_processed: count,
  rows_imported: count,
  rows_failed: count,
  rows_skipped: zeroCount,
  products_created: count,
  products_updated: count,
  products_unchanged: count,
  products_deactivated: zeroCount,
  chunks_total: count,
  chunks_done: count,
  error: z.string().nullable().optional().transform((v) => v ?? null),
  preview_of: text,
  applied_as: text,
  replace: replaceInfoSchema,
  revert: revertInfoSchema,
  created_at: time,
  started_at: time,
  finished_at: time,
  reverted_at: time,
});
export type Import = z.infer<typeof importSchema>;
export type ImportStatus = "pending" | "processing" | "completed" | "failed" | "previewed" | "reverting" | "reverted";

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

/** The import's own run has ended (a preview included; a revert may follow). */
export function isFinished(imp: Pick<Import, "status">): boolean {
  return ["completed", "failed", "previewed", "reverting", "reverted"].includes(imp.status);
}

/**
 * What may be reverted: a finished import (CONTRACT §2 Revert), not a preview, that touched a product (one that
 * failed at its header, or a header-only file, wrote nothing: its revert would do nothing).
 */
export function isRevertable(
  imp: Pick<Import, "status" | "mode" | "products_created" | "products_updated" | "products_unchanged" | "products_deactivated">,
): boolean {
  const touched = (imp.products_created ?? 0) + (imp.products_updated ?? 0) + (imp.products_unchanged ?? 0) + imp.products_deactivated;
  return (imp.status === "completed" || imp.status === "failed") && imp.mode !== "preview" && touched > 0;
}

/** Who may apply or discard this import (CONTRACT §8): `replace` and `partner` are an admin's. */
export function groupToApplyOrDiscard(imp: Pick<Import, "replace" | "partner">): "admin" | "importer" {
  return imp.replace || imp.partner ? "admin" : "importer";
}

/** Something is moving: the import's run, or its revert. */
export function isActive(imp: Pick<Import, "status">): boolean {
  return imp.status === "pending" || imp.status === "processing" || imp.status === "reverting";
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

const RUN_RANK: Record<string, number> = { pending: 1, processing: 2, completed: 3, failed: 3, previewed: 3, reverting: 3, reverted: 3 };
const REVERT_RANK: Record<string, number> = { running: 1, done: 2, failed: 2 };

/** Where a snapshot stands in an import's life, compared element by element (later = greater). */
function snapshotOrder(imp: Import): (string | number)[] {
  const revertStage = imp.revert ? (REVERT_RANK[imp.revert.status ?? ""] ?? (imp.status === "reverting" ? 1 : 0)) : 0;
  const revertStatus = imp.status === "reverted" ? 2 : imp.status === "reverting" ? 1 : 0;
  return [
    RUN_RANK[imp.status] ?? 0,
    imp.revert?.requested_at ?? "",
    Math.max(revertStage, revertStatus),
    imp.rows_processed ?? -1,
    imp.chunks_done ?? -1,
    (imp.revert?.restored ?? 0) + (imp.revert?.deleted ?? 0) + (imp.revert?.conflicts ?? 0),
  ];
}

function compareOrder(a: (string | number)[], b: (string | number)[]): number {
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x < y) return -1;
    if (x > y) return 1;
  }
  return 0;
}

/**
 * Newer of two snapshots of the same import: never move backwards (late frames, slow polls). The run
 * goes pending → processing → finished; a revert (newest `requested_at` first) goes running → done or
 * failed (a failed revert brings the import's old status back); counts only grow.
 */
export function newerSnapshot(current: Import, incoming: Import): Import {
  return compareOrder(snapshotOrder(incoming), snapshotOrder(current)) < 0 ? current : incoming;
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
