import { formatCount, pluralOf } from "@/lib/format";
import { fieldLabel } from "../labels";

/**
 * A bar per field: how many products it changes in (from `/changes/summary`). Plain CSS bars; the numbers
 * are text, so the chart reads the same without sight.
 */
export function FieldChart({ fields, updated, deactivated = 0 }: { fields: Record<string, number>; updated: number; deactivated?: number }) {
  // a replace's deactivations change `active` too: the share is of every product whose fields change
  const total = updated + deactivated;
  const ofWhat = deactivated > 0 ? "updated or deactivated" : "updated";
  const rows = Object.entries(fields)
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const max = Math.max(1, ...rows.map(([, n]) => n));
  return (
    <figure className="field-chart" data-testid="field-chart">
      <figcaption className="h4">Changed fields</figcaption>
      {rows.length === 0 ? (
        <p className="muted">No field changes in any existing product.</p>
      ) : (
        <ul className="field-chart__rows">
          {rows.map(([field, n]) => (
            <li key={field} className="field-chart__row" data-testid="field-bar" data-field={field} data-count={n}>
              <span className="field-chart__label">{fieldLabel(field)}</span>
              <span className="field-chart__track" aria-hidden="true">
                <span className="field-chart__bar" style={{ width: `${Math.max(2, (n / max) * 100)}%` }} />
              </span>
              <span className="field-chart__count">
                {formatCount(n)}
                <span className="visually-hidden"> {pluralOf(n, "product")}{total > 0 ? ` of ${formatCount(total)} ${ofWhat}` : ""}</span>
              </span>
            </li>
          ))}
        </ul>
      )}
    </figure>
  );
}
