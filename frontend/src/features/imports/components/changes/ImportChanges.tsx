import { useState } from "react";
import { useSearchParams } from "react-router-dom";
import { useChangeSummary } from "../../api/changes";
import type { Import } from "../../api/schemas";
import { changeFiltersFrom, ChangesTable } from "./ChangesTable";
import { FieldChart } from "./FieldChart";

/**
 * What a finished import changed (its audit trail): changed fields, and every change by SKU; loaded when opened,
 * and open from the start when the URL carries the table's filters (a reload or Back after filtering).
 */
export function ImportChanges({ imp }: { imp: Import }) {
  const [params] = useSearchParams();
  const [open, setOpen] = useState(() => Object.values(changeFiltersFrom(params)).some((v) => v !== ""));
  return (
    <details className="card import-changes" data-testid="import-changes" open={open} onToggle={(e) => setOpen(e.currentTarget.open)}>
      <summary className="h3">What this import changed</summary>
      {open ? <ChangesBody id={imp.id} /> : null}
    </details>
  );
}

function ChangesBody({ id }: { id: string }) {
  const summary = useChangeSummary(id);
  return (
    <>
      {summary.data ? <FieldChart fields={summary.data.fields} updated={summary.data.update} deactivated={summary.data.deactivate} /> : null}
      <ChangesTable
        key={id}
        importId={id}
        planned={false}
        counts={summary.data ? { create: summary.data.create, update: summary.data.update, unchanged: summary.data.unchanged, deactivate: summary.data.deactivate } : undefined}
      />
    </>
  );
}
