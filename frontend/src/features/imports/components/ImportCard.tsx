import { Link } from "react-router-dom";
import { StatusBadge } from "@/components/StatusBadge";
import { countOf, formatDateTime } from "@/lib/format";
import { pathSegment } from "@/lib/api";
import type { Import } from "../api/schemas";
import { ImportProgress, ImportStats } from "./ImportStats";
import { encodingLabel, profileLabel } from "./labels";

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
        {imp.mode === "preview" ? "Preview · " : ""}
        {imp.source === "s3-drop" ? `Partner drop${imp.partner ? ` (${imp.partner})` : ""}` : "Upload"} · {formatDateTime(imp.created_at)}
        {imp.profile && imp.profile !== "generic" ? ` · ${profileLabel(imp.profile)}` : ""}
        {imp.encoding && imp.encoding !== "utf-8" ? ` · ${encodingLabel(imp.encoding)}` : ""}
        {imp.warnings.length > 0 ? ` · ${countOf(imp.warnings.length, "warning")}` : ""}
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
