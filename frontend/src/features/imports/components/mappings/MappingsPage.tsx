import { useState } from "react";
import { ConfirmDialog } from "@/components/Dialog";
import { EmptyState, Notice } from "@/components/Feedback";
import { PagedList } from "@/components/PagedList";
import { usePermissions } from "@/lib/auth/permissions";
import { useDocumentTitle } from "@/lib/title";
import { countOf, formatDateTime } from "@/lib/format";
import { useCursorPager } from "@/lib/paging";
import { useDeleteMapping, useMappings, type SavedMapping } from "../../api/mappings";
import { fieldLabel, profileLabel } from "../labels";
import { mappingEntries } from "../mapping/columnPlan";
import { MappingFormDialog } from "./MappingFormDialog";

/** Saved mappings (CONTRACT §3): by header set for uploads, by drop prefix for partners; edit or delete. */
export function MappingsPage() {
  useDocumentTitle("Mappings");
  const { can } = usePermissions();
  const pager = useCursorPager("mappings");
  const q = useMappings(pager.cursor);
  const [editing, setEditing] = useState<SavedMapping | "new" | null>(null);
  const [deleting, setDeleting] = useState<SavedMapping | null>(null);
  const [flash, setFlash] = useState<string | null>(null);
  const remove = useDeleteMapping();
  // importers manage mappings by header set; partner (prefix) mappings are for admins (CONTRACT §8)
  const mayChange = (m: SavedMapping) => (m.prefix ? can("admin") : can("importer"));

  return (
    <div className="page">
      <header className="page__head page__head--row">
        <div>
          <h1>Mappings</h1>
          <p className="page__lead">
            Saved column mappings. One saved for a set of columns applies by itself to every upload with the same columns; one
            bound to a partner's folder applies to that partner's drops.
          </p>
        </div>
        {can("admin") ? (
          <div className="page__actions">
            <button type="button" className="button button--primary" onClick={() => setEditing("new")}>
              New partner mapping
            </button>
          </div>
        ) : null}
      </header>
      {flash ? <Notice tone="success">{flash}</Notice> : null}
      <PagedList
        query={q}
        pager={pager}
        loadingLabel="Loading mappings…"
        errorTitle="Could not load mappings."
        empty={
          <EmptyState title="No saved mappings yet">
            {can("importer")
              ? "Tick “Remember this mapping” in the mapping step of an upload to save one."
              : "Mappings show here once someone in the importer group saves one in an upload's mapping step."}
          </EmptyState>
        }
        pagerLabel="Mapping pages"
      >
        {(items) => (
          <ul className="mapping-list" data-testid="mapping-list">
            {items.map((m) => {
              const entries = mappingEntries(m.mapping, m.headers);
              const facts = [
                m.headers ? `${countOf(m.headers.length, "column")}: ${m.headers.join(", ")}` : null,
                m.profile ? `profile ${profileLabel(m.profile)}` : null,
                m.replace ? `replace (${m.replace.scope ?? "all"}, hold over ${m.replace.max_deactivate_percent ?? 20} %)` : null,
                m.updated_at ? `changed ${formatDateTime(m.updated_at)}` : null,
              ].filter(Boolean);
              return (
                <li key={m.id} className="card mapping-card" data-testid="mapping-row" data-mapping-id={m.id}>
                  <div className="mapping-card__head">
                    <h2 className="h3 break">{m.name}</h2>
                    {m.prefix ? (
                      <span className="pill pill--partner">
                        Partner drops: <code>{m.prefix}</code>
                      </span>
                    ) : (
                      <span className="pill pill--off">Uploads with these columns</span>
                    )}
                  </div>
                  {facts.length > 0 ? <p className="muted small">{facts.join(" · ")}</p> : null}
                  {entries.length > 0 ? (
                    <ul className="mapping-card__entries">
                      {entries.map(([header, target]) => (
                        <li key={header}>
                          <code>{header}</code> → {fieldLabel(target)}
                        </li>
                      ))}
                    </ul>
                  ) : null}
                  {mayChange(m) ? (
                    <div className="mapping-card__actions">
                      <button type="button" className="button button--small" onClick={() => setEditing(m)} aria-label={`Edit ${m.name}`}>
                        Edit
                      </button>
                      <button
                        type="button"
                        className="button button--small button--danger-outline"
                        onClick={() => setDeleting(m)}
                        aria-label={`Delete ${m.name}`}
                      >
                        Delete
                      </button>
                    </div>
                  ) : null}
                </li>
              );
            })}
          </ul>
        )}
      </PagedList>
      {editing !== null ? (
        <MappingFormDialog
          mapping={editing === "new" ? null : editing}
          canAdmin={can("admin")}
          onClose={() => setEditing(null)}
          onSaved={(m) => {
            setFlash(`Saved the mapping “${m.name}”.`);
            setEditing(null);
          }}
        />
      ) : null}
      {deleting ? (
        <ConfirmDialog
          title={`Delete “${deleting.name}”?`}
          message={
            <p>
              {deleting.prefix
                ? `Drops under ${deleting.prefix} will be read by their headers alone again.`
                : "Uploads with these columns will get the suggested reading again."}{" "}
              Imports already made keep their mapping.
            </p>
          }
          confirmLabel="Delete mapping"
          busy={remove.isPending}
          onConfirm={async () => {
            const { alreadyGone } = await remove.mutateAsync(deleting.id);
            setFlash(alreadyGone ? `The mapping “${deleting.name}” was already deleted.` : `Deleted the mapping “${deleting.name}”.`);
            setDeleting(null);
          }}
          onCancel={() => setDeleting(null)}
        />
      ) : null}
    </div>
  );
}
