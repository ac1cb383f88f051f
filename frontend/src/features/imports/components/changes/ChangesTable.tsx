import { useId } from "react";
import { ActionPill, ChangeDiffs } from "@/components/ChangeDiffs";
import { EmptyState } from "@/components/Feedback";
import { Field } from "@/components/Field";
import { PagedList } from "@/components/PagedList";
import { ACTION_LABELS, SKU_MAX_LENGTH } from "@/lib/fields";
import { formatCount } from "@/lib/format";
import { useCursorPager } from "@/lib/paging";
import { useUrlFilters } from "@/lib/urlFilters";
import { ACTIONS, useChanges, type ChangeFilters } from "../../api/changes";

/** The filters a URL carries (`?action=update&sku=AB`): a reload or Back keeps them. */
export function changeFiltersFrom(params: URLSearchParams): ChangeFilters {
  const action = params.get("action") ?? "";
  return {
    action: (ACTIONS as readonly string[]).includes(action) ? action : "",
    // (a shared URL may carry more than the API takes: the filter keeps what fits)
    sku: (params.get("sku") ?? "").slice(0, SKU_MAX_LENGTH),
  };
}

/** The import's changes by SKU, filtered by action and SKU prefix (kept in the URL), paged from the API. */
export function ChangesTable({ importId, planned, counts }: { importId: string; planned: boolean; counts?: Record<string, number> }) {
  const uid = useId();
  const { filters, setFilters, debounced } = useUrlFilters(changeFiltersFrom, 300);
  const pager = useCursorPager(`${importId}:${JSON.stringify(debounced)}`);
  const q = useChanges(importId, debounced, pager.cursor);
  const filtered = debounced.action !== "" || debounced.sku.trim() !== "";

  return (
    <section aria-labelledby={`${uid}-title`} className="changes" data-testid="changes">
      <div className="section-head">
        <h2 id={`${uid}-title`}>{planned ? "Planned changes" : "Changes"}</h2>
      </div>
      <form className="filters filters--changes" role="search" aria-label="Filter changes" onSubmit={(e) => e.preventDefault()}>
        <Field label="Action">
          <select value={filters.action} onChange={(e) => setFilters((f) => ({ ...f, action: e.target.value }))}>
            <option value="">All</option>
            {ACTIONS.map((a) => (
              <option key={a} value={a}>
                {ACTION_LABELS[a]}
                {counts?.[a] !== undefined ? ` (${formatCount(counts[a])})` : ""}
              </option>
            ))}
          </select>
        </Field>
        <Field label="SKU">
          <input
            type="search"
            placeholder="SKU prefix"
            maxLength={SKU_MAX_LENGTH}
            value={filters.sku}
            onChange={(e) => setFilters((f) => ({ ...f, sku: e.target.value }))}
            autoComplete="off"
          />
        </Field>
      </form>
      <PagedList
        query={q}
        pager={pager}
        loadingLabel="Loading changes…"
        errorTitle="Could not load the changes."
        empty={
          <EmptyState title={filtered ? "No changes match" : "No changes"}>
            {filtered ? "Try another action or SKU." : "No product is touched by this file."}
          </EmptyState>
        }
        pagerLabel="Change pages"
      >
        {(items) => (
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
                {items.map((c) => (
                  <tr key={c.sku} data-testid="change-row" data-sku={c.sku} data-action={c.action}>
                    <td className="mono cell-sku">{c.sku}</td>
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
        )}
      </PagedList>
    </section>
  );
}
