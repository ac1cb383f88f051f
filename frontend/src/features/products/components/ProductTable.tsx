import { formatDecimal, quoted } from "@/lib/format";
import { PHONE_QUERY, useMediaQuery } from "@/lib/media";
import type { Product } from "../api/schemas";

export function formatPrice(p: Pick<Product, "price" | "currency">): string {
  if (p.price === null) return "–";
  return `${formatDecimal(p.price)} ${p.currency}`;
}

export interface ProductTableProps {
  products: Product[];
  busy: boolean;
  /** null: the user may not edit (CONTRACT §8: admins edit and delete products). */
  onEdit: ((p: Product) => void) | null;
  onDelete: ((p: Product) => void) | null;
  onHistory: (p: Product) => void;
}

/** History, and for admins Edit and Delete, of one product. */
function RowActions({ p, onEdit, onDelete, onHistory }: { p: Product } & Pick<ProductTableProps, "onEdit" | "onDelete" | "onHistory">) {
  return (
    <>
      <button type="button" className="button button--small button--ghost" onClick={() => onHistory(p)} aria-label={`History of ${quoted(p.sku)}`}>
        History
      </button>
      {onEdit ? (
        <button type="button" className="button button--small" onClick={() => onEdit(p)} aria-label={`Edit ${quoted(p.sku)}`}>
          Edit
        </button>
      ) : null}
      {onDelete ? (
        <button type="button" className="button button--small button--danger-outline" onClick={() => onDelete(p)} aria-label={`Delete ${quoted(p.sku)}`}>
          Delete
        </button>
      ) : null}
    </>
  );
}

export function ProductTable({ products, busy, onEdit, onDelete, onHistory }: ProductTableProps) {
  // on a phone the row's buttons go under its name: in a column of their own they sat off-screen, to the right
  // of a table only a sideways scroll (nothing hinted at) brought them into view
  const phone = useMediaQuery(PHONE_QUERY);
  return (
    <div className="table-wrap" tabIndex={0} role="region" aria-label="Products table">
      <table className="table table--products" data-testid="product-table" aria-busy={busy}>
        <thead>
          <tr>
            <th scope="col">SKU</th>
            <th scope="col">Name</th>
            <th scope="col" className="num">Price</th>
            <th scope="col" className="num">Qty</th>
            <th scope="col" className="hide-sm">Brand</th>
            <th scope="col" className="hide-sm">Category</th>
            <th scope="col" className="hide-sm">Status</th>
            {phone ? null : (
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            )}
          </tr>
        </thead>
        <tbody>
          {products.map((p) => (
            <tr key={p.sku} data-testid="product-row" data-sku={p.sku}>
              <td className="mono cell-sku">{p.sku}</td>
              <td className="cell-name">
                {p.name}
                {p.active ? null : <span className="pill pill--off show-sm"> Inactive</span>}
                {phone ? (
                  <div className="row-actions" data-testid="row-actions">
                    <RowActions p={p} onEdit={onEdit} onDelete={onDelete} onHistory={onHistory} />
                  </div>
                ) : null}
              </td>
              <td className="num">{formatPrice(p)}</td>
              <td className="num">{p.quantity}</td>
              <td className="hide-sm">{p.brand ?? <span className="muted">–</span>}</td>
              <td className="hide-sm">{p.category ?? <span className="muted">–</span>}</td>
              <td className="hide-sm">
                <span className={`pill ${p.active ? "pill--on" : "pill--off"}`}>{p.active ? "Active" : "Inactive"}</span>
              </td>
              {phone ? null : (
                <td className="actions">
                  <RowActions p={p} onEdit={onEdit} onDelete={onDelete} onHistory={onHistory} />
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
