import { Link } from "react-router-dom";
import { StatusBadge } from "@/components/StatusBadge";
import { countOf, formatDateTime } from "@/lib/format";
import { pathSegment } from "@/lib/api";
import type { Import } from "../api/schemas";
import { ImportProgress, ImportStats } from "./ImportStats";
import { encodingLabel, profileLabel } from "./labels";

/** A finished import whose replace waits for an admin's confirm (its page says more and offers it). */
function isReplaceHeld(imp: Import): boolean {
  return imp.mode === "import" && imp.status === "completed" && imp.replace?.status === "held" && !imp.replace.confirmed_at;
}

export function ImportCard({ imp }: { imp: Import }) {
  return (
    <li className="import-card" data-testid="import-row" data-import-id={imp.id} data-status={imp.status}>
      <div className="import-card__head">
        <Link to={`/imports/${pathSegment(imp.id)}`} className="import-card__name">
          {imp.filename}
        </Link>
        <span aria-live="polite">
          <StatusBadge status={imp.status} warn={(imp.rows_failed ?? 0) > 0} />
        </span>
      </div>
      <p className="import-card__meta">
        {/* an applied preview stays "previewed": say it was applied, so nobody takes it for one still to apply */}
        {imp.mode === "preview" ? (imp.applied_as ? "Preview, applied · " : "Preview · ") : imp.preview_of ? "Applied from a preview · " : ""}
        {imp.source === "s3-drop" ? `Partner drop${imp.partner ? ` (${imp.partner})` : ""}` : "Upload"} · {formatDateTime(imp.created_at)}
        {imp.profile && imp.profile !== "generic" ? ` · ${profileLabel(imp.profile)}` : ""}
        {imp.encoding && imp.encoding !== "utf-8" ? ` · ${encodingLabel(imp.encoding)}` : ""}
        {imp.warnings.length > 0 ? ` · ${countOf(imp.warnings.length, "warning")}` : ""}
        {isReplaceHeld(imp) ? " · replace held: nothing deactivated yet" : ""}
      </p>
      <ImportProgress imp={imp} />
      <ImportStats imp={imp} />
      {imp.status === "failed" && imp.error ? (
        <p className="import-card__error">
          <strong>Why it failed:</strong> {imp.error}
        </p>
      ) : null}
    </li>
  );
}
