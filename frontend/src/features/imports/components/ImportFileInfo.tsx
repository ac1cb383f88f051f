import { countOf } from "@/lib/format";
import { HELD_WARNING, isFinished, PLANNED_HELD_WARNING, type Import } from "../api/schemas";
import { encodingLabel, fieldLabel, profileLabel } from "./labels";
import { TARGETS } from "../api/mappings";
import { mappingEntries } from "./mapping/columnPlan";

/**
 * The saved mapping that applied: the mapping's "id" (CONTRACT §1). A mapping sent with the import (none saved
 * applied) may name a column "id"; its value is then a target ("sku", "attribute"…), not a saved mapping's id,
 * and the column is listed (it was hidden, and the import said "a saved mapping").
 */
function savedMappingOf(mapping: Record<string, unknown> | null): string | null {
  const id = mapping?.id;
  if (typeof id === "number") return String(id);
  if (typeof id !== "string" || (TARGETS as readonly string[]).includes(id.trim().toLowerCase())) return null;
  return id;
}

/** How the file was read (CONTRACT §1): encoding, profile, mapping, skipped rows, and the import's warnings. */
export function ImportFileInfo({ imp }: { imp: Import }) {
  // A held replace has its own panel (ReplaceHeld with the admin's button; in a preview, PlannedReplaceHeld next
  // to Apply): its warning, which tells API users what to POST, would repeat it in other words.
  const held = imp.replace?.status === "held";
  const heldWarning = imp.mode === "preview" ? (imp.status === "previewed" ? PLANNED_HELD_WARNING : null) : HELD_WARNING;
  const warnings = imp.warnings.filter((w) => !(held && heldWarning && w.startsWith(heldWarning)));
  const savedMappingId = savedMappingOf(imp.mapping);
  const mapping = imp.mapping ? mappingEntries(imp.mapping).filter(([k]) => !(k === "id" && savedMappingId !== null)) : [];
  const unknown = <span className="muted">{isFinished(imp) ? "not recorded" : "not read yet"}</span>;
  return (
    <section aria-labelledby="file-info-title" className="card file-info" data-testid="file-info">
      <h2 id="file-info-title" className="h3">
        How the file was read
      </h2>
      <dl className="facts">
        <div data-testid="fact-encoding">
          <dt>Encoding</dt>
          <dd>{imp.encoding ? encodingLabel(imp.encoding) : unknown}</dd>
        </div>
        <div data-testid="fact-profile">
          <dt>Profile</dt>
          <dd>{imp.profile ? profileLabel(imp.profile) : unknown}</dd>
        </div>
        <div data-testid="fact-skipped">
          <dt>Rows skipped</dt>
          <dd>
            {imp.rows_skipped.toLocaleString("en-US")}
            <span className="muted small"> blank rows and rows the profile leaves out</span>
          </dd>
        </div>
        {imp.partner ? (
          <div data-testid="fact-partner">
            <dt>Partner</dt>
            <dd className="mono">{imp.partner}</dd>
          </div>
        ) : null}
        {imp.mode === "preview" ? (
          <div>
            <dt>Mode</dt>
            <dd>Preview (nothing written to the catalogue)</dd>
          </div>
        ) : null}
      </dl>
      {mapping.length > 0 ? (
        <details className="mapping-used" data-testid="mapping-used">
          <summary>
            Column mapping{savedMappingId ? " (a saved mapping)" : ""}: {countOf(mapping.length, "column")}
          </summary>
          <ul className="plain-list">
            {mapping.map(([header, target]) => (
              <li key={header}>
                <code>{header}</code> → {typeof target === "string" ? fieldLabel(target) : JSON.stringify(target)}
              </li>
            ))}
          </ul>
        </details>
      ) : null}
      {warnings.length > 0 ? (
        <div className="alert alert--warn" role="status" data-testid="import-warnings">
          <div>
            <strong>
              {countOf(warnings.length, "warning")} about this file
            </strong>
            <ul className="plain-list">
              {warnings.map((w, i) => (
                <li key={`${i}-${w}`}>{w}</li>
              ))}
            </ul>
          </div>
        </div>
      ) : null}
    </section>
  );
}
