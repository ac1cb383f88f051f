import { useEffect, useRef, useState, type DragEvent } from "react";
import { formatBytes } from "@/lib/format";

export interface DropZoneProps {
  onFiles: (files: File[]) => void;
  maxBytes?: number | null;
  /** Focus "Choose files…" when shown (keyboard users come back here after a mapping step). */
  autoFocus?: boolean;
  /** Open the file picker when shown ("Choose another file" in a mapping step), then call `onPickerOpened`. */
  openPicker?: boolean;
  onPickerOpened?: () => void;
}

/** Drop CSV files here, or click / press Enter to pick them (several at once). */
export function DropZone({ onFiles, maxBytes, autoFocus = false, openPicker = false, onPickerOpened }: DropZoneProps) {
  const input = useRef<HTMLInputElement>(null);
  const choose = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (autoFocus) choose.current?.focus();
  }, [autoFocus]);
  useEffect(() => {
    if (!openPicker) return;
    input.current?.click(); // (still within the click's user activation, so the browser lets it open)
    onPickerOpened?.();
  }, [openPicker, onPickerOpened]);
  const [over, setOver] = useState(false);

  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setOver(false);
    const files = Array.from(e.dataTransfer?.files ?? []);
    if (files.length > 0) onFiles(files);
  };

  return (
    <div
      className={`dropzone${over ? " dropzone--over" : ""}`}
      data-testid="drop-zone"
      onDragEnter={(e) => {
        e.preventDefault();
        setOver(true);
      }}
      onDragOver={(e) => {
        e.preventDefault();
        if (e.dataTransfer) e.dataTransfer.dropEffect = "copy";
      }}
      onDragLeave={(e) => {
        if (e.currentTarget.contains(e.relatedTarget as Node | null)) return;
        setOver(false);
      }}
      onDrop={onDrop}
    >
      <svg className="dropzone__icon" viewBox="0 0 24 24" aria-hidden="true" width="32" height="32">
        <path
          d="M12 16V4m0 0l-4 4m4-4l4 4M4 16v2a2 2 0 002 2h12a2 2 0 002-2v-2"
          fill="none"
          stroke="currentColor"
          strokeWidth="1.8"
          strokeLinecap="round"
          strokeLinejoin="round"
        />
      </svg>
      <p className="dropzone__title">Drop CSV files here</p>
      <p className="dropzone__hint">
        or{" "}
        <button type="button" className="button button--primary" onClick={() => input.current?.click()} ref={choose}>
          Choose files…
        </button>
      </p>
      <p className="dropzone__hint">
        One import per file. Columns: <code>sku</code>, <code>name</code>, and optionally price, currency, quantity,
        active, brand, category, barcode, description.
        {maxBytes ? ` Up to ${formatBytes(maxBytes)} per file.` : ""}
      </p>
      <input
        ref={input}
        type="file"
        accept=".csv,.tsv,.txt,text/csv,text/tab-separated-values,text/plain"
        multiple
        className="visually-hidden"
        tabIndex={-1}
        aria-label="CSV files to import"
        data-testid="file-input"
        onChange={(e) => {
          const files = Array.from(e.target.files ?? []);
          e.target.value = "";
          if (files.length > 0) onFiles(files);
        }}
      />
    </div>
  );
}
