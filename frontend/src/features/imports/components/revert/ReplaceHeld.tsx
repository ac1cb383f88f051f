import { useState } from "react";
import { Can } from "@/components/Can";
import { ConfirmDialog } from "@/components/Dialog";
import { formatCount } from "@/lib/format";
import { useConfirmReplace } from "../../api/changes";
import type { Import } from "../../api/schemas";

/** A replace held over its cap (CONTRACT §2 Replace): the warning, and the admin's confirm. */
export function ReplaceHeld({ imp }: { imp: Import }) {
  const confirm = useConfirmReplace();
  const [asking, setAsking] = useState(false);
  const replace = imp.replace;
  if (!replace) return null;
  const held = replace.status === "held";
  const carriedOut = replace.status === "done";
  const scope = replace.scope === "partner" ? `products of ${imp.partner ?? "this partner"}` : "all products";

  if (carriedOut) {
    return (
      <p className="muted small" data-testid="replace-done">
        Replace ({scope}): {formatCount(imp.products_deactivated)} product{imp.products_deactivated === 1 ? "" : "s"} missing from the file
        deactivated.
      </p>
    );
  }
  if (!held || imp.status === "previewed") return null;
  if (imp.status === "reverting" || imp.status === "reverted") {
    // (the API refuses the confirm: the revert took the import back, and its replace with it)
    return (
      <p className="muted small" data-testid="replace-held-reverted">
        Replace ({scope}) was held and is not carried out: the import was reverted.
      </p>
    );
  }
  if (replace.confirmed_at) {
    return (
      <p className="muted small" role="status" data-testid="replace-confirmed">
        Replace ({scope}) confirmed: deactivating the products missing from the file…
      </p>
    );
  }
  const count = replace.would_deactivate;
  // a refusal shows in the confirm dialog, which stays open
  const run = async () => {
    await confirm.mutateAsync(imp.id);
    setAsking(false);
  };
  return (
    <div className="alert alert--warn replace-held" role="status" data-testid="replace-held">
      <div>
        <strong>Replace held: nothing was deactivated.</strong>{" "}
        {count !== null ? `${formatCount(count)} products in scope (${scope}) are not in this file` : `More products in scope (${scope}) than the cap allows are missing from this file`}
        {replace.max_deactivate_percent !== null ? `, over the ${replace.max_deactivate_percent} % cap` : ""}. Check the file, then
        deactivate them, or leave them as they are.
      </div>
      <Can group="admin">
        <button type="button" className="button button--danger" onClick={() => setAsking(true)}>
          Deactivate them
        </button>
      </Can>
      {asking ? (
        <ConfirmDialog
          title="Deactivate the missing products?"
          message={
            <p>
              {count !== null ? `${formatCount(count)} products` : "The products"} in scope ({scope}) that “{imp.filename}” does not
              contain will be set inactive (never deleted). A revert of this import reactivates them.
            </p>
          }
          confirmLabel="Deactivate"
          busy={confirm.isPending}
          onConfirm={run}
          onCancel={() => setAsking(false)}
        />
      ) : null}
    </div>
  );
}
