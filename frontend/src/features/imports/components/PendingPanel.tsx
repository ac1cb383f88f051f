import { useState } from "react";
import { useNavigate } from "react-router-dom";
import { Can } from "@/components/Can";
import { ConfirmDialog } from "@/components/Dialog";
import { usePermissions } from "@/lib/auth/permissions";
import { quoted } from "@/lib/format";
import { useDiscardImport } from "../api/changes";
import { useMarkUploadDiscarded } from "../api/uploadsContext";
import { groupToApplyOrDiscard, type Import } from "../api/schemas";

/**
 * An import still waiting for its file (its upload was cut off: a reload, a closed tab, a lost connection).
 * It can be discarded (CONTRACT §3: `DELETE /api/imports/{id}` on a `pending` import); left alone it ends
 * failed, "upload expired", after 24 hours.
 */
export function PendingPanel({ imp }: { imp: Import }) {
  const navigate = useNavigate();
  const discard = useDiscardImport();
  const markDiscarded = useMarkUploadDiscarded();
  const [confirming, setConfirming] = useState(false);
  const group = groupToApplyOrDiscard(imp);
  const mayDiscard = usePermissions().can(group);

  // a refusal shows in the confirm dialog, which stays open
  const onDiscard = async () => {
    const { alreadyGone } = await discard.mutateAsync(imp.id);
    markDiscarded(imp.id);
    const flash = alreadyGone ? `The import of ${quoted(imp.filename)} was already discarded.` : `Discarded the import of ${quoted(imp.filename)}.`;
    navigate("/", { state: { flash } });
  };

  return (
    <div className="alert" role="status" data-testid="pending">
      <div>
        Waiting for the file to arrive in storage… If its upload was interrupted (the page was reloaded or closed),{" "}
        {mayDiscard ? "discard this import and upload the file again" : `someone in the ${group} group can discard it and upload the file again`};
        otherwise it ends failed after 24 hours.
      </div>
      <Can group={group}>
        <button type="button" className="button" onClick={() => setConfirming(true)} disabled={discard.isPending}>
          Discard
        </button>
      </Can>
      {confirming ? (
        <ConfirmDialog
          title="Discard this import?"
          message={<p>The import of “{imp.filename}” is removed. Nothing was imported from it.</p>}
          confirmLabel="Discard import"
          busy={discard.isPending}
          onConfirm={onDiscard}
          onCancel={() => setConfirming(false)}
        />
      ) : null}
    </div>
  );
}
