import { useState } from "react";
import { useChangeSummary } from "../../api/changes";
import type { Import } from "../../api/schemas";
import { ChangesTable } from "./ChangesTable";
import { FieldChart } from "./FieldChart";

/** What a finished import changed (its audit trail): changed fields, and every change by SKU; loaded when opened. */
export function ImportChanges({ imp }: { imp: Import }) {
  const [open, setOpen] = useState(false);
  return (
    <details className="card import-changes" data-testid="import-changes" onToggle={(e) => setOpen(e.currentTarget.open)}>
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
        importId={id}
        planned={false}
        counts={summary.data ? { create: summary.data.create, update: summary.data.update, unchanged: summary.data.unchanged, deactivate: summary.data.deactivate } : undefined}
      />
    </>
  );
}
