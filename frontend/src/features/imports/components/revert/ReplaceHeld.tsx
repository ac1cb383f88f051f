import { useState } from "react";
import { Can } from "@/components/Can";
import { ConfirmDialog } from "@/components/Dialog";
import { usePermissions } from "@/lib/auth/permissions";
import { countOf, formatCount, pluralOf, sentence } from "@/lib/format";
import { useConfirmReplace } from "../../api/changes";
import { PLANNED_HELD_WARNING, type Import } from "../../api/schemas";

/** A replace held over its cap (CONTRACT §2 Replace): the warning, and the admin's confirm. */
export function ReplaceHeld({ imp }: { imp: Import }) {
  const confirm = useConfirmReplace();
  const [asking, setAsking] = useState(false);
  const admin = usePermissions().can("admin");
  const replace = imp.replace;
  if (!replace) return null;
  const held = replace.status === "held";
  const carriedOut = replace.status === "done";
  const scope = replace.scope === "partner" ? `products of ${imp.partner ?? "this partner"}` : "all products";

  // a preview's replace is planned, not carried out ("done" from an older API): nothing was deactivated yet
  if (replace.status === "planned" || (carriedOut && imp.mode === "preview")) {
    return (
      <p className="muted small" data-testid="replace-planned">
        Replace ({scope}): {countOf(imp.products_deactivated, "product")} missing from the file would be deactivated
        when the preview is applied.
      </p>
    );
  }

  if (carriedOut) {
    return (
      <p className="muted small" data-testid="replace-done">
        Replace ({scope}): {countOf(imp.products_deactivated, "product")} missing from the file deactivated.
      </p>
    );
  }
  // (the API says "cancelled" for a held replace whose import was reverted; "held" from an older API)
  if (replace.status === "cancelled" || (held && (imp.status === "reverting" || imp.status === "reverted"))) {
    // (the API refuses the confirm: the revert took the import back, and its replace with it)
    return (
      <p className="muted small" data-testid="replace-held-reverted">
        Replace ({scope}) was held and is not carried out: the import was reverted.
      </p>
    );
  }
  if (!held || imp.status === "previewed") return null;
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
        {count !== null ? `${countOf(count, "product")} in scope (${scope}) ${pluralOf(count, "is", "are")} not in this file` : `More products in scope (${scope}) than the cap allows are missing from this file`}
        {replace.max_deactivate_percent !== null ? `, over the ${replace.max_deactivate_percent} % cap` : ""}.{" "}
        {/* only an admin can confirm (CONTRACT §8): others are told who can, not offered an action they do not have */}
        {admin
          ? "Check the file, then deactivate them, or leave them as they are."
          : "They stay active unless an admin deactivates them here; ask one if the file is meant to be the whole catalogue."}
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
              {count !== null ? `${countOf(count, "product")}` : "The products"} in scope ({scope}) that “{imp.filename}” does not
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

/**
 * A preview whose replace would be held (CONTRACT §2 Replace): applied, it would deactivate none of the
 * products in scope that the file lacks, because they are more than the cap allows. Said next to Apply, with
 * the numbers from the import's `replace` (or, from a server that sends none, its warning), rather than
 * left to a "0 would be deactivated" card and a warning at the bottom of the page.
 */
export function PlannedReplaceHeld({ imp }: { imp: Import }) {
  const replace = imp.replace;
  if (replace?.status !== "held" || imp.mode !== "preview") return null;
  const scope = replace.scope === "partner" ? `products of ${imp.partner ?? "this partner"}` : "all products";
  const count = replace.would_deactivate;
  const cap = replace.max_deactivate_percent !== null ? `, more than the cap of ${replace.max_deactivate_percent} %` : ", more than the cap allows";
  const warning = imp.warnings.find((w) => w.startsWith(PLANNED_HELD_WARNING));
  let what: string;
  if (count !== null) {
    const share = replace.in_scope ? ` (${formatShare(count, replace.in_scope)} of the ${formatCount(replace.in_scope)} in scope)` : "";
    what = `${countOf(count, "product")} in scope (${scope})${share} ${pluralOf(count, "is", "are")} not in this file${cap}.`;
  } else if (warning) {
    what = sentence(warning.slice(PLANNED_HELD_WARNING.length).trim());
  } else {
    what = `More products in scope (${scope}) than the cap allows are not in this file.`;
  }
  return (
    <div className="alert alert--warn" data-testid="replace-would-be-held">
      <div>
        <strong>Replace would be held.</strong> {what} Applying deactivates none of them: the import's page then asks an
        admin to confirm the deactivation, or to leave them as they are.
      </div>
    </div>
  );
}

function formatShare(part: number, whole: number): string {
  return `${(Math.round((1000 * part) / whole) / 10).toLocaleString("en-US", { minimumFractionDigits: 1 })} %`;
}
