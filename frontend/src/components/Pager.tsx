import { useEffect, useRef } from "react";
import { useFocusBackAfter } from "./focusBack";

export interface PagerProps {
  page: number;
  hasPrevious: boolean;
  hasNext: boolean;
  /** `pointer`: pressed with a mouse or a finger (not a key), so the page's new rows may be out of sight. */
  onPrevious: (how: { pointer: boolean }) => void;
  onNext: (how: { pointer: boolean }) => void;
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
          onPrevious({ pointer: e.detail > 0 }); // (a key's click has no clicks to count)
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
          onNext({ pointer: e.detail > 0 });
        }}
        disabled={!hasNext || busy}
        ref={next}
      >
        Next →
      </button>
    </nav>
  );
}
