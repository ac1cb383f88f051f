import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef } from "react";
import { EmptyState, ErrorMessage, Loading } from "@/components/Feedback";
import { Pager } from "@/components/Pager";
import { formatCount } from "@/lib/format";
import { useCursorPager } from "@/lib/paging";
import { ERRORS_PAGE_SIZE, importKeys, useImportErrors } from "../api/imports";

export interface RowErrorTableProps {
  importId: string;
  /** rows_failed as last seen; a change refetches the page. */
  expected: number | null;
  importFailed?: boolean;
}

export function RowErrorTable({ importId, expected, importFailed = false }: RowErrorTableProps) {
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
      {errors.isLoading ? <Loading label="Loading row errors…" /> : null}
      {errors.error ? <ErrorMessage error={errors.error} onRetry={() => void errors.refetch()} title="Could not load row errors." /> : null}
      {errors.data && errors.data.items.length === 0 && pager.page === 0 ? (
        <EmptyState title="No row errors">
          {importFailed ? "No single row was reported; the whole file failed (see above)." : "Every row processed so far was valid."}
        </EmptyState>
      ) : null}
      {errors.data && errors.data.items.length > 0 ? (
        <div className="table-wrap" tabIndex={0} role="region" aria-label="Row errors table">
          <table className="table" data-testid="row-error-table" aria-busy={errors.isFetching}>
            <caption className="visually-hidden">
              Row errors {formatCount(first + 1)}–{formatCount(first + errors.data.items.length)}
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
              {errors.data.items.map((e, i) => (
                <tr key={`${e.row}-${e.column}-${i}`} data-testid="row-error">
                  <td className="num">{e.row ?? "–"}</td>
                  <td>{e.sku ?? <span className="muted">–</span>}</td>
                  <td>{e.column ?? <span className="muted">–</span>}</td>
                  <td>{e.message}</td>
                  <td className="cell-value">{e.value === null ? <span className="muted">–</span> : <code>{e.value}</code>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      <Pager
        label="Row error pages"
        page={pager.page}
        hasPrevious={pager.hasPrevious}
        hasNext={Boolean(errors.data?.next_cursor)}
        onPrevious={pager.previous}
        onNext={() => errors.data?.next_cursor && pager.next(errors.data.next_cursor)}
        busy={errors.isFetching}
      />
    </section>
  );
}
