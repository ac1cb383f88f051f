import { useEffect, useRef, type ReactNode } from "react";
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
  // A page turned with the mouse under a long list showed the new page's last rows: its first ones come into
  // view once it is there. (Turned with a key, focus stays on the pager's button, and the page where it is.)
  const top = useRef<HTMLDivElement>(null);
  const showTop = useRef(false);
  useEffect(() => {
    if (!showTop.current || query.isFetching) return;
    showTop.current = false;
    top.current?.scrollIntoView({ block: "nearest" });
  });
  const turned = (turn: () => void) => (how: { pointer: boolean }) => {
    showTop.current = how.pointer;
    turn();
  };
  return (
    <>
      {query.isLoading ? <Loading label={loadingLabel} /> : null}
      {query.error ? <ErrorMessage error={query.error} onRetry={() => void query.refetch()} title={errorTitle} /> : null}
      {data && data.items.length === 0 && pager.page === 0 ? empty : null}
      <div ref={top} className="paged-list__top" data-testid="paged-list-top" />
      {data && data.items.length > 0 ? children(data.items) : null}
      <Pager
        label={pagerLabel}
        page={pager.page}
        hasPrevious={pager.hasPrevious}
        hasNext={Boolean(nextCursor)}
        onPrevious={turned(pager.previous)}
        onNext={turned(() => nextCursor && pager.next(nextCursor))}
        busy={query.isFetching}
      />
    </>
  );
}
