import { useState } from "react";
import { ACTION_LABELS, PRODUCT_FIELDS, fieldLabel } from "@/lib/fields";
import { formatDecimal } from "@/lib/format";

/** One field's value before and after (CONTRACT §2 Changes); `attributes` lists only the changed keys. */
export interface FieldChange {
  from?: unknown;
  to?: unknown;
}

export interface ChangeRecord {
  action: string;
  changes: Record<string, FieldChange>;
}

export function ActionPill({ action }: { action: string }) {
  return <span className={`pill pill--action pill--${action}`}>{ACTION_LABELS[action] ?? action}</span>;
}

/** Text longer than this shows its start and its length, with a button for the rest (a 20,000-character
 * description made a history dialog thousands of pixels tall). */
export const SHOWN_CHARACTERS = 300;

function LongText({ text }: { text: string }) {
  const [open, setOpen] = useState(false);
  const length = [...text].length;
  if (length <= SHOWN_CHARACTERS) return <>{text}</>;
  return (
    <>
      {open ? text : [...text].slice(0, SHOWN_CHARACTERS).join("") + "…"}{" "}
      <button type="button" className="button button--small button--ghost" onClick={() => setOpen((o) => !o)}>
        {open ? "Show less" : `Show all ${length.toLocaleString("en-US")} characters`}
      </button>
    </>
  );
}

function show(value: unknown) {
  if (value === null || value === undefined || value === "") return <em className="muted">empty</em>;
  if (typeof value === "boolean") return value ? "yes" : "no";
  if (typeof value === "number") return String(value);
  return <LongText text={typeof value === "string" ? value : JSON.stringify(value)} />;
}

function price(value: unknown): unknown {
  return typeof value === "string" || typeof value === "number" ? formatDecimal(String(value)) : value;
}

function asRecord(v: unknown): Record<string, unknown> {
  return v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

/** One field's before → after, highlighted; `before` is left out for a product that did not exist. */
function Diff({ label, from, to, created }: { label: string; from: unknown; to: unknown; created: boolean }) {
  return (
    <div className="diff" data-testid="diff" data-field={label}>
      <span className="diff__field">{label}</span>{" "}
      {created ? null : (
        <>
          <del className="diff__from">
            <span className="visually-hidden">before: </span>
            {show(from)}
          </del>
          <span aria-hidden="true"> → </span>
        </>
      )}
      <ins className="diff__to">
        <span className="visually-hidden">{created ? "value: " : "after: "}</span>
        {show(to)}
      </ins>
    </div>
  );
}

/** Where a field comes in a list of changes: the product's order (price next to currency), attributes last. */
function fieldRank(field: string): number {
  const i = (PRODUCT_FIELDS as readonly string[]).indexOf(field);
  return i < 0 ? PRODUCT_FIELDS.length : i;
}

/**
 * Every changed field of one change record (`attributes` key by key), in the product's field order: the
 * API answers the fields as stored, ordered by name length (name, brand, price, active, …, description).
 */
export function ChangeDiffs({ change }: { change: ChangeRecord }) {
  const created = change.action === "create";
  const entries = Object.entries(change.changes).sort(([a], [b]) => fieldRank(a) - fieldRank(b) || a.localeCompare(b));
  if (entries.length === 0) {
    return <span className="muted small">{created ? "new product" : change.action === "unchanged" ? "no change" : "–"}</span>;
  }
  return (
    <div className="diffs">
      {entries.flatMap(([field, c]) => {
        if (field === "attributes") {
          const from = asRecord(c.from);
          const to = asRecord(c.to);
          const keys = [...new Set([...Object.keys(from), ...Object.keys(to)])].sort((a, b) => a.localeCompare(b));
          return keys.map((k) => <Diff key={`attr-${k}`} label={`${fieldLabel("attributes")}: ${k}`} from={from[k]} to={to[k]} created={created} />);
        }
        // prices read as the product table shows them ("8.00", not "8" next to "7.50")
        const value = field === "price" ? price : (v: unknown) => v;
        return [<Diff key={field} label={fieldLabel(field)} from={value(c.from)} to={value(c.to)} created={created} />];
      })}
    </div>
  );
}
