import { useCallback, useEffect, useRef, useState } from "react";

export interface QueryState<T> {
  data: T | undefined;
  error: unknown;
  /** True while the first answer for the current key is on its way. */
  loading: boolean;
  /** True while any request is on its way (also background refreshes). */
  fetching: boolean;
  refetch: () => Promise<void>;
  /** Replace the data locally (live updates, optimistic edits). */
  setData: (update: (prev: T | undefined) => T | undefined) => void;
}

/**
 * A small data-fetching hook: runs `fetcher` whenever `key` changes, ignores stale answers,
 * keeps the previous data while a new key loads (tables do not flicker), aborts on unmount.
 */
export function useQuery<T>(
  key: readonly unknown[],
  fetcher: (signal: AbortSignal) => Promise<T>,
  options: { enabled?: boolean } = {},
): QueryState<T> {
  const enabled = options.enabled ?? true;
  const keyString = JSON.stringify(key);
  const [data, setDataState] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);
  const [fetching, setFetching] = useState<boolean>(enabled);
  const [loadedKey, setLoadedKey] = useState<string | null>(null);
  const fetcherRef = useRef(fetcher);
  fetcherRef.current = fetcher;
  const seq = useRef(0);
  const controller = useRef<AbortController | null>(null);

  const run = useCallback(async () => {
    const id = ++seq.current;
    controller.current?.abort();
    const ac = new AbortController();
    controller.current = ac;
    setFetching(true);
    try {
      const result = await fetcherRef.current(ac.signal);
      if (id !== seq.current) return;
      setDataState(result);
      setError(null);
    } catch (err) {
      if (id !== seq.current || ac.signal.aborted) return;
      setError(err);
    } finally {
      if (id === seq.current) {
        setFetching(false);
        setLoadedKey(keyString);
      }
    }
  }, [keyString]);

  useEffect(() => {
    if (!enabled) return;
    void run();
    return () => {
      seq.current++;
      controller.current?.abort();
    };
  }, [run, enabled]);

  const setData = useCallback((update: (prev: T | undefined) => T | undefined) => {
    setDataState((prev) => update(prev));
  }, []);

  return {
    data,
    error,
    loading: enabled && loadedKey !== keyString && data === undefined,
    fetching,
    refetch: run,
    setData,
  };
}

/** `value`, but only after it stopped changing for `delayMs`. */
export function useDebouncedValue<T>(value: T, delayMs: number): T {
  const [debounced, setDebounced] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setDebounced(value), delayMs);
    return () => clearTimeout(t);
  }, [value, delayMs]);
  return debounced;
}

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
