import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef } from "react";
import { EmptyState } from "@/components/Feedback";
import { PagedList } from "@/components/PagedList";
import { formatCount } from "@/lib/format";
import { useCursorPager } from "@/lib/paging";
import { ERRORS_PAGE_SIZE, MAX_STORED_ROW_ERRORS, importKeys, useImportErrors } from "../api/imports";

export interface RowErrorTableProps {
  importId: string;
  /** rows_failed as last seen; a change refetches the page. */
  expected: number | null;
  importFailed?: boolean;
  /** The import's status: what "no row errors" means depends on it (nothing read yet, all read, so far). */
  status?: string;
}

export function RowErrorTable({ importId, expected, importFailed = false, status }: RowErrorTableProps) {
  const pager = useCursorPager(importId);
  const errors = useImportErrors(importId, pager.cursor);
  // while the import runs, a new failed-row count means new errors: fetch the pages again
  const client = useQueryClient();
  const seen = useRef(expected);
  useEffect(() => {
    if (seen.current === expected) return;
    seen.current = expected;
    void client.invalidateQueries({ queryKey: importKeys.errors(importId) });
  }, [client, expected, importId]);
  const first = pager.page * ERRORS_PAGE_SIZE;

  return (
    <section aria-labelledby="row-errors-title" className="row-errors">
      <h2 id="row-errors-title">
        Row errors {expected !== null ? <span className="count">({formatCount(expected)})</span> : null}
      </h2>
      {expected !== null && expected > MAX_STORED_ROW_ERRORS ? (
        <p className="muted" data-testid="row-errors-capped">
          The first {formatCount(MAX_STORED_ROW_ERRORS)} are listed here and in the errors file; the other{" "}
          {formatCount(expected - MAX_STORED_ROW_ERRORS)} failed rows were counted but not kept. Fix what these
          show and import the file again to see the rest.
        </p>
      ) : null}
      <PagedList
        query={errors}
        pager={pager}
        loadingLabel="Loading row errors…"
        errorTitle="Could not load row errors."
        empty={
          <EmptyState title="No row errors">
            {importFailed
              ? "No single row was reported; the whole file failed (see above)."
              : status === "pending"
                ? "No row has been read yet: the file has not arrived."
                : status === "completed" || status === "previewed" || status === "reverted"
                  ? "Every row was valid."
                  : "Every row processed so far was valid."}
          </EmptyState>
        }
        pagerLabel="Row error pages"
      >
        {(items) => (
          <div className="table-wrap" tabIndex={0} role="region" aria-label="Row errors table">
            <table className="table" data-testid="row-error-table" aria-busy={errors.isFetching}>
              <caption className="visually-hidden">
                Row errors {formatCount(first + 1)}–{formatCount(first + items.length)}
              </caption>
              <thead>
                <tr>
                  <th scope="col">Row</th>
                  <th scope="col">SKU</th>
                  <th scope="col">Column</th>
                  <th scope="col">Message</th>
                  <th scope="col">Value</th>
                </tr>
              </thead>
              <tbody>
                {items.map((e, i) => (
                  <tr key={`${e.row}-${e.column}-${i}`} data-testid="row-error">
                    <td className="num">{e.row ?? "–"}</td>
                    <td className="cell-sku">{e.sku ?? <span className="muted">–</span>}</td>
                    <td className="cell-column">{e.column ?? <span className="muted">–</span>}</td>
                    <td>{e.message}</td>
                    <td className="cell-value">{e.value === null ? <span className="muted">–</span> : <code>{e.value}</code>}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </PagedList>
    </section>
  );
}
