import { useCallback, useEffect, useRef, useState } from "react";
import { ApiError, errorMessage } from "@/lib/api";
import { formatBytes } from "@/lib/format";
import { UploadError, uploadToPresignedPost, type UploadHandle } from "@/lib/upload";
import { discardImport } from "./changes";
import { createImport, type ImportOptions } from "./imports";
import type { Import } from "./schemas";

export type UploadPhase = "rejected" | "requesting" | "uploading" | "uploaded" | "failed" | "cancelled";

export interface UploadItem {
  key: string;
  filename: string;
  size: number;
  phase: UploadPhase;
  loaded: number;
  total: number;
  error: string | null;
  importId: string | null;
  mode: "import" | "preview";
  /** Its import (or preview) was discarded after the upload (this tab): there is nothing left to view. */
  discarded?: boolean;
}

/** Why a file cannot be imported, before asking the API; null when it looks fine. */
export function checkFile(file: { name: string; size: number }, maxBytes: number | null | undefined): string | null {
  const name = file.name.trim();
  if (/\.(xlsx|xls|xlsm|xlsb|ods|numbers)$/i.test(name)) {
    return `“${file.name}” is a spreadsheet workbook, not a CSV file. Save the sheet as “CSV UTF-8” (or “Unicode Text”) and import that file.`;
  }
  if (!/\.(csv|tsv|txt)$/i.test(name)) {
    return `“${file.name}” is not a CSV file. Choose a file ending in .csv (or a .tsv or .txt text file).`;
  }
  if (file.size === 0) {
    return `“${file.name}” is empty (0 bytes): there is nothing to import. Choose the file with the products.`;
  }
  if (maxBytes && file.size > maxBytes) {
    return `“${file.name}” is ${formatBytes(file.size)}; the largest file accepted is ${formatBytes(maxBytes)}.`;
  }
  return null;
}

function describeCreateError(file: File, err: unknown): string {
  if (err instanceof ApiError) {
    if (err.status === 413) return `“${file.name}” is too large for the server. ${err.message}`;
    if (err.status === 422) {
      const reasons = err.fieldErrors.length > 0 ? err.fieldErrors.map((e) => e.message).join("; ") : err.message;
      return `“${file.name}” was not accepted: ${reasons}`;
    }
  }
  return `Could not start the import of “${file.name}”: ${errorMessage(err)}`;
}

let counter = 0;

/**
 * Per-file uploads: check → `POST /api/imports` → presigned POST to S3 with byte progress.
 * `onImportCreated` hands each new import to the history list.
 */
export function useUploads(
  onImportCreated: (imp: Import) => void,
  maxBytes: number | null | undefined,
  onUploaded?: (imp: Import) => void,
  onDiscarded?: (importId: string) => void,
) {
  const [uploads, setUploads] = useState<UploadItem[]>([]);
  const handles = useRef(new Map<string, UploadHandle>());
  const onCreatedRef = useRef(onImportCreated);
  const onUploadedRef = useRef(onUploaded);
  const onDiscardedRef = useRef(onDiscarded);
  useEffect(() => {
    onCreatedRef.current = onImportCreated;
    onUploadedRef.current = onUploaded;
    onDiscardedRef.current = onDiscarded;
  });

  const update = useCallback((key: string, patch: Partial<UploadItem>) => {
    setUploads((list) => list.map((u) => (u.key === key ? { ...u, ...patch } : u)));
  }, []);

  const startOne = useCallback(
    async (file: File, key: string, options: ImportOptions | undefined) => {
      let created: Awaited<ReturnType<typeof createImport>> | null = null;
      try {
        created = await createImport(file, options);
        onCreatedRef.current(created.import);
        update(key, { phase: "uploading", importId: created.import.id });
        const handle = uploadToPresignedPost(created.upload, file, file.name, ({ loaded, total }) =>
          update(key, { loaded, total }),
        );
        handles.current.set(key, handle);
        await handle.promise;
        update(key, { phase: "uploaded", loaded: file.size, total: file.size });
        onUploadedRef.current?.(created.import);
      } catch (err) {
        const cancelled = err instanceof UploadError && err.cancelled;
        // A cancelled upload's import would wait for its file for 24 hours: discard it (CONTRACT §3).
        const importId = created?.import.id;
        if (cancelled && importId) void discardImport(importId).then(() => onDiscardedRef.current?.(importId), () => {});
        // (a cancel is what the user asked for, not an error: the list says it in its own, neutral words)
        update(key, {
          phase: cancelled ? "cancelled" : "failed",
          error: cancelled ? null : err instanceof ApiError ? describeCreateError(file, err) : errorMessage(err),
        });
      } finally {
        handles.current.delete(key);
      }
    },
    [update],
  );

  /** Check each file and start the good ones (`options` go to `POST /api/imports` as they are). */
  const addFiles = useCallback(
    (files: File[], options?: ImportOptions) => {
      const items: UploadItem[] = [];
      const toStart: [File, string][] = [];
      for (const file of files) {
        const key = `u${++counter}`;
        const problem = checkFile(file, maxBytes);
        items.push({
          key,
          filename: file.name,
          size: file.size,
          phase: problem ? "rejected" : "requesting",
          loaded: 0,
          total: file.size,
          error: problem,
          importId: null,
          mode: options?.mode ?? "import",
        });
        if (!problem) toStart.push([file, key]);
      }
      setUploads((list) => [...items, ...list]);
      for (const [file, key] of toStart) void startOne(file, key, options);
    },
    [maxBytes, startOne],
  );

  const cancel = useCallback((key: string) => handles.current.get(key)?.abort(), []);
  const dismiss = useCallback((key: string) => setUploads((list) => list.filter((u) => u.key !== key)), []);
  const clearFinished = useCallback(
    () => setUploads((list) => list.filter((u) => u.phase === "requesting" || u.phase === "uploading")),
    [],
  );

  /** Its import was discarded (a preview's Discard, a pending import's): the list stops linking to it. */
  const markDiscarded = useCallback(
    (importId: string) => setUploads((list) => list.map((u) => (u.importId === importId ? { ...u, discarded: true } : u))),
    [],
  );

  return { uploads, addFiles, cancel, dismiss, clearFinished, markDiscarded };
}
