import { useState } from "react";
import { Can } from "@/components/Can";
import { ConfirmDialog } from "@/components/Dialog";
import { EmptyState, Notice } from "@/components/Feedback";
import { Field } from "@/components/Field";
import { PagedList } from "@/components/PagedList";
import { usePermissions } from "@/lib/auth/permissions";
import { useDocumentTitle } from "@/lib/title";
import { countOf, quoted } from "@/lib/format";
import { useCursorPager } from "@/lib/paging";
import { useUrlFilters } from "@/lib/urlFilters";
import { useDeleteProduct, useProductsPage } from "../api/products";
import { emptyFilters, FILTER_MAX_LENGTH, type Product, type ProductFilters } from "../api/schemas";
import { DeleteAllDialog } from "./DeleteAllDialog";
import { ProductFormDialog } from "./ProductFormDialog";
import { ProductHistoryDialog } from "./ProductHistoryDialog";
import { ProductTable } from "./ProductTable";

export const SEARCH_DEBOUNCE_MS = 300;

/** The filters a URL carries (`?q=lamp&active=false`): a search can be shared, and Back returns to it. */
function filtersFrom(params: URLSearchParams): ProductFilters {
  const active = params.get("active");
  // (a shared URL may carry more than the API takes: the filters keep what fits)
  const text = (key: keyof typeof FILTER_MAX_LENGTH) => (params.get(key) ?? emptyFilters[key]).slice(0, FILTER_MAX_LENGTH[key]);
  return {
    q: text("q"),
    active: active === "true" || active === "false" ? active : emptyFilters.active,
    brand: text("brand"),
    category: text("category"),
  };
}

export function ProductsPage() {
  useDocumentTitle("Products");
  const { filters, setFilters, debounced } = useUrlFilters(filtersFrom, SEARCH_DEBOUNCE_MS);
  const pager = useCursorPager(JSON.stringify(debounced));
  const page = useProductsPage(debounced, pager.cursor);
  const permissions = usePermissions();
  const canEdit = permissions.can("admin");

  const [editing, setEditing] = useState<Product | null | "new">(null);
  const [deleting, setDeleting] = useState<Product | null>(null);
  const [history, setHistory] = useState<Product | null>(null);
  const remove = useDeleteProduct();
  const [deleteAll, setDeleteAll] = useState(false);
  const [flash, setFlash] = useState<string | null>(null);

  const set = (key: keyof ProductFilters, value: string) => setFilters((f) => ({ ...f, [key]: value }));
  const filtered = Object.values(debounced).some((v) => v.trim() !== "");

  return (
    <div className="page">
      <header className="page__head page__head--row">
        <div>
          <h1>Products</h1>
          <p className="page__lead">The catalogue, as imports and manual edits left it.</p>
        </div>
        <Can group="admin">
          <div className="page__actions">
            <button type="button" className="button button--primary" onClick={() => setEditing("new")}>
              New product
            </button>
            <button type="button" className="button button--danger-outline" onClick={() => setDeleteAll(true)}>
              Delete all products
            </button>
          </div>
        </Can>
      </header>

      <form className="filters" role="search" aria-label="Filter products" onSubmit={(e) => e.preventDefault()}>
        <Field label="Search" className="filters__search">
          <input
            type="search"
            placeholder="SKU prefix, or words of the name or description"
            maxLength={FILTER_MAX_LENGTH.q}
            value={filters.q}
            onChange={(e) => set("q", e.target.value)}
          />
        </Field>
        <Field label="Status">
          <select value={filters.active} onChange={(e) => set("active", e.target.value)}>
            <option value="">All</option>
            <option value="true">Active</option>
            <option value="false">Inactive</option>
          </select>
        </Field>
        <Field label="Brand">
          <input value={filters.brand} onChange={(e) => set("brand", e.target.value)} maxLength={FILTER_MAX_LENGTH.brand} />
        </Field>
        <Field label="Category">
          <input value={filters.category} onChange={(e) => set("category", e.target.value)} maxLength={FILTER_MAX_LENGTH.category} />
        </Field>
        {Object.values(filters).some((v) => v !== "") ? (
          <button type="button" className="button button--ghost filters__clear" onClick={() => setFilters(emptyFilters)}>
            Clear filters
          </button>
        ) : null}
      </form>

      {flash ? (
        <div className="flash">
          <Notice tone="success">{flash}</Notice>
          <button type="button" className="button button--small button--ghost" onClick={() => setFlash(null)} aria-label="Dismiss message">
            ×
          </button>
        </div>
      ) : null}

      <PagedList
        query={page}
        pager={pager}
        loadingLabel="Loading products…"
        errorTitle="Could not load products."
        empty={
          filtered ? (
            <EmptyState title="No products match">Try another search or clear the filters.</EmptyState>
          ) : (
            <EmptyState title="No products yet">
              {/* what this user can do about it: admins import or add, importers import, viewers wait */}
              {canEdit
                ? "Import a CSV file on the Imports page, or add one with “New product”."
                : permissions.can("importer")
                  ? "Import a CSV file on the Imports page."
                  : "Products show here once someone in the importer group imports a file."}
            </EmptyState>
          )
        }
        pagerLabel="Product pages"
      >
        {(items) => (
          <ProductTable
            products={items}
            busy={page.isFetching}
            onEdit={canEdit ? setEditing : null}
            onDelete={canEdit ? setDeleting : null}
            onHistory={setHistory}
          />
        )}
      </PagedList>

      {editing !== null ? (
        <ProductFormDialog
          product={editing === "new" ? null : editing}
          onClose={() => setEditing(null)}
          onSaved={(p, changed = true) => {
            setFlash(editing === "new" ? `Created ${quoted(p.sku)}.` : changed ? `Saved ${quoted(p.sku)}.` : `Nothing changed in ${quoted(p.sku)}.`);
            setEditing(null);
          }}
        />
      ) : null}
      {deleting ? (
        <ConfirmDialog
          title={`Delete ${quoted(deleting.sku)}?`}
          message={
            <p>
              “{deleting.name}” will be removed from the catalogue. A later import that contains this SKU creates it again.
            </p>
          }
          confirmLabel="Delete product"
          busy={remove.isPending}
          onConfirm={async () => {
            const { alreadyGone } = await remove.mutateAsync(deleting.sku);
            setFlash(alreadyGone ? `${quoted(deleting.sku)} was already deleted.` : `Deleted ${quoted(deleting.sku)}.`);
            setDeleting(null);
          }}
          onCancel={() => setDeleting(null)}
        />
      ) : null}
      {history ? <ProductHistoryDialog sku={history.sku} onClose={() => setHistory(null)} /> : null}
      {deleteAll ? (
        <DeleteAllDialog
          onClose={() => setDeleteAll(false)}
          onDeleted={(count) => {
            setDeleteAll(false);
            setFlash(count === null ? "All products were deleted." : `Deleted ${countOf(count, "product")}.`);
            pager.first();
          }}
        />
      ) : null}
    </div>
  );
}
