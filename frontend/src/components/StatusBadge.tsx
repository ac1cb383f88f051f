const LABELS: Record<string, string> = {
  pending: "Pending",
  processing: "Processing",
  completed: "Completed",
  failed: "Failed",
  previewed: "Previewed",
  reverting: "Reverting",
  reverted: "Reverted",
};

/** A coloured pill for an import status; the text, not the colour, carries the meaning. */
export function StatusBadge({ status, warn = false }: { status: string; warn?: boolean }) {
  const tone = status === "completed" && warn ? "completed-warn" : status;
  return (
    <span className={`badge badge--${tone}`} data-testid="status-badge" data-status={status}>
      {LABELS[status] ?? status}
    </span>
  );
}
