import { keepPreviousData, useMutation, useQuery, useQueryClient, type QueryClient } from "@tanstack/react-query";
import { apiRequest, apiSend, isNotFound, pathSegment } from "@/lib/api";
import type { Page } from "@/lib/page";
import {
  deliveryPageSchema,
  webhookListSchema,
  webhookSchema,
  webhookTestResultSchema,
  type Webhook,
  type WebhookInput,
} from "./schemas";

const path = (id: string) => `/api/webhooks/${pathSegment(id)}`;
export const DELIVERIES_PAGE_SIZE = 10;

export const webhookKeys = {
  all: ["webhooks"] as const,
  list: () => [...webhookKeys.all, "list"] as const,
  deliveries: (id: string) => [...webhookKeys.all, "deliveries", id] as const,
  deliveriesPage: (id: string, cursor: string | null) => [...webhookKeys.deliveries(id), { cursor }] as const,
};

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

// -- queries ------------------------------------------------------------------------------------------

export function useWebhooks() {
  return useQuery({ queryKey: webhookKeys.list(), queryFn: ({ signal }) => listWebhooks(signal) });
}

export function useDeliveries(id: string, cursor: string | null) {
  return useQuery({
    queryKey: webhookKeys.deliveriesPage(id, cursor),
    queryFn: ({ signal }) => listDeliveries(id, cursor, DELIVERIES_PAGE_SIZE, signal),
    placeholderData: keepPreviousData,
  });
}

// -- mutations: the API answers with the webhook as saved, which goes straight into the list ------------

function putInList(client: QueryClient, saved: Webhook) {
  const w = { ...saved, secret: null }; // the secret is shown once, never kept in the cache
  client.setQueryData<Page<Webhook>>(webhookKeys.list(), (prev) => {
    if (!prev) return prev;
    const exists = prev.items.some((x) => x.id === w.id);
    return { ...prev, items: exists ? prev.items.map((x) => (x.id === w.id ? w : x)) : [...prev.items, w] };
  });
}

function dropFromList(client: QueryClient, id: string) {
  client.setQueryData<Page<Webhook>>(webhookKeys.list(), (prev) => (prev ? { ...prev, items: prev.items.filter((x) => x.id !== id) } : prev));
  client.removeQueries({ queryKey: webhookKeys.deliveries(id) });
}

/** The webhook acted on is gone: deleted in another tab or by someone else. */
export class WebhookDeletedError extends Error {
  constructor() {
    super("This webhook was deleted meanwhile (in another tab or by someone else), so the changes were not saved.");
    this.name = "WebhookDeletedError";
  }
}

/** An action on a webhook answered 404: say why, and refresh the list (it leaves the page). */
function deletedMeanwhile(client: QueryClient) {
  return (err: unknown): never => {
    if (!isNotFound(err)) throw err;
    void client.invalidateQueries({ queryKey: webhookKeys.list() });
    throw new WebhookDeletedError();
  };
}

export function useSaveWebhook() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ id, input }: { id: string | null; input: WebhookInput }) =>
      id ? updateWebhook(id, input).catch(deletedMeanwhile(client)) : createWebhook(input),
    onSuccess: (w) => putInList(client, w),
  });
}

export function useToggleWebhook() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (w: Webhook) => updateWebhook(w.id, { enabled: !w.enabled }).catch(deletedMeanwhile(client)),
    onSuccess: (w) => putInList(client, w),
  });
}

/** Delete a webhook. A 404 means it is gone already (another tab, someone else): that is done too. */
export function useDeleteWebhook() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (id: string) => {
      try {
        await deleteWebhook(id);
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    },
    onSuccess: (_, id) => dropFromList(client, id),
  });
}

/** "Send test": the delivery it made shows up in the delivery log. */
export function useTestWebhook() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => testWebhook(id).catch(deletedMeanwhile(client)),
    onSuccess: (_, id) => client.invalidateQueries({ queryKey: webhookKeys.deliveries(id) }),
  });
}
