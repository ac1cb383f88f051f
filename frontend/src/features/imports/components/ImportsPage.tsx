import { useCallback, useRef, useState } from "react";
import { useLocation, useNavigate } from "react-router-dom";
import { Can } from "@/components/Can";
import { EmptyState, Notice } from "@/components/Feedback";
import { PagedList } from "@/components/PagedList";
import { useConfig } from "@/lib/config";
import { countOf, pluralOf } from "@/lib/format";
import { useRememberedCursorPager } from "@/lib/paging";
import { useDocumentTitle } from "@/lib/title";
import { pathSegment } from "@/lib/api";
import { useImportSnapshotWriter, useImportsPage, useImportsPagePoll, type ImportOptions } from "../api/imports";
import type { Import } from "../api/schemas";
import { useLiveImports } from "../api/useLiveImports";
import { useTabUploads } from "../api/uploadsContext";
import { checkFile } from "../api/useUploads";
import { DropZone } from "./DropZone";
import { ImportCard } from "./ImportCard";
import { LiveIndicator } from "./LiveIndicator";
import { MappingStep } from "./mapping/MappingStep";
import { UploadList } from "./UploadList";

const ALL = ["*"];

interface QueuedFile {
  key: string;
  file: File;
}

let queued = 0;

export function ImportsPage() {
  useDocumentTitle("Imports");
  const config = useConfig();
  const navigate = useNavigate();
  const flash = (useLocation().state as { flash?: string } | null)?.flash ?? null;
  // remembered in the history entry: Back from an import opened on page 2 comes back to page 2
  const pager = useRememberedCursorPager("imports");
  const page = useImportsPage(pager.cursor);
  const onFirstPage = pager.page === 0;
  // live frames and polls write into the query cache; new imports go on top of the first page (while it is shown)
  const merge = useImportSnapshotWriter(onFirstPage);
  const poll = useImportsPagePoll(pager.cursor);
  const mode = useLiveImports({ subscriptions: ALL, onImports: merge, poll });

  // dropped files wait here for their mapping step, one at a time
  const [queue, setQueue] = useState<QueuedFile[]>([]);
  const queueLength = useRef(0);
  queueLength.current = queue.length;
  const onUploaded = useCallback(
    (imp: Import) => {
      // a preview's page is where its result shows: go there once the file is up (unless more files wait)
      if (imp.mode === "preview" && queueLength.current === 0) navigate(`/imports/${pathSegment(imp.id)}`);
    },
    [navigate],
  );
  const onCreated = useCallback((imp: Import) => merge([imp]), [merge]);
  const uploads = useTabUploads(onCreated, config.data?.max_upload_bytes, onUploaded);
  const maxBytes = config.data?.max_upload_bytes;

  const onFiles = (files: File[]) => {
    const bad = files.filter((f) => checkFile(f, maxBytes) !== null);
    const good = files.filter((f) => checkFile(f, maxBytes) === null);
    if (bad.length > 0) uploads.addFiles(bad); // explained in the upload list, never sent
    if (good.length > 0) setQueue((q) => [...q, ...good.map((file) => ({ key: `f${++queued}`, file }))]);
  };
  const [backFromStep, setBackFromStep] = useState(false);
  // files the server read and says cannot be imported (empty, a workbook…): skipped, never counted as to import
  const [unreadable, setUnreadable] = useState<ReadonlySet<string>>(() => new Set());
  const onUnreadable = useCallback(
    (key: string, yes: boolean) =>
      setUnreadable((s) => {
        if (s.has(key) === yes) return s;
        const next = new Set(s);
        if (yes) next.add(key);
        else next.delete(key);
        return next;
      }),
    [],
  );
  const importable = queue.filter((q) => !unreadable.has(q.key));
  const [pickAgain, setPickAgain] = useState(false);
  const onPickerOpened = useCallback(() => setPickAgain(false), []);
  const current = queue[0];
  const done = () => {
    setQueue((q) => q.slice(1));
    setBackFromStep(true);
  };
  const chooseAnother = () => {
    done();
    setPickAgain(true);
  };
  const start = (options: ImportOptions) => {
    if (!current) return;
    uploads.addFiles([current.file], options);
    done();
  };
  const startAllAsRead = () => {
    uploads.addFiles(importable.map((q) => q.file));
    setQueue([]);
    setBackFromStep(true);
  };

  return (
    <div className="page">
      <header className="page__head">
        <h1>Imports</h1>
        <p className="page__lead">Upload product catalogues as CSV. Each file becomes one import that runs in the background.</p>
      </header>

      {flash ? <Notice tone="success">{flash}</Notice> : null}
      <Can
        group="importer"
        fallback={<Notice>You can follow imports here. Starting one needs the importer group; ask an administrator.</Notice>}
      >
        {queue.length > 1 ? (
          <div className="queue-bar" role="status">
            <span>
              {countOf(queue.length, "file")} {pluralOf(queue.length, "is", "are")} waiting for their mapping step
              {importable.length < queue.length ? ` (${countOf(queue.length - importable.length, "file")} that cannot be imported will be skipped)` : ""}.
            </span>
            {importable.length > 0 ? (
              <button type="button" className="button button--small" onClick={startAllAsRead}>
                {importable.length === 1 ? "Import the other one as read" : `Import all ${importable.length} as read`}
              </button>
            ) : null}
          </div>
        ) : null}
        {current ? (
          <MappingStep
            key={current.key}
            fileKey={current.key}
            file={current.file}
            position={{ index: 0, total: queue.length }}
            onStart={start}
            onCancel={done}
            onUnreadable={onUnreadable}
            onChooseAnother={chooseAnother}
          />
        ) : (
          <DropZone onFiles={onFiles} maxBytes={maxBytes} autoFocus={backFromStep} openPicker={pickAgain} onPickerOpened={onPickerOpened} />
        )}
      </Can>
      <UploadList
        uploads={uploads.uploads}
        onCancel={uploads.cancel}
        onDismiss={uploads.dismiss}
        onClearFinished={uploads.clearFinished}
      />

      <section aria-labelledby="history-title" className="history">
        <div className="section-head">
          <h2 id="history-title">History</h2>
          <LiveIndicator mode={mode} />
        </div>
        <PagedList
          query={page}
          pager={pager}
          loadingLabel="Loading imports…"
          errorTitle="Could not load imports."
          empty={
            <EmptyState title="No imports yet">
              <Can group="importer" fallback="Imports show here once someone in the importer group starts one.">
                Drop a CSV file above to start your first import.
              </Can>
            </EmptyState>
          }
          pagerLabel="Import history pages"
        >
          {(items) => (
            <ul className="import-list" data-testid="import-list">
              {items.map((imp) => (
                <ImportCard key={imp.id} imp={imp} />
              ))}
            </ul>
          )}
        </PagedList>
      </section>
    </div>
  );
}
