import { useSyncExternalStore } from "react";

/** The phone layout's breakpoint: the same width as `@media (max-width: 600px)` in styles.css. */
export const PHONE_QUERY = "(max-width: 600px)";

/**
 * Whether `query` matches now, following changes (a rotated phone, a resized window). False where the browser
 * has no `matchMedia` (tests' jsdom): the desktop layout.
 */
export function useMediaQuery(query: string): boolean {
  return useSyncExternalStore(
    (onChange) => {
      if (typeof window.matchMedia !== "function") return () => {};
      const list = window.matchMedia(query);
      list.addEventListener("change", onChange);
      return () => list.removeEventListener("change", onChange);
    },
    () => typeof window.matchMedia === "function" && window.matchMedia(query).matches,
    () => false,
  );
}
