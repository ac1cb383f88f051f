import { z } from "zod";
import { pageOf } from "@/lib/page";

const text = z.string().nullable().optional().transform((v) => v ?? null);

export const productSchema = z.object({
  sku: z.string(),
  name: z.string(),
  description: text,
  price: z
    .union([z.string(), z.number()])
    .nullable()
    .optional()
    .transform((v) => (v === null || v === undefined ? null : String(v))),
  currency: z.string().nullable().optional().transform((v) => v ?? "USD"),
  quantity: z.number().int().nullable().optional().transform((v) => v ?? 0),
  active: z.boolean().nullable().optional().transform((v) => v ?? true),
  brand: text,
  category: text,
  barcode: text,
  attributes: z.record(z.string(), z.unknown()).nullable().optional().transform((v) => v ?? {}),
  created_at: text,
  updated_at: text,
  last_import_id: text,
});
export type Product = z.infer<typeof productSchema>;
export const productPageSchema = pageOf(productSchema);

/** What the form sends (`PUT` to create, `PATCH` to edit). */
export interface ProductInput {
  name: string;
  description: string | null;
  price: string | null;
  currency: string;
  quantity: number;
  active: boolean;
  brand: string | null;
  category: string | null;
  barcode: string | null;
}

export interface ProductFilters {
  q: string;
  active: "" | "true" | "false";
  brand: string;
  category: string;
}

export const emptyFilters: ProductFilters = { q: "", active: "", brand: "", category: "" };

/** The longest filter values `GET /api/products` takes (a longer one is a 422). */
export const FILTER_MAX_LENGTH = { q: 200, brand: 255, category: 255 } as const;

/** `DELETE /api/products?confirm=true` may answer 204 or a small JSON summary. */
export const deleteAllResponseSchema = z
  .object({ deleted: z.number().int().optional() })
  .passthrough()
  .nullable();

/** One change that touched a product (CONTRACT §3 `/products/{sku}/history`), newest first. */
export const historyEntrySchema = z.object({
  import_id: z.string().nullable().optional().transform((v) => v ?? null),
  action: z.string(),
  changes: z
    .record(z.string(), z.object({ from: z.unknown().optional(), to: z.unknown().optional() }).passthrough())
    .nullable()
    .optional()
    .transform((v) => v ?? {}),
  at: text,
  reverted: z.boolean().nullable().optional().transform((v) => v ?? false),
});
export type HistoryEntry = z.infer<typeof historyEntrySchema>;
export const historyPageSchema = pageOf(historyEntrySchema);

/** Of `GET /api/imports/{id}`, what the product pages show: the file's name, to say which import wrote a change. */
export const importNameSchema = z.object({ filename: z.string() });
