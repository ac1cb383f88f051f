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

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KB", "MB", "GB", "TB"];
  let v = bytes / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v >= 100 ? 0 : 1)} ${units[i]}`;
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
