import { useState } from "react";
import { Dialog } from "@/components/Dialog";
import { Field } from "@/components/Field";
import { errorMessage } from "@/lib/api";
import { useDeleteAllProducts } from "../api/products";

export const DELETE_ALL_PHRASE = "delete all products";

export function DeleteAllDialog({ onClose, onDeleted }: { onClose: () => void; onDeleted: (count: number | null) => void }) {
  const [typed, setTyped] = useState("");
  const deleteAll = useDeleteAllProducts();
  const [error, setError] = useState<string | null>(null);
  const ok = typed.trim().toLowerCase() === DELETE_ALL_PHRASE;

  const run = async () => {
    if (!ok) return;
    setError(null);
    try {
      const res = await deleteAll.mutateAsync();
      onDeleted(res?.deleted ?? null);
    } catch (err) {
      setError(errorMessage(err));
    }
  };

  return (
    <Dialog title="Delete all products?" onClose={onClose} testId="delete-all-dialog">
      <form
        className="form"
        onSubmit={(e) => {
          e.preventDefault();
          void run();
        }}
      >
        <p>
          This removes <strong>every product</strong> in the catalogue. Imports and their history stay. It cannot be undone.
        </p>
        <Field label={`Type “${DELETE_ALL_PHRASE}” to confirm`}>
          <input value={typed} onChange={(e) => setTyped(e.target.value)} autoComplete="off" data-autofocus />
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
          <button type="submit" className="button button--danger" disabled={!ok || deleteAll.isPending}>
            {deleteAll.isPending ? "Deleting…" : "Delete all products"}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
