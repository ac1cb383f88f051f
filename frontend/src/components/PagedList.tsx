import type { ReactNode } from "react";
import type { Page } from "@/lib/page";
import type { CursorPager } from "@/lib/paging";
import { ErrorMessage, Loading } from "./Feedback";
import { Pager } from "./Pager";

/** What PagedList reads of a TanStack `useQuery` result for one page of a `/api` list. */
export interface PageQuery<T> {
  data: Page<T> | undefined;
  error: unknown;
  isLoading: boolean;
  isFetching: boolean;
  refetch: () => unknown;
}

export interface PagedListProps<T> {
  /** The query of the page at `pager.cursor`. */
  query: PageQuery<T>;
  pager: Pick<CursorPager, "page" | "hasPrevious" | "previous" | "next">;
  loadingLabel: string;
  errorTitle: string;
  /** Shown when the first page comes back without items. */
  empty: ReactNode;
  /** The pager's aria-label. */
  pagerLabel: string;
  /** The table or list of the page's items; called only when there is at least one. */
  children: (items: T[]) => ReactNode;
}

/**
 * One page of a cursor-paged list: loading, error (with retry), empty state, the items as the caller draws
 * them, and Previous / Next (Next follows the page's `next_cursor`).
 */
export function PagedList<T>({ query, pager, loadingLabel, errorTitle, empty, pagerLabel, children }: PagedListProps<T>) {
  const { data } = query;
  const nextCursor = data?.next_cursor ?? null;
  return (
    <>
      {query.isLoading ? <Loading label={loadingLabel} /> : null}
      {query.error ? <ErrorMessage error={query.error} onRetry={() => void query.refetch()} title={errorTitle} /> : null}
      {data && data.items.length === 0 && pager.page === 0 ? empty : null}
      {data && data.items.length > 0 ? children(data.items) : null}
      <Pager
        label={pagerLabel}
        page={pager.page}
        hasPrevious={pager.hasPrevious}
        hasNext={Boolean(nextCursor)}
        onPrevious={pager.previous}
        onNext={() => nextCursor && pager.next(nextCursor)}
        busy={query.isFetching}
      />
    </>
  );
}
