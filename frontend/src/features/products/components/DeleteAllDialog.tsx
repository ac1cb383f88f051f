import { TypedConfirmDialog } from "@/components/Dialog";
import { useDeleteAllProducts } from "../api/products";

export const DELETE_ALL_PHRASE = "delete all products";

export function DeleteAllDialog({ onClose, onDeleted }: { onClose: () => void; onDeleted: (count: number | null) => void }) {
  const deleteAll = useDeleteAllProducts();
  return (
    <TypedConfirmDialog
      title="Delete all products?"
      testId="delete-all-dialog"
      onClose={onClose}
      fieldLabel={`Type “${DELETE_ALL_PHRASE}” to confirm`}
      confirms={(typed) => typed.trim().toLowerCase() === DELETE_ALL_PHRASE}
      onConfirm={async () => {
        const res = await deleteAll.mutateAsync();
        onDeleted(res?.deleted ?? null);
      }}
      confirmLabel="Delete all products"
      pending={deleteAll.isPending}
      pendingLabel="Deleting…"
    >
      <p>
        This removes <strong>every product</strong> in the catalogue. Imports and their history stay. It cannot be undone.
      </p>
    </TypedConfirmDialog>
  );
}
