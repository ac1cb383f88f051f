import { useId, useState } from "react";
import { ActionPill, ChangeDiffs } from "@/components/ChangeDiffs";
import { EmptyState, ErrorMessage, Loading } from "@/components/Feedback";
import { Pager } from "@/components/Pager";
import { useDebouncedValue } from "@/lib/debounce";
import { ACTION_LABELS } from "@/lib/fields";
import { formatCount } from "@/lib/format";
import { useCursorPager } from "@/lib/paging";
import { ACTIONS, useChanges, type ChangeFilters } from "../../api/changes";

/** The import's changes by SKU, filtered by action and SKU prefix, paged from the API. */
export function ChangesTable({ importId, planned, counts }: { importId: string; planned: boolean; counts?: Record<string, number> }) {
  const uid = useId();
  const [filters, setFilters] = useState<ChangeFilters>({ action: "", sku: "" });
  const debounced = useDebouncedValue(filters, 300);
  const pager = useCursorPager(`${importId}:${JSON.stringify(debounced)}`);
  const q = useChanges(importId, debounced, pager.cursor);
  const filtered = debounced.action !== "" || debounced.sku.trim() !== "";

  return (
    <section aria-labelledby={`${uid}-title`} className="changes" data-testid="changes">
      <div className="section-head">
        <h2 id={`${uid}-title`}>{planned ? "Planned changes" : "Changes"}</h2>
      </div>
      <form className="filters filters--changes" role="search" aria-label="Filter changes" onSubmit={(e) => e.preventDefault()}>
        <div className="field">
          <label className="field__label" htmlFor={`${uid}-action`}>
            Action
          </label>
          <select id={`${uid}-action`} value={filters.action} onChange={(e) => setFilters((f) => ({ ...f, action: e.target.value }))}>
            <option value="">All</option>
            {ACTIONS.map((a) => (
              <option key={a} value={a}>
                {ACTION_LABELS[a]}
                {counts?.[a] !== undefined ? ` (${formatCount(counts[a])})` : ""}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label className="field__label" htmlFor={`${uid}-sku`}>
            SKU
          </label>
          <input
            id={`${uid}-sku`}
            type="search"
            placeholder="SKU prefix"
            value={filters.sku}
            onChange={(e) => setFilters((f) => ({ ...f, sku: e.target.value }))}
            autoComplete="off"
          />
        </div>
      </form>
      {q.isLoading ? <Loading label="Loading changes…" /> : null}
      {q.error ? <ErrorMessage error={q.error} onRetry={() => void q.refetch()} title="Could not load the changes." /> : null}
      {q.data && q.data.items.length === 0 && pager.page === 0 ? (
        <EmptyState title={filtered ? "No changes match" : "No changes"}>
          {filtered ? "Try another action or SKU." : "No product is touched by this file."}
        </EmptyState>
      ) : null}
      {q.data && q.data.items.length > 0 ? (
        <div className="table-wrap" tabIndex={0} role="region" aria-label="Changes table">
          <table className="table table--changes" data-testid="changes-table" aria-busy={q.isFetching}>
            <thead>
              <tr>
                <th scope="col">SKU</th>
                <th scope="col">Action</th>
                <th scope="col">Before → after</th>
              </tr>
            </thead>
            <tbody>
              {q.data.items.map((c) => (
                <tr key={c.sku} data-testid="change-row" data-sku={c.sku} data-action={c.action}>
                  <td className="mono">{c.sku}</td>
                  <td>
                    <ActionPill action={c.action} />
                  </td>
                  <td>
                    <ChangeDiffs change={c} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      <Pager
        label="Change pages"
        page={pager.page}
        hasPrevious={pager.hasPrevious}
        hasNext={Boolean(q.data?.next_cursor)}
        onPrevious={pager.previous}
        onNext={() => q.data?.next_cursor && pager.next(q.data.next_cursor)}
        busy={q.isFetching}
      />
    </section>
  );
}
