import { useQueryClient } from "@tanstack/react-query";
import { useRef, useState } from "react";
import { Link, useNavigate } from "react-router-dom";
import { Can } from "@/components/Can";
import { ConfirmDialog } from "@/components/Dialog";
import { ErrorMessage, Notice } from "@/components/Feedback";
import { useFocusBackAfter } from "@/components/focusBack";
import { errorMessage, isNotFound, isTransientError, pathSegment } from "@/lib/api";
import { quoted } from "@/lib/format";
import { useApplyPreview, useChangeSummary, useDiscardImport } from "../../api/changes";
import { useMarkUploadDiscarded } from "../../api/uploadsContext";
import { importKeys } from "../../api/imports";
import { groupToApplyOrDiscard, type Import } from "../../api/schemas";
import { PlannedReplaceHeld } from "../revert/ReplaceHeld";
import { ChangeCards } from "./ChangeCards";
import { ChangesTable } from "./ChangesTable";
import { FieldChart } from "./FieldChart";

/**
 * A preview's page (issue 13): what the file would do to the catalogue — cards, changed fields, every change
 * with before → after — and Apply / Discard. Nothing is written until Apply.
 */
export function PreviewPanel({ imp }: { imp: Import }) {
  const navigate = useNavigate();
  const client = useQueryClient();
  const ready = imp.status === "previewed";
  const summary = useChangeSummary(imp.id, ready);
  const apply = useApplyPreview();
  const discard = useDiscardImport();
  const markDiscarded = useMarkUploadDiscarded();
  const [confirmDiscard, setConfirmDiscard] = useState(false);
  const [actionError, setActionError] = useState<string | null>(null);
  // Apply is disabled while it runs, which drops its focus to <body>: a failure brings it back (to the message)
  const applyButton = useRef<HTMLButtonElement>(null);
  const actionAlert = useRef<HTMLDivElement>(null);
  useFocusBackAfter(apply.isPending, applyButton, actionAlert);

  const onApply = async () => {
    setActionError(null);
    try {
      const created = await apply.mutateAsync(imp.id);
      navigate(`/imports/${pathSegment(created.id)}`);
    } catch (err) {
      if (isNotFound(err)) {
        // discarded meanwhile (another tab, the command line): there is nothing left here to apply
        markDiscarded(imp.id);
        navigate("/", { state: { flash: `The preview of ${quoted(imp.filename)} was discarded meanwhile, so nothing was imported. Drop the file again to preview it.` } });
        return;
      }
      if (isTransientError(err)) {
        // the answer may have been lost after the server applied it: ask for the preview again (its
        // `applied_as` then says so, and the message below gives way to the link to the import)
        void client.invalidateQueries({ queryKey: importKeys.detail(imp.id) });
      }
      setActionError(`Could not apply the preview: ${errorMessage(err)}`);
    }
  };
  // a refusal shows in the confirm dialog, which stays open
  const onDiscard = async () => {
    setActionError(null);
    const { alreadyGone } = await discard.mutateAsync(imp.id);
    markDiscarded(imp.id);
    const flash = alreadyGone ? `The preview of ${quoted(imp.filename)} was already discarded.` : `Discarded the preview of ${quoted(imp.filename)}.`;
    navigate("/", { state: { flash } });
  };

  return (
    <section className="preview" aria-label="Preview" data-testid="preview">
      {imp.applied_as ? (
        <Notice tone="success">
          This preview was applied: <Link to={`/imports/${pathSegment(imp.applied_as)}`}>see the import</Link>.
        </Notice>
      ) : ready ? (
        <div className="preview__bar card">
          <p className="preview__lead">
            <strong>Nothing has been written yet.</strong> This is what importing the file would do to the catalogue now.
          </p>
          <Can
            group={groupToApplyOrDiscard(imp)}
            fallback={<span className="muted small">Applying or discarding it needs the {groupToApplyOrDiscard(imp)} group.</span>}
          >
            <div className="page__actions">
              <button type="button" className="button" onClick={() => setConfirmDiscard(true)} disabled={apply.isPending || discard.isPending}>
                Discard
              </button>
              <button
                type="button"
                className="button button--primary"
                onClick={() => void onApply()}
                disabled={apply.isPending || discard.isPending}
                ref={applyButton}
              >
                {apply.isPending ? "Applying…" : "Apply"}
              </button>
            </div>
          </Can>
        </div>
      ) : imp.status === "failed" ? null : (
        <Notice>Reading and checking every row against the catalogue; nothing is written to products.</Notice>
      )}
      {ready ? <PlannedReplaceHeld imp={imp} /> : null}
      {actionError && !imp.applied_as ? (
        <div className="alert alert--error" role="alert" tabIndex={-1} ref={actionAlert}>
          {actionError}
        </div>
      ) : null}

      {ready ? (
        <>
          <ChangeCards imp={imp} planned />
          {summary.error ? <ErrorMessage error={summary.error} onRetry={() => void summary.refetch()} title="Could not load the summary." /> : null}
          {summary.data ? (
            <div className="card">
              <FieldChart fields={summary.data.fields} updated={summary.data.update} deactivated={summary.data.deactivate} />
            </div>
          ) : null}
          <ChangesTable
            key={imp.id}
            importId={imp.id}
            planned
            counts={summary.data ? { create: summary.data.create, update: summary.data.update, unchanged: summary.data.unchanged, deactivate: summary.data.deactivate } : undefined}
          />
        </>
      ) : null}

      {confirmDiscard ? (
        <ConfirmDialog
          title="Discard this preview?"
          message={<p>The preview of “{imp.filename}” and its planned changes are removed. The catalogue stays as it is.</p>}
          confirmLabel="Discard preview"
          busy={discard.isPending}
          onConfirm={onDiscard}
          onCancel={() => setConfirmDiscard(false)}
        />
      ) : null}
    </section>
  );
}
