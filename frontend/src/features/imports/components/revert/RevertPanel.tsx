import { useLayoutEffect, useRef } from "react";
import { Link } from "react-router-dom";
import { EmptyState } from "@/components/Feedback";
import { PagedList } from "@/components/PagedList";
import { ProgressBar } from "@/components/ProgressBar";
import { countOf, formatCount, formatDateTime, percent, quoted } from "@/lib/format";
import { useCursorPager } from "@/lib/paging";
import { pathSegment } from "@/lib/api";
import { useChangeSummary, useRevertConflicts } from "../../api/changes";
import { useImport } from "../../api/imports";
import type { Import } from "../../api/schemas";

/**
 * A revert's live progress (status `reverting`), its result and its conflicts. Nothing when never reverted.
 * `takeFocus`: the revert was started on this page. Its Revert button goes once the import is reverting, and a
 * browser drops the focus of a removed button to <body> (the next Tab starts at the top of the page, a screen
 * reader says nothing): focus then comes to this panel's heading, which says the revert runs.
 */
export function RevertPanel({ imp, takeFocus = false }: { imp: Import; takeFocus?: boolean }) {
  const revert = imp.revert;
  const shown = Boolean(revert) || imp.status === "reverting" || imp.status === "reverted";
  const running = imp.status === "reverting" || revert?.status === "running";
  const heading = useRef<HTMLHeadingElement>(null);
  // (a layout effect: it runs as the button goes, before the dialog's watch would send focus to <main>)
  useLayoutEffect(() => {
    if (!takeFocus || !running) return;
    const active = document.activeElement;
    if (active === null || active === document.body || active.tagName === "MAIN") heading.current?.focus();
  }, [takeFocus, running]);
  if (!shown) return null;
  const failed = revert?.status === "failed";
  const restored = revert?.restored ?? 0;
  const deleted = revert?.deleted ?? 0;
  const conflicts = revert?.conflicts ?? 0;
  return (
    <section className="card revert-panel" aria-labelledby="revert-title" data-testid="revert-panel" data-revert-status={revert?.status ?? ""}>
      <h2 id="revert-title" className="h3" tabIndex={-1} ref={heading}>
        {running ? "Reverting this import…" : failed ? "The revert did not finish" : "Reverted"}
      </h2>
      {running ? <RevertProgress imp={imp} /> : null}
      {failed ? (
        <div className="alert alert--error" role="alert">
          <div>
            {revert?.error ?? "The revert stopped before it was done."} What it restored stays; you can revert again.
          </div>
        </div>
      ) : null}
      <dl className="stats revert-stats">
        <div className="stat" data-testid="revert-stat-restored">
          <dt>Restored</dt>
          <dd>{formatCount(restored)}</dd>
        </div>
        <div className="stat" data-testid="revert-stat-deleted">
          <dt>Deleted</dt>
          <dd>{formatCount(deleted)}</dd>
        </div>
        <div className={`stat${conflicts > 0 ? " stat--bad" : ""}`} data-testid="revert-stat-conflicts">
          <dt>Conflicts</dt>
          <dd>{formatCount(conflicts)}</dd>
        </div>
      </dl>
      {revert?.requested_at ? (
        <p className="muted small">
          Asked for {formatDateTime(revert.requested_at)}
          {imp.reverted_at ? ` · done ${formatDateTime(imp.reverted_at)}` : ""}
        </p>
      ) : null}
      {!running && conflicts > 0 ? <ConflictsTable importId={imp.id} expected={conflicts} /> : null}
    </section>
  );
}

function RevertProgress({ imp }: { imp: Import }) {
  const summary = useChangeSummary(imp.id);
  const r = imp.revert;
  const done = (r?.restored ?? 0) + (r?.deleted ?? 0) + (r?.conflicts ?? 0);
  const byChunks = percent(r?.chunks_done, r?.chunks_total);
  const total = summary.data ? summary.data.create + summary.data.update + summary.data.deactivate : null;
  const value = byChunks ?? (total ? percent(done, total) : null);
  return (
    <ProgressBar
      value={value}
      label={`Revert of ${imp.filename}`}
      valueText={total ? `${formatCount(done)} / ${countOf(total, "product")}` : countOf(done, "product")}
      testId="revert-progress"
    />
  );
}

/** A link to the import that wrote a product since, named by its file (several conflicts' links say which is which). */
function LaterImportLink({ id }: { id: string }) {
  const later = useImport(id);
  return <Link to={`/imports/${pathSegment(id)}`}>{later.data ? quoted(later.data.filename) : "a later import"}</Link>;
}

function ConflictsTable({ importId, expected }: { importId: string; expected: number }) {
  const pager = useCursorPager(importId);
  const q = useRevertConflicts(importId, pager.cursor);
  return (
    <div className="conflicts" data-testid="revert-conflicts">
      <h3 className="h4">Left as they are ({formatCount(expected)})</h3>
      <p className="muted small">Written since this import by a later import (also one that left them unchanged) or by hand: they keep what that write set, so the revert did not touch them.</p>
      <PagedList
        query={q}
        pager={pager}
        loadingLabel="Loading conflicts…"
        errorTitle="Could not load the conflicts."
        empty={<EmptyState title="No conflicts listed" />}
        pagerLabel="Conflict pages"
      >
        {(items) => (
          <div className="table-wrap" tabIndex={0} role="region" aria-label="Conflicts table">
            <table className="table table--compact" aria-busy={q.isFetching}>
              <thead>
                <tr>
                  <th scope="col">SKU</th>
                  <th scope="col">Written since by</th>
                  <th scope="col">When</th>
                </tr>
              </thead>
              <tbody>
                {items.map((c) => (
                  <tr key={c.sku} data-testid="conflict-row" data-sku={c.sku}>
                    <td className="mono cell-sku">{c.sku}</td>
                    <td>
                      {c.changed_by?.import_id ? (
                        <LaterImportLink id={c.changed_by.import_id} />
                      ) : c.changed_by?.edit ? (
                        "an edit"
                      ) : (
                        "–"
                      )}
                    </td>
                    <td>{formatDateTime(c.at)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </PagedList>
    </div>
  );
}
