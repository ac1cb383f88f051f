const intFormat = new Intl.NumberFormat("en-US");

export function formatCount(n: number | null | undefined): string {
  return n === null || n === undefined ? "–" : intFormat.format(n);
}

/**
 * A decimal string (a price as the API stores it: "8", "5.5", "19.9900") with at least `minDecimals`
 * decimals and the further ones it really has ("1.2345" stays, "19.9900" is "19.99"). Done on the digits,
 * never through a float, so no value gains or loses a cent. Anything that is not a plain decimal is returned
 * as it came.
 */
export function formatDecimal(value: string, minDecimals = 2): string {
  const m = /^\s*([-+]?)(\d*)(?:\.(\d*))?\s*$/.exec(value);
  if (!m || (m[2] === "" && !m[3])) return value;
  const sign = m[1] === "-" ? "-" : "";
  const whole = m[2]!.replace(/^0+(?=\d)/, "") || "0";
  const fraction = (m[3] ?? "").replace(/0+$/, "").padEnd(minDecimals, "0");
  return fraction ? `${sign}${whole}.${fraction}` : `${sign}${whole}`;
}

/**
 * A size in binary units, named as such (1 KiB = 1,024 bytes): "5 GiB" for 5,368,709,120 bytes, "1.5 MiB",
 * "800 B". One decimal below 100 where it says something ("2 KiB", not "2.0 KiB"); every size text in the UI
 * goes through here.
 */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let v = bytes / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  const rounded = v >= 100 ? Math.round(v) : Math.round(v * 10) / 10;
  // (1023.96 KiB rounds to 1024: say 1 MiB)
  if (rounded >= 1024 && i < units.length - 1) return `1 ${units[i + 1]}`;
  return `${intFormat.format(rounded)} ${units[i]}`;
}

/**
 * "1 product", "70,008 products": a count in a sentence, with the noun in the form the count needs (English
 * plural rules, so 0 and 1.5 take the plural). `plural` defaults to the noun plus "s".
 */
export function countOf(n: number | null | undefined, singular: string, plural = `${singular}s`): string {
  return `${formatCount(n)} ${pluralOf(n ?? 0, singular, plural)}`;
}

const pluralRules = new Intl.PluralRules("en-US");

/** The noun (or verb, pronoun…) alone in the form that `n` needs: pluralOf(1, "is", "are") = "is". */
export function pluralOf(n: number, singular: string, plural = `${singular}s`): string {
  return pluralRules.select(n) === "one" ? singular : plural;
}

/** A server's message as a sentence of the UI: capital first, full stop last ("the file is empty" → "The file is empty."). */
export function sentence(text: string): string {
  const t = text.trim();
  if (!t) return t;
  const upper = t.charAt(0).toUpperCase() + t.slice(1);
  return /[.!?…]$/.test(upper) ? upper : `${upper}.`;
}

/** A value quoted in a sentence, so that one made of dots or spaces still reads as a value: Saved “..”. */
export function quoted(value: string): string {
  return `“${value}”`;
}

export function formatDuration(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms) || ms < 0) return "–";
  const s = ms / 1000;
  if (s < 10) return `${s.toFixed(1)} s`;
  if (s < 60) return `${Math.round(s)} s`;
  const m = Math.floor(s / 60);
  const rest = Math.round(s % 60);
  if (m < 60) return `${m} min ${rest} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return "–";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString("en-GB", { dateStyle: "medium", timeStyle: "medium" });
}

export function percent(part: number | null | undefined, whole: number | null | undefined): number | null {
  if (part === null || part === undefined || !whole) return null;
  return Math.max(0, Math.min(100, (part / whole) * 100));
}
