import { useEffect, useRef, useState } from "react";
import { isTransientError } from "@/lib/api";
import { socketUrl } from "@/lib/auth/session";
import { fetchConfig, resolveWebSocketUrl } from "@/lib/config";
import { backoffDelay, defaultBackoff, LiveSocket, type BackoffOptions, type WebSocketFactory } from "@/lib/ws";
import { importUpdatedMessageSchema, type Import } from "./schemas";

/** What the UI says about the live feed. `polling` = the socket is down, the list refreshes every few seconds. */
export type LiveMode = "connecting" | "live" | "polling";

export interface UseLiveImportsOptions {
  /** Import ids to follow, or ["*"] for all. */
  subscriptions: string[];
  /** Called with every snapshot that arrives (socket frames and polls). */
  onImports: (imports: Import[]) => void;
  /** The fallback while the socket cannot connect; also run once after each (re)connect to catch up. */
  poll: () => Promise<Import[]>;
  pollIntervalMs?: number;
  backoff?: BackoffOptions;
  createSocket?: WebSocketFactory;
  enabled?: boolean;
}

/**
 * Live import snapshots: WebSocket first (subscribe, reconnect with back-off), polling the REST API
 * while the socket is down or the deployment has no `websocket_url`.
 */
export function useLiveImports({
  subscriptions,
  onImports,
  poll,
  pollIntervalMs = 2000,
  backoff,
  createSocket,
  enabled = true,
}: UseLiveImportsOptions): LiveMode {
  const [mode, setMode] = useState<LiveMode>("connecting");
  const onImportsRef = useRef(onImports);
  onImportsRef.current = onImports;
  const pollRef = useRef(poll);
  pollRef.current = poll;
  const subsKey = subscriptions.join(",");

  const runPoll = useRef(async () => {
    try {
      const imports = await pollRef.current();
      onImportsRef.current(imports);
    } catch {
      /* the next tick tries again; the page shows its own load errors */
    }
  }).current;

  useEffect(() => {
    if (!enabled) return;
    let socket: LiveSocket | null = null;
    let cancelled = false;
    let retry: ReturnType<typeof setTimeout> | null = null;
    let attempt = 0;
    setMode("connecting");
    // Without the config there is no websocket_url: poll meanwhile, and ask for it again (backing off) until
    // it comes, so a page opened while the API was down goes live once it is back.
    const start = () => {
      fetchConfig()
        .then((config) => {
          if (cancelled) return;
          if (!config.websocket_url) {
            setMode("polling");
            return;
          }
          socket = new LiveSocket({
            url: socketUrl(resolveWebSocketUrl(config.websocket_url)),
            subscriptions: subsKey.split(","),
            backoff,
            createSocket,
            onStatus: (status) => {
              if (status === "open") {
                setMode("live");
                void runPoll(); // catch up on what changed while we were away
              } else if (status === "reconnecting") {
                setMode("polling");
              }
            },
            onMessage: (message) => {
              const parsed = importUpdatedMessageSchema.safeParse(message);
              if (parsed.success) onImportsRef.current([parsed.data.import]);
            },
          });
          socket.start();
        })
        .catch((err: unknown) => {
          if (cancelled) return;
          setMode("polling");
          if (isTransientError(err)) retry = setTimeout(start, backoffDelay(attempt++, backoff ?? defaultBackoff));
        });
    };
    start();
    return () => {
      cancelled = true;
      if (retry) clearTimeout(retry);
      socket?.close();
    };
    // backoff/createSocket are fixed per mount in practice (tests pass constants)
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [subsKey, enabled]);

  useEffect(() => {
    if (!enabled || mode !== "polling") return;
    const timer = setInterval(() => void runPoll(), pollIntervalMs);
    return () => clearInterval(timer);
  }, [mode, pollIntervalMs, enabled, runPoll]);

  return mode;
}
