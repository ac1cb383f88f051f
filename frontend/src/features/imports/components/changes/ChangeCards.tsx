import { formatCount } from "@/lib/format";
import type { Import } from "../../api/schemas";

/** The preview's (or import's) outcome in five numbers, plus deactivations where a replace ran. */
export function ChangeCards({ imp, planned }: { imp: Import; planned: boolean }) {
  const cards: { key: string; label: string; value: number | null; tone: string; hint: string }[] = [
    { key: "create", label: planned ? "Would be created" : "Created", value: imp.products_created, tone: "create", hint: "new SKUs" },
    { key: "update", label: planned ? "Would be updated" : "Updated", value: imp.products_updated, tone: "update", hint: "at least one field changes" },
    { key: "unchanged", label: "Unchanged", value: imp.products_unchanged, tone: "unchanged", hint: "already as in the file" },
    { key: "skipped", label: "Rows skipped", value: imp.rows_skipped, tone: "unchanged", hint: "blank rows, rows the profile leaves out" },
    { key: "errors", label: "Row errors", value: imp.rows_failed, tone: (imp.rows_failed ?? 0) > 0 ? "bad" : "unchanged", hint: "rows that will not be imported" },
  ];
  if (imp.replace?.status === "held") {
    // none is (or would be) deactivated: the replace is held over its cap. The card says how many wait.
    const cap = imp.replace.max_deactivate_percent;
    cards.splice(3, 0, {
      key: "deactivate",
      label: planned ? "Would be held" : "Held, not deactivated",
      value: imp.replace.would_deactivate,
      tone: "deactivate",
      hint: `in scope but not in the file: over the ${cap !== null ? `${cap} % ` : ""}cap, so none is deactivated until an admin confirms`,
    });
  } else if (imp.replace || imp.products_deactivated > 0) {
    cards.splice(3, 0, {
      key: "deactivate",
      label: planned ? "Would be deactivated" : "Deactivated",
      value: imp.products_deactivated,
      tone: "deactivate",
      hint: "in scope but not in the file",
    });
  }
  return (
    <ul className="change-cards" aria-label={planned ? "What this import will do" : "What this import did"}>
      {cards.map((c) => (
        <li key={c.key} className={`change-card change-card--${c.tone}`} data-testid={`card-${c.key}`}>
          <span className="change-card__value">{formatCount(c.value)}</span>
          <span className="change-card__label">{c.label}</span>
          <span className="change-card__hint">{c.hint}</span>
        </li>
      ))}
    </ul>
  );
}
