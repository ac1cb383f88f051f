import { useCallback, useMemo, useState, type MouseEvent } from "react";
import { Link, useParams } from "react-router-dom";
import { Can } from "@/components/Can";
import { ErrorMessage, Loading, Notice } from "@/components/Feedback";
import { StatusBadge } from "@/components/StatusBadge";
import { ApiError, errorMessage, pathSegment, signInRequired } from "@/lib/api";
import { countOf, formatDateTime, pluralOf, sentence } from "@/lib/format";
import { useDocumentTitle } from "@/lib/title";
import { downloadImportErrors, importErrorsCsvUrl, useImport, useImportPoll, useImportSnapshotWriter } from "../api/imports";
import { isFinished, isRevertable } from "../api/schemas";
import { useLiveImports } from "../api/useLiveImports";
import { ImportChanges } from "./changes/ImportChanges";
import { PreviewPanel } from "./changes/PreviewPanel";
import { ReplaceHeld } from "./revert/ReplaceHeld";
import { RevertDialog } from "./revert/RevertDialog";
import { RevertPanel } from "./revert/RevertPanel";
import { ImportFileInfo } from "./ImportFileInfo";
import { ImportProgress, ImportStats } from "./ImportStats";
import { LiveIndicator } from "./LiveIndicator";
import { PendingPanel } from "./PendingPanel";
import { RowErrorTable } from "./RowErrorTable";

export function ImportDetailPage() {
  const { id = "" } = useParams();
  const query = useImport(id);
  const subscriptions = useMemo(() => [id], [id]);
  const onImports = useImportSnapshotWriter(false);
  const poll = useImportPoll(id);
  const mode = useLiveImports({ subscriptions, onImports, poll, enabled: id !== "" });
  const imp = query.data;
  useDocumentTitle(imp ? `${imp.mode === "preview" ? "Preview of" : "Import of"} ${imp.filename}` : "Import");
  const [downloadError, setDownloadError] = useState<string | null>(null);
  const [reverting, setReverting] = useState(false);
  const [revertStarted, setRevertStarted] = useState(false);
  const onDownload = useCallback(
    (event: MouseEvent<HTMLAnchorElement>) => {
      if (!signInRequired()) return; // the plain link works where the API needs no token
      event.preventDefault();
      setDownloadError(null);
      downloadImportErrors(id).catch((err: unknown) => setDownloadError(`Could not download the errors: ${errorMessage(err)}`));
    },
    [id],
  );

  return (
    <div className="page">
      <p className="breadcrumb">
        <Link to="/">← All imports</Link>
      </p>
      {query.isLoading ? <Loading label="Loading import…" /> : null}
      {query.error ? (
        query.error instanceof ApiError && query.error.status === 404 ? (
          <Notice tone="error">No import with id “{id}”. It may have been removed.</Notice>
        ) : (
          <ErrorMessage error={query.error} onRetry={() => void query.refetch()} title="Could not load this import." />
        )
      ) : null}
      {imp ? (
        <>
          <header className="page__head page__head--row">
            <div>
              <h1 className="break">{imp.filename}</h1>
              <p className="page__lead">
                {imp.mode === "preview" ? "Preview · " : ""}
                {imp.source === "s3-drop" ? "Partner drop" : "Upload"} · created {formatDateTime(imp.created_at)}
                {imp.finished_at ? ` · finished ${formatDateTime(imp.finished_at)}` : ""}
              </p>
              {imp.preview_of ? (
                <p className="small">
                  Applied from <Link to={`/imports/${pathSegment(imp.preview_of)}`}>a preview</Link>.
                </p>
              ) : null}
            </div>
            <div className="page__actions">
              <span aria-live="polite" data-testid="detail-status">
                <StatusBadge status={imp.status} warn={(imp.rows_failed ?? 0) > 0} />
              </span>
              <LiveIndicator mode={mode} />
              {isRevertable(imp) ? (
                <Can group="admin">
                  <button type="button" className="button button--danger-outline" onClick={() => setReverting(true)}>
                    Revert
                  </button>
                </Can>
              ) : null}
            </div>
          </header>

          {imp.status === "failed" ? (
            <div className="alert alert--error" role="alert" data-testid="failure-reason">
              {isRevertable(imp) ? (
                // stopped part-way (too many row errors): what it committed stays (CONTRACT §1), so saying the
                // file "could not be imported" would hide products it did write
                <div>
                  <strong>The import stopped before the end of the file.</strong> {imp.error ? sentence(imp.error) : "The server did not say why."}
                  <br />
                  The {countOf(imp.rows_imported ?? 0, "row")} imported before it stopped {pluralOf(imp.rows_imported ?? 0, "stays", "stay")} in the
                  catalogue. Revert the import to take {pluralOf(imp.rows_imported ?? 0, "it", "them")} back (admins), or fix the file and upload
                  it again.
                </div>
              ) : (
                <div>
                  <strong>This file could not be imported.</strong> {imp.error ?? "The server did not say why."}
                  <br />
                  Fix the file and upload it again.
                </div>
              )}
            </div>
          ) : null}
          {imp.status === "pending" ? <PendingPanel imp={imp} /> : null}

          <section aria-label="Summary" className="card">
            <ImportProgress imp={imp} />
            {imp.mode === "preview" && imp.status === "previewed" ? null : <ImportStats imp={imp} />}
            <p className="muted small summary__id">
              Import id: <code>{imp.id}</code>
            </p>
          </section>

          <ReplaceHeld imp={imp} />
          <RevertPanel imp={imp} takeFocus={revertStarted} />
          {imp.mode === "preview" ? <PreviewPanel imp={imp} /> : null}
          {imp.mode !== "preview" && isFinished(imp) ? <ImportChanges imp={imp} /> : null}

          <ImportFileInfo imp={imp} />

          {imp.rows_failed !== 0 ? (
            <div className="toolbar">
              <a className="button" href={importErrorsCsvUrl(imp.id)} download data-testid="download-errors" onClick={onDownload}>
                Download errors (CSV)
              </a>
              {downloadError ? <Notice tone="error">{downloadError}</Notice> : null}
            </div>
          ) : null}

          <RowErrorTable importId={imp.id} expected={imp.rows_failed} importFailed={imp.status === "failed"} status={imp.status} />
          {/* the dialog goes once the import can no longer be reverted (its revert started, here or elsewhere) */}
          {reverting && isRevertable(imp) ? (
            <RevertDialog
              imp={imp}
              onClose={() => setReverting(false)}
              onStarted={() => {
                setReverting(false);
                setRevertStarted(true);
              }}
            />
          ) : null}
        </>
      ) : null}
    </div>
  );
}
