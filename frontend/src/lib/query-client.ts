import { QueryClient, type Query } from "@tanstack/react-query";
import { isTransientError } from "./api";

/**
 * Retry what may pass on a second try (network trouble, 5xx, 429), twice at most; never an answer the
 * server meant (4xx) or JSON the UI does not understand.
 */
export function shouldRetry(failureCount: number, error: unknown): boolean {
  return failureCount < 2 && isTransientError(error);
}

/** How often a query that failed for a passing reason (API unreachable, 5xx, 429) asks again by itself. */
export const ERROR_REFETCH_MS = 5000;

/**
 * The refetch interval of every query: none while it is fine (live imports come over the WebSocket), and
 * every `everyMs` while it is in error for a passing reason, so a page opened during an outage recovers by
 * itself once the API is back ("Try again" only makes it sooner). An answer the server meant (404, 403) is
 * not asked again.
 */
export function refetchWhileFailing(everyMs: number) {
  return (query: Query): number | false =>
    query.state.status === "error" && isTransientError(query.state.error) ? everyMs : false;
}

/** The one QueryClient of the app (tests make their own with `retry: false`). */
export function createQueryClient(options: { retry?: boolean; errorRefetchMs?: number } = {}): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        retry: options.retry === false ? false : shouldRetry,
        // other lists refresh when the user comes back to the tab, or the network comes back
        refetchOnWindowFocus: true,
        refetchOnReconnect: true,
        refetchInterval: refetchWhileFailing(options.errorRefetchMs ?? ERROR_REFETCH_MS),
        staleTime: 0,
      },
      mutations: { retry: false },
    },
  });
}
