import { useCallback } from "react";
import { Can } from "@/components/Can";
import { EmptyState, ErrorMessage, Loading, Notice } from "@/components/Feedback";
import { Pager } from "@/components/Pager";
import { useConfig } from "@/lib/config";
import { useCursorPager } from "@/lib/paging";
import { listImports, useImportSnapshotWriter, useImportsPage } from "../api/imports";
import { useLiveImports } from "../api/useLiveImports";
import { useUploads } from "../api/useUploads";
import { DropZone } from "./DropZone";
import { ImportCard } from "./ImportCard";
import { LiveIndicator } from "./LiveIndicator";
import { UploadList } from "./UploadList";

const ALL = ["*"];

export function ImportsPage() {
  const config = useConfig();
  const pager = useCursorPager("imports");
  const page = useImportsPage(pager.cursor);
  const onFirstPage = pager.page === 0;
  // live frames and polls write into the query cache; new imports go on top of the first page (while it is shown)
  const merge = useImportSnapshotWriter(onFirstPage);
  const poll = useCallback(async () => (await listImports(pager.cursor)).items, [pager.cursor]);
  const mode = useLiveImports({ subscriptions: ALL, onImports: merge, poll });
  const uploads = useUploads((imp) => merge([imp]), config.data?.max_upload_bytes);

  return (
    <div className="page">
      <header className="page__head">
        <h1>Imports</h1>
        <p className="page__lead">Upload product catalogues as CSV. Each file becomes one import that runs in the background.</p>
      </header>

      <Can
        group="importer"
        fallback={<Notice>You can follow imports here. Starting one needs the importer group; ask an administrator.</Notice>}
      >
        <DropZone onFiles={uploads.addFiles} maxBytes={config.data?.max_upload_bytes} />
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
        {page.isLoading ? <Loading label="Loading imports…" /> : null}
        {page.error ? <ErrorMessage error={page.error} onRetry={() => void page.refetch()} title="Could not load imports." /> : null}
        {page.data && page.data.items.length === 0 && onFirstPage ? (
          <EmptyState title="No imports yet">Drop a CSV file above to start your first import.</EmptyState>
        ) : null}
        {page.data && page.data.items.length > 0 ? (
          <ul className="import-list" data-testid="import-list">
            {page.data.items.map((imp) => (
              <ImportCard key={imp.id} imp={imp} />
            ))}
          </ul>
        ) : null}
        <Pager
          label="Import history pages"
          page={pager.page}
          hasPrevious={pager.hasPrevious}
          hasNext={Boolean(page.data?.next_cursor)}
          onPrevious={pager.previous}
          onNext={() => page.data?.next_cursor && pager.next(page.data.next_cursor)}
          busy={page.isFetching}
        />
      </section>
    </div>
  );
}
