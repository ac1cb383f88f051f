import { QueryClient } from "@tanstack/react-query";
import { isTransientError } from "./api";

/**
 * Retry what may pass on a second try (network trouble, 5xx, 429), twice at most; never an answer the
 * server meant (4xx) or JSON the UI does not understand.
 */
export function shouldRetry(failureCount: number, error: unknown): boolean {
  return failureCount < 2 && isTransientError(error);
}

/** The one QueryClient of the app (tests make their own with `retry: false`). */
export function createQueryClient(options: { retry?: boolean } = {}): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        retry: options.retry === false ? false : shouldRetry,
        // live imports come over the WebSocket; other lists refresh when the user comes back to the tab
        refetchOnWindowFocus: true,
        staleTime: 0,
      },
      mutations: { retry: false },
    },
  });
}
