import { useState } from "react";
import { useLocation, useNavigate } from "react-router-dom";

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

/**
 * Cursor paging for a page's main list, remembered in the browser history entry (`location.state`) instead of
 * component state: after opening an item from page 2 and going Back (or reloading), the list is on page 2
 * again, not on page 1. `name` keeps two lists of one page apart. Turning a page replaces the entry (it adds
 * no Back step of its own).
 */
export function useRememberedCursorPager(name: string): CursorPager {
  const location = useLocation();
  const navigate = useNavigate();
  const key = `pager:${name}`;
  const state = location.state !== null && typeof location.state === "object" ? (location.state as Record<string, unknown>) : {};
  const stored = state[key];
  const cursors: (string | null)[] =
    Array.isArray(stored) && stored.length > 0 && stored.every((c) => c === null || typeof c === "string") ? (stored as (string | null)[]) : [null];
  const save = (next: (string | null)[]) =>
    navigate({ pathname: location.pathname, search: location.search, hash: location.hash }, { replace: true, state: { ...state, [key]: next } });
  const page = cursors.length - 1;
  return {
    cursor: cursors[page] ?? null,
    page,
    hasPrevious: page > 0,
    next: (nextCursor: string) => save([...cursors, nextCursor]),
    previous: () => save(cursors.length > 1 ? cursors.slice(0, -1) : cursors),
    first: () => save([null]),
  };
}
