import { useEffect, useRef } from "react";
import { useFocusBackAfter } from "./focusBack";

export interface PagerProps {
  page: number;
  hasPrevious: boolean;
  hasNext: boolean;
  onPrevious: () => void;
  onNext: () => void;
  label: string;
  busy?: boolean;
}

/** Previous / next buttons for cursor paging (the API only knows the next cursor). */
export function Pager({ page, hasPrevious, hasNext, onPrevious, onNext, label, busy = false }: PagerProps) {
  // both are disabled while a page loads, which drops the focus of the one pressed to <body>: it comes back
  // once the page is there (to the other one where the pressed one stays disabled: Next on the last page)
  const previous = useRef<HTMLButtonElement>(null);
  const next = useRef<HTMLButtonElement>(null);
  const pressed = useRef<HTMLButtonElement | null>(null);
  useFocusBackAfter(busy, pressed, undefined, [previous, next]);
  useEffect(() => {
    if (!busy) pressed.current = null; // a later refresh of the same page was not asked for here
  });
  if (!hasPrevious && !hasNext) return null;
  return (
    <nav className="pager" aria-label={label}>
      <button
        type="button"
        className="button"
        onClick={(e) => {
          pressed.current = e.currentTarget;
          onPrevious();
        }}
        disabled={!hasPrevious || busy}
        ref={previous}
      >
        ← Previous
      </button>
      <span className="pager__page" aria-live="polite">
        Page {page + 1}
      </span>
      <button
        type="button"
        className="button"
        onClick={(e) => {
          pressed.current = e.currentTarget;
          onNext();
        }}
        disabled={!hasNext || busy}
        ref={next}
      >
        Next →
      </button>
    </nav>
  );
}
