import { useEffect, useState } from "react";
import { ProgressBar } from "@/components/ProgressBar";
import { formatCount, formatDuration, percent } from "@/lib/format";
import { importDurationMs, importThroughput, isFinished, type Import } from "../api/schemas";

/** Re-render every second while an import runs, so duration and throughput tick. */
function useNow(active: boolean): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!active) return;
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, [active]);
  return now;
}

/** A count the API does not know yet. */
const NOT_YET = "–";

export function importProgress(imp: Import): number | null {
  if (imp.status === "completed") return 100;
  const byRows = percent(imp.rows_processed, imp.rows_total);
  if (byRows !== null) return byRows;
  return percent(imp.chunks_done, imp.chunks_total);
}

export function ImportProgress({ imp }: { imp: Import }) {
  // a failed import with no known total stops the bar where it is (0), instead of spinning forever
  const value = imp.status === "pending" ? 0 : imp.status === "failed" ? (importProgress(imp) ?? 0) : importProgress(imp);
  const tone = imp.status === "failed" ? "danger" : imp.status === "completed" ? ((imp.rows_failed ?? 0) > 0 ? "warn" : "success") : "default";
  const text =
    imp.rows_total !== null
      ? `${formatCount(imp.rows_processed ?? 0)} / ${formatCount(imp.rows_total)} rows`
      : imp.status === "pending"
        ? "Waiting for the file"
        : imp.status === "failed"
          ? "Stopped"
          : `${formatCount(imp.rows_processed ?? 0)} rows`;
  return <ProgressBar value={value} label={`Progress of ${imp.filename}`} valueText={text} tone={tone} testId="import-progress" />;
}

export function ImportStats({ imp }: { imp: Import }) {
  const running = !isFinished(imp);
  const now = useNow(running && imp.started_at !== null);
  const duration = importDurationMs(imp, now);
  const throughput = importThroughput(imp, now);
  // A preview writes nothing: its counts are what an import would do (CONTRACT §2).
  const preview = imp.mode === "preview";
  // A preview counts products when it ends (the API says 0 until then), and a replace deactivates only after
  // every row: until then "0" would be a claim, so those counts show "–".
  const productsCounted = !preview || imp.status === "previewed";
  const deactivationsCounted = productsCounted && isFinished(imp);
  const products = (n: number | null, counted = productsCounted) => (counted ? formatCount(n) : NOT_YET);
  const stats: [string, string, string][] = [
    ["processed", "Processed", `${formatCount(imp.rows_processed)} / ${formatCount(imp.rows_total)}`],
    ["imported", preview ? "Valid rows" : "Imported", formatCount(imp.rows_imported)],
    ["failed", "Failed", formatCount(imp.rows_failed)],
    ["skipped", "Skipped", formatCount(imp.rows_skipped)],
    ["created", preview ? "Would create" : "Created", products(imp.products_created)],
    ["updated", preview ? "Would update" : "Updated", products(imp.products_updated)],
    ["unchanged", "Unchanged", products(imp.products_unchanged)],
    ...(imp.replace || imp.products_deactivated > 0
      ? ([["deactivated", preview ? "Would deactivate" : "Deactivated", products(imp.products_deactivated, deactivationsCounted)]] as [string, string, string][])
      : []),
    ["duration", "Duration", formatDuration(duration)],
    ["throughput", "Throughput", throughput === null ? "–" : `${formatCount(Math.round(throughput))} rows/s`],
  ];
  return (
    <dl className={`stats stats--${stats.length}`}>
      {stats.map(([key, label, value]) => (
        <div key={key} className={`stat${key === "failed" && (imp.rows_failed ?? 0) > 0 ? " stat--bad" : ""}`} data-testid={`stat-${key}`}>
          <dt>{label}</dt>
          <dd title={value === NOT_YET ? "Counted when the run ends" : undefined}>{value}</dd>
        </div>
      ))}
    </dl>
  );
}
