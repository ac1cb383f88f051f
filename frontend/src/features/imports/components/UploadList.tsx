import { Link } from "react-router-dom";
import { ProgressBar } from "@/components/ProgressBar";
import { formatBytes, percent } from "@/lib/format";
import { pathSegment } from "@/lib/api";
import type { UploadItem } from "../api/useUploads";

const PHASE_TEXT: Record<UploadItem["phase"], string> = {
  rejected: "Not uploaded",
  requesting: "Preparing…",
  uploading: "Uploading",
  uploaded: "Uploaded", // what comes next shows on the import itself (it may be done already)
  failed: "Upload failed",
  cancelled: "Cancelled",
};

export interface UploadListProps {
  uploads: UploadItem[];
  onCancel: (key: string) => void;
  onDismiss: (key: string) => void;
  onClearFinished: () => void;
}

export function UploadList({ uploads, onCancel, onDismiss, onClearFinished }: UploadListProps) {
  if (uploads.length === 0) return null;
  const anyFinished = uploads.some((u) => u.phase !== "requesting" && u.phase !== "uploading");
  return (
    <section className="uploads" aria-label="Uploads">
      <div className="section-head">
        <h2 className="h3">Uploads</h2>
        {anyFinished ? (
          <button type="button" className="button button--small button--ghost" onClick={onClearFinished}>
            Clear finished
          </button>
        ) : null}
      </div>
      <ul className="uploads__list">
        {uploads.map((u) => {
          const bad = u.phase === "rejected" || u.phase === "failed";
          const pct = u.phase === "uploaded" ? 100 : percent(u.loaded, u.total || u.size);
          return (
            <li key={u.key} className={`upload${bad ? " upload--bad" : ""}`} data-testid="upload-item" data-phase={u.phase}>
              <div className="upload__head">
                <span className="upload__name">{u.filename}</span>
                <span className="upload__size">{formatBytes(u.size)}</span>
                <span className="upload__phase" aria-live="polite">
                  {PHASE_TEXT[u.phase]}
                </span>
              </div>
              {u.phase === "uploading" || u.phase === "uploaded" || u.phase === "requesting" ? (
                <ProgressBar
                  value={u.phase === "requesting" ? 0 : pct}
                  label={`Upload of ${u.filename}`}
                  valueText={`${formatBytes(u.loaded)} of ${formatBytes(u.total || u.size)}`}
                  tone={u.phase === "uploaded" ? "success" : "default"}
                  testId="upload-progress"
                />
              ) : null}
              {u.phase === "cancelled" ? (
                <p className="upload__note">Upload cancelled: nothing was imported from this file.</p>
              ) : u.discarded ? (
                <p className="upload__note">
                  {u.mode === "preview" ? "Preview discarded: nothing was imported from this file." : "Import discarded: nothing was imported from this file."}
                </p>
              ) : u.error ? (
                <p className="upload__error" role="alert">
                  {u.error}
                </p>
              ) : null}
              <div className="upload__actions">
                {/* a cancelled upload's import is discarded, as is one discarded since: there is nothing to view */}
                {u.importId && u.phase !== "cancelled" && !u.discarded ? <Link to={`/imports/${pathSegment(u.importId)}`}>{u.mode === "preview" ? "View preview" : "View import"}</Link> : null}
                {u.phase === "uploading" ? (
                  <button type="button" className="button button--small" onClick={() => onCancel(u.key)}>
                    Cancel upload
                  </button>
                ) : null}
                {u.phase !== "uploading" && u.phase !== "requesting" ? (
                  <button
                    type="button"
                    className="button button--small button--ghost"
                    onClick={() => onDismiss(u.key)}
                    aria-label={`Dismiss ${u.filename}`}
                  >
                    Dismiss
                  </button>
                ) : null}
              </div>
            </li>
          );
        })}
      </ul>
    </section>
  );
}
