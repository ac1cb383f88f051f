import { TypedConfirmDialog } from "@/components/Dialog";
import { ErrorMessage, Loading } from "@/components/Feedback";
import { formatCount, pluralOf, quoted } from "@/lib/format";
import { useChangeSummary, useRevertImport } from "../../api/changes";
import type { Import } from "../../api/schemas";

/**
 * Whether the typed name is the file's name: trimmed and NFC-normalised on both sides, since a file named on
 * macOS comes in decomposed (NFD: "e" + U+0301) and a keyboard types "é" composed.
 */
export function sameName(typed: string, filename: string): boolean {
  return typed.trim().normalize("NFC") === filename.trim().normalize("NFC");
}

/**
 * Says what a revert will do (from the import's changes: N products deleted, M restored) and asks for the
 * file name, typed, before it starts.
 */
export function RevertDialog({ imp, onClose, onStarted }: { imp: Import; onClose: () => void; onStarted: () => void }) {
  const summary = useChangeSummary(imp.id);
  const revert = useRevertImport();
  const created = summary.data?.create ?? imp.products_created ?? 0;
  const restored = (summary.data?.update ?? imp.products_updated ?? 0) + (summary.data?.deactivate ?? imp.products_deactivated);

  return (
    <TypedConfirmDialog
      title={`Revert ${quoted(imp.filename)}?`}
      testId="revert-dialog"
      onClose={onClose}
      fieldLabel={`Type the file name “${imp.filename}” to confirm`}
      confirms={(typed) => sameName(typed, imp.filename)}
      onConfirm={async () => {
        await revert.mutateAsync(imp.id);
        onStarted();
      }}
      confirmLabel="Revert import"
      pending={revert.isPending}
      pendingLabel="Starting…"
      spellCheck={false}
    >
      {summary.isLoading ? <Loading label="Counting what this import changed…" /> : null}
      {summary.error ? <ErrorMessage error={summary.error} title="Could not count the changes." /> : null}
      <p>The catalogue goes back to what it was before this import:</p>
      <ul className="revert-plan" data-testid="revert-plan">
        <li>
          <strong data-testid="revert-deleted">{formatCount(created)}</strong> {pluralOf(created, "product")} it created will be deleted;
        </li>
        <li>
          <strong data-testid="revert-restored">{formatCount(restored)}</strong> {pluralOf(restored, "product")} it changed will get {pluralOf(restored, "its", "their")}{" "}
          previous values back{imp.products_deactivated > 0 ? " (deactivated ones are reactivated)" : ""}.
        </li>
      </ul>
      <p className="muted small">
        A product written since by a later import (even one that left it unchanged, such as the same file imported again)
        or by hand keeps what that write set and is listed as a conflict, so these numbers are at most what happens. The
        import and its history stay.
      </p>
    </TypedConfirmDialog>
  );
}
