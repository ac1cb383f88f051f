import { z } from "zod";

/** The list envelope every `/api` list returns: `{"items": [...], "next_cursor": str|null}`. */
export function pageOf<T extends z.ZodType>(item: T) {
  return z.object({
    items: z.array(item),
    next_cursor: z.string().nullable().optional().transform((v) => v ?? null),
  });
}

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

/** Some list endpoints may answer a bare array; accept both shapes. */
export function pageOrArrayOf<T extends z.ZodType>(item: T) {
  return z.union([
    pageOf(item),
    z.array(item).transform((items) => ({ items, next_cursor: null as string | null })),
  ]);
}
