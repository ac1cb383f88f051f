import { useEffect, useState, type Dispatch, type SetStateAction } from "react";
import { useSearchParams } from "react-router-dom";
import { useDebouncedValue } from "./debounce";

export interface UrlFilters<T> {
  /** What the fields show: changes at once. */
  filters: T;
  setFilters: Dispatch<SetStateAction<T>>;
  /** `filters` once they stopped changing for `delayMs`: what to query with, and what the URL carries. */
  debounced: T;
}

/**
 * A list's filters kept in the page's URL (`?q=lamp&active=false`): a filtered list can be shared, and a
 * reload or Back returns to it. `parse` reads them from the URL when the page mounts and keeps only values the
 * API takes (a shared URL may carry more); the debounced filters are written back, non-empty ones only, as
 * the whole query string, replacing the history entry (typing adds no Back steps). A URL that says so already
 * is left alone (no navigation, so the entry's state stays).
 */
export function useUrlFilters<T extends { [K in keyof T]: string }>(parse: (params: URLSearchParams) => T, delayMs: number): UrlFilters<T> {
  const [params, setParams] = useSearchParams();
  const [filters, setFilters] = useState<T>(() => parse(params));
  const debounced = useDebouncedValue(filters, delayMs);
  const shown = params.toString();
  useEffect(() => {
    const next = new URLSearchParams();
    for (const [key, value] of Object.entries<string>(debounced)) if (value.trim() !== "") next.set(key, value);
    if (next.toString() !== shown) setParams(next, { replace: true });
  }, [debounced, shown, setParams]);
  return { filters, setFilters, debounced };
}
