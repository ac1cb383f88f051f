import { REQUIRED_FIELDS, TARGETS, type Suggestion } from "../../api/mappings";

/** The user's choice per column of the file (by position: two columns may share a name). */
export interface ColumnChoice {
  header: string;
  samples: string[];
  suggested: string;
  target: string;
}

export function choicesFrom(suggestion: Suggestion): ColumnChoice[] {
  return suggestion.columns.map((c) => ({ header: c.header, samples: c.samples, suggested: c.field, target: c.field }));
}

export function isEdited(choices: ColumnChoice[]): boolean {
  return choices.some((c) => c.target !== c.suggested);
}

/** `{"<header as written>": target}`; a repeated header name keeps its first (leftmost) choice. */
export function mappingOf(choices: ColumnChoice[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const c of choices) if (!(c.header in out)) out[c.header] = c.target;
  return out;
}

/** Required fields no column feeds. */
export function missingFields(choices: ColumnChoice[]): string[] {
  const fed = new Set(choices.map((c) => c.target));
  return REQUIRED_FIELDS.filter((f) => !fed.has(f));
}

/** Fields fed by more than one column: `{field: [headers]}`. */
export function sharedFields(choices: ColumnChoice[]): Record<string, string[]> {
  const by: Record<string, string[]> = {};
  for (const c of choices) {
    if (c.target === "attribute" || c.target === "ignore") continue;
    (by[c.target] ??= []).push(c.header);
  }
  return Object.fromEntries(Object.entries(by).filter(([, headers]) => headers.length > 1));
}

export function defaultMappingName(filename: string): string {
  const base = filename.replace(/\.csv$/i, "").trim() || "file";
  return `Columns of ${base}`;
}

/**
 * A mapping's `[header, target]` pairs in an order a person reads: the file's column order where the header set
 * is known (`headers`), else by field (SKU, name, the other fields, then kept as attributes, then ignored). The
 * server's JSON keeps neither: it answered them ordered by the length of their names.
 */
export function mappingEntries<T>(mapping: Record<string, T>, headers?: readonly string[] | null): [string, T][] {
  const position = new Map((headers ?? []).map((h, i) => [h, i]));
  const rank = (target: T) => {
    const i = TARGETS.indexOf(target as (typeof TARGETS)[number]);
    return i < 0 ? TARGETS.length : i;
  };
  return Object.entries(mapping).sort(
    ([a, x], [b, y]) =>
      (position.get(a) ?? Infinity) - (position.get(b) ?? Infinity) || rank(x) - rank(y) || a.localeCompare(b),
  );
}
