import { useState } from "react";

/**
 * Cursor paging: remembers the cursors of the pages seen so "Previous" works with an API that only
 * hands out `next_cursor`. Reset whenever `resetKey` changes (new search, new filter).
 */
export function useCursorPager(resetKey: string) {
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const [lastReset, setLastReset] = useState(resetKey);
  let current = cursors;
  if (lastReset !== resetKey) {
    current = [null];
    setLastReset(resetKey);
    setCursors(current);
  }
  const page = current.length - 1;
  return {
    cursor: current[page] ?? null,
    page,
    hasPrevious: page > 0,
    next: (nextCursor: string) => setCursors((c) => [...c, nextCursor]),
    previous: () => setCursors((c) => (c.length > 1 ? c.slice(0, -1) : c)),
    first: () => setCursors([null]),
  };
}

export type CursorPager = ReturnType<typeof useCursorPager>;
