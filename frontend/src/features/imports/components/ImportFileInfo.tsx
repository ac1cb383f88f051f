import { isFinished, type Import } from "../api/schemas";
import { encodingLabel, fieldLabel, profileLabel } from "./labels";

/** How the warning of a held replace begins (pipeline/finish.py REPLACE_HELD). */
const REPLACE_HELD_WARNING = "replace held:";

/** How the file was read (CONTRACT §1): encoding, profile, mapping, skipped rows, and the import's warnings. */
export function ImportFileInfo({ imp }: { imp: Import }) {
  // A held replace has its own panel with the admin's button (ReplaceHeld): its warning, which tells API
  // users what to POST, would repeat it in other words.
  const heldPanel = imp.replace?.status === "held" && imp.status !== "previewed";
  const warnings = imp.warnings.filter((w) => !(heldPanel && w.startsWith(REPLACE_HELD_WARNING)));
  const mapping = imp.mapping ? Object.entries(imp.mapping).filter(([k]) => k !== "id") : [];
  const unknown = <span className="muted">{isFinished(imp) ? "not recorded" : "not read yet"}</span>;
  const savedMappingId = typeof imp.mapping?.id === "string" || typeof imp.mapping?.id === "number" ? String(imp.mapping.id) : null;
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
            Column mapping{savedMappingId ? " (a saved mapping)" : ""}: {mapping.length} column{mapping.length === 1 ? "" : "s"}
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
              {warnings.length === 1 ? "1 warning" : `${warnings.length} warnings`} about this file
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
