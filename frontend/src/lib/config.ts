import { useQuery } from "@tanstack/react-query";
import { z } from "zod";
import { apiRequest, isTransientError } from "./api";
import { backoffDelay } from "./ws";

/** How to sign in, where the deployment asks for it (Cognito hosted UI, authorization code + PKCE). */
export const authConfigSchema = z.object({
  type: z.literal("cognito"),
  region: z.string(),
  user_pool_id: z.string(),
  client_id: z.string().min(1),
  /** The hosted UI host, e.g. `product-importer-prod.auth.eu-west-1.amazoncognito.com`. */
  domain: z.string().min(1),
});
export type AuthConfig = z.infer<typeof authConfigSchema>;

/** `GET /api/config`: only `websocket_url` is guaranteed; the rest depends on the deployment. */
export const appConfigSchema = z.object({
  websocket_url: z.string().nullable().optional(),
  s3_endpoint: z.string().nullable().optional(),
  uploads_bucket: z.string().nullable().optional(),
  drop_prefix: z.string().nullable().optional(),
  max_upload_bytes: z.number().int().positive().nullable().optional(),
  /** null (or absent): no sign-in, as in local mode. */
  auth: authConfigSchema.nullable().optional(),
});
export type AppConfig = z.infer<typeof appConfigSchema>;

let cached: Promise<AppConfig> | null = null;

export function fetchConfig(): Promise<AppConfig> {
  if (!cached) {
    cached = apiRequest("/api/config", appConfigSchema).catch((err: unknown) => {
      cached = null; // let the next caller try again
      throw err;
    });
  }
  return cached;
}

/** Tests call this between cases. */
export function resetConfigCache(): void {
  cached = null;
}

/** Turn a relative or http(s) websocket_url into an absolute ws(s) URL. */
export function resolveWebSocketUrl(raw: string, base: string = window.location.href): string {
  const url = new URL(raw, base);
  if (url.protocol === "http:") url.protocol = "ws:";
  if (url.protocol === "https:") url.protocol = "wss:";
  return url.toString();
}

/**
 * `GET /api/config` once per page load (it does not change while the page is open). A page opened while the
 * API is unreachable keeps asking, backing off (1 s, 2 s, … 30 s), so it gets its settings (the upload limit)
 * once the API is back; an answer the server meant (4xx) is not asked again.
 */
export function useConfig() {
  return useQuery({
    queryKey: ["config"],
    queryFn: () => fetchConfig(),
    staleTime: Infinity,
    retry: (_failures, err) => isTransientError(err),
    retryDelay: (failures) => backoffDelay(failures),
  });
}
