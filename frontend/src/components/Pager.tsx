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
  if (!hasPrevious && !hasNext) return null;
  return (
    <nav className="pager" aria-label={label}>
      <button type="button" className="button" onClick={onPrevious} disabled={!hasPrevious || busy}>
        ← Previous
      </button>
      <span className="pager__page" aria-live="polite">
        Page {page + 1}
      </span>
      <button type="button" className="button" onClick={onNext} disabled={!hasNext || busy}>
        Next →
      </button>
    </nav>
  );
}
