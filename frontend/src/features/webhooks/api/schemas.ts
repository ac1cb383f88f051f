import { z } from "zod";
import { pageOf, pageOrArrayOf } from "@/lib/page";

/** CONTRACT §6. A new webhook listens to the first two unless the user picks others. */
export const WEBHOOK_EVENTS = ["import.completed", "import.failed", "import.previewed", "import.reverted"] as const;
export const DEFAULT_EVENTS: readonly string[] = ["import.completed", "import.failed"];
/** Standard Webhooks secret: `whsec_` and base64. */
export const SECRET_PATTERN = /^whsec_[A-Za-z0-9+/]+={0,2}$/;

export const webhookSchema = z.object({
  id: z.string(),
  url: z.string(),
  events: z.array(z.string()).nullable().optional().transform((v) => v ?? []),
  enabled: z.boolean().nullable().optional().transform((v) => v ?? true),
  created_at: z.string().nullable().optional().transform((v) => v ?? null),
  has_secret: z.boolean().nullable().optional().transform((v) => v ?? false),
  /** The partner (a drop's first folder under incoming/) whose imports alone it hears of; null: every import. */
  partner: z.string().nullable().optional().transform((v) => v || null),
  /** Only in the answer to a create (or a new secret): shown to the user once, never stored by the UI. */
  secret: z.string().nullable().optional().transform((v) => v ?? null),
});
export type Webhook = z.infer<typeof webhookSchema>;
export const webhookListSchema = pageOrArrayOf(webhookSchema);

export const webhookTestResultSchema = z.object({
  status_code: z.number().int().nullable().optional().transform((v) => v ?? null),
  latency_ms: z.number().nullable().optional().transform((v) => v ?? null),
  ok: z.boolean(),
  error: z.string().nullable().optional().transform((v) => v ?? null),
});
export type WebhookTestResult = z.infer<typeof webhookTestResultSchema>;

export const deliverySchema = z.object({
  id: z.union([z.string(), z.number()]).transform(String),
  event: z.string().nullable().optional().transform((v) => v ?? ""),
  status_code: z.number().int().nullable().optional().transform((v) => v ?? null),
  attempt: z.number().int().nullable().optional().transform((v) => v ?? null),
  latency_ms: z.number().nullable().optional().transform((v) => v ?? null),
  error: z.string().nullable().optional().transform((v) => v ?? null),
  created_at: z.string().nullable().optional().transform((v) => v ?? null),
});
export type Delivery = z.infer<typeof deliverySchema>;
export const deliveryPageSchema = pageOf(deliverySchema);

export interface WebhookInput {
  url: string;
  events: string[];
  /** Omitted = keep the current secret; "" is never sent. */
  secret?: string;
  /** Only this partner's imports; null (on PATCH) clears it, omitted (on POST) = every import. */
  partner?: string | null;
}
