import { apiRequest, apiSend } from "../../../lib/api";
import { useQuery } from "../../../lib/query";
import {
  deliveryPageSchema,
  webhookListSchema,
  webhookSchema,
  webhookTestResultSchema,
  type WebhookInput,
} from "./schemas";

const path = (id: string) => `/api/webhooks/${encodeURIComponent(id)}`;
export const DELIVERIES_PAGE_SIZE = 10;

export function listWebhooks(signal?: AbortSignal) {
  return apiRequest("/api/webhooks", webhookListSchema, { query: { limit: 500 }, signal });
}

export function createWebhook(input: WebhookInput) {
  return apiRequest("/api/webhooks", webhookSchema, { method: "POST", body: input });
}

export function updateWebhook(id: string, patch: Partial<WebhookInput> & { enabled?: boolean }) {
  return apiRequest(path(id), webhookSchema, { method: "PATCH", body: patch });
}

export function deleteWebhook(id: string) {
  return apiSend(path(id), { method: "DELETE" });
}

export function testWebhook(id: string) {
  return apiRequest(`${path(id)}/test`, webhookTestResultSchema, { method: "POST" });
}

export function listDeliveries(id: string, cursor: string | null, limit = DELIVERIES_PAGE_SIZE, signal?: AbortSignal) {
  return apiRequest(`${path(id)}/deliveries`, deliveryPageSchema, { query: { cursor, limit }, signal });
}

export function useWebhooks() {
  return useQuery(["webhooks"], (signal) => listWebhooks(signal));
}

/** `version` refetches when it changes (e.g. after "Send test"). */
export function useDeliveries(id: string, cursor: string | null, version: number) {
  return useQuery(["deliveries", id, cursor, version], (signal) => listDeliveries(id, cursor, DELIVERIES_PAGE_SIZE, signal));
}
