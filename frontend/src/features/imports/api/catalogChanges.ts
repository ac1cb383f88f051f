import { useCallback, useEffect, useRef } from "react";
import { listImports } from "./imports";
import type { Import } from "./schemas";
import { useLiveImports } from "./useLiveImports";

/** At most one refresh per this many ms while imports write (their end refreshes at once). */
export const CATALOG_REFRESH_MS = 3000;

export type CatalogMove = "now" | "soon" | null;

const ENDED = new Set(["completed", "failed", "reverted"]);

/** What of a snapshot shows that the import wrote to the catalog: its run, its replace's deactivations, its revert. */
function writes(imp: Import): string {
  return JSON.stringify([
    imp.status,
    imp.chunks_done,
    imp.products_created,
    imp.products_updated,
    imp.products_deactivated,
    imp.replace?.status ?? null,
    imp.revert?.status ?? null,
    imp.revert?.chunks_done ?? 0,
  ]);
}

/**
 * Whether the catalog moved between two snapshots of one import (`prev` undefined: an import first seen in a
 * live frame, so one that began after the page loaded): "now" when the import (or its revert) just ended,
 * "soon" while it writes, null when nothing it wrote changed. A preview writes no product (CONTRACT §2).
 */
export function catalogMove(prev: Import | undefined, next: Import): CatalogMove {
  if (next.mode === "preview") return null;
  if (prev !== undefined && writes(prev) === writes(next)) return null;
  const ended = ENDED.has(next.status) && (prev === undefined || prev.status !== next.status);
  const revertEnded = (next.revert?.status === "done" || next.revert?.status === "failed") && prev?.revert?.status !== next.revert?.status;
  if (ended || revertEnded) return "now";
  return next.status === "pending" ? null : "soon";
}

/**
 * Call `onChange` when imports change the catalog (CONTRACT §5: `import.updated` frames of every import, or the
 * imports list polled while the socket is down): at once when an import or a revert ends, at most every
 * `throttleMs` while one writes. Imports already listed when the page opened are its baseline.
 */
export function useCatalogChanges(onChange: () => void, { throttleMs = CATALOG_REFRESH_MS, ...live }: {
  throttleMs?: number;
} & Pick<Parameters<typeof useLiveImports>[0], "createSocket" | "backoff" | "pollIntervalMs"> = {}) {
  const seen = useRef(new Map<string, Import>());
  const baselined = useRef(false);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const last = useRef(0);
  const onChangeRef = useRef(onChange);
  onChangeRef.current = onChange;

  const fire = useCallback(() => {
    if (timer.current) clearTimeout(timer.current);
    timer.current = null;
    last.current = Date.now();
    onChangeRef.current();
  }, []);

  const onImports = useCallback(
    (imports: Import[]) => {
      let move: CatalogMove = null;
      for (const imp of imports) {
        const m = catalogMove(seen.current.get(imp.id), imp);
        seen.current.set(imp.id, imp);
        if (m === "now" || (m === "soon" && move === null)) move = m;
      }
      if (move === "now") fire();
      else if (move === "soon" && timer.current === null) {
        timer.current = setTimeout(fire, Math.max(0, last.current + throttleMs - Date.now()));
      }
    },
    [fire, throttleMs],
  );

  const poll = useCallback(async () => {
    const page = await listImports(null);
    if (!baselined.current) {
      baselined.current = true;
      for (const imp of page.items) if (!seen.current.has(imp.id)) seen.current.set(imp.id, imp);
    }
    return page.items;
  }, []);

  useEffect(() => () => {
    if (timer.current) clearTimeout(timer.current);
  }, []);

  return useLiveImports({ subscriptions: ["*"], onImports, poll, ...live });
}
