/** Words for the values the import object carries (CONTRACT §1, §2). */
export const PROFILE_LABELS: Record<string, string> = {
  generic: "Generic CSV",
  shopify: "Shopify export",
  woocommerce: "WooCommerce export",
  magento: "Magento export",
};

export const ENCODING_LABELS: Record<string, string> = {
  "utf-8": "UTF-8",
  "utf-16": "UTF-16",
  "windows-1252": "Windows-1252",
};

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

export function profileLabel(p: string | null): string {
  return p ? (PROFILE_LABELS[p] ?? p) : "–";
}

export function encodingLabel(e: string | null): string {
  return e ? (ENCODING_LABELS[e] ?? e) : "–";
}

export function fieldLabel(f: string): string {
  return FIELD_LABELS[f] ?? f;
}
