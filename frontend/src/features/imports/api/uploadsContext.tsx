import { useQueryClient } from "@tanstack/react-query";
import { createContext, useContext, useEffect, useMemo, useRef, type ReactNode } from "react";
import { useConfig } from "@/lib/config";
import { importKeys } from "./imports";
import type { Import } from "./schemas";
import { useUploads } from "./useUploads";

/** What the page showing the uploads wants to hear of them (the imports page, while it is shown). */
export interface UploadListeners {
  onCreated?: (imp: Import) => void;
  onUploaded?: (imp: Import) => void;
}

type Uploads = ReturnType<typeof useUploads> & { listeners: { current: UploadListeners } };

const UploadsContext = createContext<Uploads | null>(null);

const uploading = (u: { phase: string }) => u.phase === "requesting" || u.phase === "uploading";

/**
 * The uploads of this browser tab, above the routes: going to another page during an upload keeps it (and
 * its bar and Cancel) for when the imports page is back; closing or reloading the tab while a file is
 * still going asks first (an interrupted upload leaves its import pending).
 */
export function UploadsProvider({ children }: { children: ReactNode }) {
  const client = useQueryClient();
  const config = useConfig();
  const listeners = useRef<UploadListeners>({});
  const uploads = useUploads(
    (imp) => {
      if (listeners.current.onCreated) listeners.current.onCreated(imp);
      else void client.invalidateQueries({ queryKey: importKeys.all });
    },
    config.data?.max_upload_bytes,
    (imp) => listeners.current.onUploaded?.(imp),
    () => void client.invalidateQueries({ queryKey: importKeys.all }), // a cancelled upload's import is gone
  );
  const busy = uploads.uploads.some(uploading);
  useEffect(() => {
    if (!busy) return;
    const warn = (event: BeforeUnloadEvent) => {
      event.preventDefault();
      event.returnValue = ""; // older browsers want a value to show their prompt
    };
    window.addEventListener("beforeunload", warn);
    return () => window.removeEventListener("beforeunload", warn);
  }, [busy]);
  const value = useMemo(() => ({ ...uploads, listeners }), [uploads]);
  return <UploadsContext.Provider value={value}>{children}</UploadsContext.Provider>;
}

/**
 * The tab's uploads (from `UploadsProvider`), with this page's listeners while it is shown; without a
 * provider (a page rendered alone), uploads of its own.
 */
export function useTabUploads(
  onCreated: (imp: Import) => void,
  maxBytes: number | null | undefined,
  onUploaded: (imp: Import) => void,
) {
  const shared = useContext(UploadsContext);
  const own = useUploads(onCreated, shared ? null : maxBytes, onUploaded);
  useEffect(() => {
    if (!shared) return;
    shared.listeners.current = { onCreated, onUploaded };
    return () => {
      shared.listeners.current = {};
    };
  }, [shared, onCreated, onUploaded]);
  return shared ?? own;
}

/** Tell the tab's upload list that an import was discarded (a no-op on a page rendered without the provider). */
export function useMarkUploadDiscarded(): (importId: string) => void {
  const shared = useContext(UploadsContext);
  const mark = shared?.markDiscarded;
  return useMemo(() => mark ?? (() => {}), [mark]);
}
