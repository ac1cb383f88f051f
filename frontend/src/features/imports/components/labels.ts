/** Words for the values the import object carries (CONTRACT §1, §2). */
export { fieldLabel } from "@/lib/fields";

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

export function profileLabel(p: string | null): string {
  return p ? (PROFILE_LABELS[p] ?? p) : "–";
}

export function encodingLabel(e: string | null): string {
  return e ? (ENCODING_LABELS[e] ?? e) : "–";
}
