/** The product fields of CONTRACT §1 and the words the UI uses for them and for change actions. */
export const PRODUCT_FIELDS = ["sku", "name", "description", "price", "currency", "quantity", "active", "brand", "category", "barcode"] as const;
export type ProductField = (typeof PRODUCT_FIELDS)[number];

/** The longest SKU (CONTRACT §1); the API answers 422 for a longer one, in a path or a `sku` filter. */
export const SKU_MAX_LENGTH = 64;

export const FIELD_LABELS: Record<string, string> = {
  sku: "SKU",
  name: "Name",
  description: "Description",
  price: "Price",
  currency: "Currency",
  quantity: "Quantity",
  active: "Active",
  brand: "Brand",
  category: "Category",
  barcode: "Barcode",
  attributes: "Attributes",
  attribute: "Keep as attribute",
  ignore: "Ignore",
};

export function fieldLabel(f: string): string {
  return FIELD_LABELS[f] ?? f;
}

/** `create`, `update`, `unchanged`, `deactivate` (a replace), `delete` (an edit or a revert). */
export const ACTION_LABELS: Record<string, string> = {
  create: "Create",
  update: "Update",
  unchanged: "Unchanged",
  deactivate: "Deactivate",
  delete: "Delete",
};
