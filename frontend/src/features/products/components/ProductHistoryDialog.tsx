import { Link } from "react-router-dom";
import { ActionPill, ChangeDiffs } from "@/components/ChangeDiffs";
import { Dialog } from "@/components/Dialog";
import { EmptyState, ErrorMessage, Loading } from "@/components/Feedback";
import { formatDateTime, quoted } from "@/lib/format";
import { pathSegment } from "@/lib/api";
import { useImportName, useProductHistory } from "../api/products";

/** A link to the import that wrote a change, named by its file (two entries' links say which is which). */
function ImportLink({ id }: { id: string }) {
  const name = useImportName(id);
  return <Link to={`/imports/${pathSegment(id)}`}>{name.data !== undefined ? quoted(name.data) : "an import"}</Link>;
}

/** Every change that touched one product (imports, edits, reverts), newest first. */
export function ProductHistoryDialog({ sku, onClose }: { sku: string; onClose: () => void }) {
  const q = useProductHistory(sku);
  const entries = q.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <Dialog title={`History of ${quoted(sku)}`} onClose={onClose} testId="product-history">
      {q.isLoading ? <Loading label="Loading history…" /> : null}
      {q.error ? <ErrorMessage error={q.error} onRetry={() => void q.refetch()} title="Could not load the history." /> : null}
      {q.data && entries.length === 0 ? <EmptyState title="No recorded changes">Changes are recorded from imports and edits.</EmptyState> : null}
      {entries.length > 0 ? (
        <ol className="history-list" aria-label={`Changes to ${quoted(sku)}, newest first`}>
          {entries.map((h, i) => (
            <li key={`${h.at}-${h.import_id}-${i}`} className={`history-entry${h.reverted ? " history-entry--reverted" : ""}`} data-testid="history-entry" data-action={h.action} data-reverted={h.reverted}>
              <div className="history-entry__head">
                <ActionPill action={h.action} />
                <span className="small">
                  {h.import_id ? (
                    <>
                      by <ImportLink id={h.import_id} />
                    </>
                  ) : (
                    "by an edit"
                  )}{" "}
                  · {formatDateTime(h.at)}
                </span>
                {h.reverted ? <span className="pill pill--off">Reverted</span> : null}
              </div>
              <ChangeDiffs change={h} />
            </li>
          ))}
        </ol>
      ) : null}
      {q.hasNextPage ? (
        <button type="button" className="button" onClick={() => void q.fetchNextPage()} disabled={q.isFetchingNextPage}>
          {q.isFetchingNextPage ? "Loading…" : "Show older changes"}
        </button>
      ) : null}
      <div className="dialog__actions">
        <button type="button" className="button" onClick={onClose} data-autofocus>
          Close
        </button>
      </div>
    </Dialog>
  );
}
