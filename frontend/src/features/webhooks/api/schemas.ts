import { z } from "zod";
import { pageOf, pageOrArrayOf } from "@/lib/page";

export const WEBHOOK_EVENTS = ["import.completed", "import.failed"] as const;

export const webhookSchema = z.object({
  id: z.string(),
  url: z.string(),
  events: z.array(z.string()).nullable().optional().transform((v) => v ?? []),
  enabled: z.boolean().nullable().optional().transform((v) => v ?? true),
  created_at: z.string().nullable().optional().transform((v) => v ?? null),
  has_secret: z.boolean().nullable().optional().transform((v) => v ?? false),
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
}
