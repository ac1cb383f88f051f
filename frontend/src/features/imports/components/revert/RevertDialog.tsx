import { useState } from "react";
import { Dialog } from "@/components/Dialog";
import { ErrorMessage, Loading } from "@/components/Feedback";
import { Field } from "@/components/Field";
import { errorMessage } from "@/lib/api";
import { formatCount } from "@/lib/format";
import { useChangeSummary, useRevertImport } from "../../api/changes";
import type { Import } from "../../api/schemas";

/**
 * Says what a revert will do (from the import's changes: N products deleted, M restored) and asks for the
 * file name, typed, before it starts.
 */
export function RevertDialog({ imp, onClose, onStarted }: { imp: Import; onClose: () => void; onStarted: () => void }) {
  const summary = useChangeSummary(imp.id);
  const revert = useRevertImport();
  const [typed, setTyped] = useState("");
  const [error, setError] = useState<string | null>(null);
  const ok = typed.trim() === imp.filename;
  const created = summary.data?.create ?? imp.products_created ?? 0;
  const restored = (summary.data?.update ?? imp.products_updated ?? 0) + (summary.data?.deactivate ?? imp.products_deactivated);

  const run = async () => {
    if (!ok) return;
    setError(null);
    try {
      await revert.mutateAsync(imp.id);
      onStarted();
    } catch (err) {
      setError(errorMessage(err));
    }
  };

  return (
    <Dialog title={`Revert ${imp.filename}?`} onClose={onClose} testId="revert-dialog">
      <form
        className="form"
        onSubmit={(e) => {
          e.preventDefault();
          void run();
        }}
      >
        {summary.isLoading ? <Loading label="Counting what this import changed…" /> : null}
        {summary.error ? <ErrorMessage error={summary.error} title="Could not count the changes." /> : null}
        <p>The catalogue goes back to what it was before this import:</p>
        <ul className="revert-plan" data-testid="revert-plan">
          <li>
            <strong data-testid="revert-deleted">{formatCount(created)}</strong> product{created === 1 ? "" : "s"} it created will be
            deleted;
          </li>
          <li>
            <strong data-testid="revert-restored">{formatCount(restored)}</strong> product{restored === 1 ? "" : "s"} it changed will get
            their previous values back{imp.products_deactivated > 0 ? " (deactivated ones are reactivated)" : ""}.
          </li>
        </ul>
        <p className="muted small">
          A product changed since by a later import or by hand is left as it is and listed as a conflict. The import and its
          history stay.
        </p>
        <Field label={`Type the file name “${imp.filename}” to confirm`}>
          <input value={typed} onChange={(e) => setTyped(e.target.value)} autoComplete="off" spellCheck={false} data-autofocus />
        </Field>
        {error ? (
          <div className="alert alert--error" role="alert">
            {error}
          </div>
        ) : null}
        <div className="dialog__actions">
          <button type="button" className="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="button button--danger" disabled={!ok || revert.isPending}>
            {revert.isPending ? "Starting…" : "Revert import"}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
