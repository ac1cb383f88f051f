import type { Product, ProductInput } from "../api/schemas";

/** The form's raw strings, one per field. */
export interface ProductFormValues {
  sku: string;
  name: string;
  description: string;
  price: string;
  currency: string;
  quantity: string;
  active: boolean;
  brand: string;
  category: string;
  barcode: string;
}

export const PRODUCT_FIELDS = ["sku", "name", "description", "price", "currency", "quantity", "active", "brand", "category", "barcode"] as const;

export const blankProduct: ProductFormValues = {
  sku: "",
  name: "",
  description: "",
  price: "",
  currency: "USD",
  quantity: "0",
  active: true,
  brand: "",
  category: "",
  barcode: "",
};

export function valuesFromProduct(p: Product): ProductFormValues {
  return {
    sku: p.sku,
    name: p.name,
    description: p.description ?? "",
    price: p.price ?? "",
    currency: p.currency,
    quantity: String(p.quantity),
    active: p.active,
    brand: p.brand ?? "",
    category: p.category ?? "",
    barcode: p.barcode ?? "",
  };
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
/** Format characters (zero-width spaces and joiners, BOM, soft hyphen, direction marks): invisible in a SKU. */
const INVISIBLE = /\p{Cf}/u;
/** A price as a spreadsheet reads it: 12, 12.5, .5, 5. (at most 4 decimals). */
const PRICE = /^(\d+(\.\d{0,4})?|\.\d{1,4})$/;
/** CONTRACT §1: a description of up to 65,535 characters. */
export const MAX_DESCRIPTION = 65_535;

/** The contract's rules (CONTRACT §1), checked before sending; the API's 422 has the last word. */
export function validateProduct(v: ProductFormValues): Record<string, string> {
  const errors: Record<string, string> = {};
  const sku = v.sku.trim();
  if (!sku) errors.sku = "SKU is required.";
  else if (sku.length > 64) errors.sku = "SKU can have at most 64 characters.";
  else if (CONTROL.test(sku)) errors.sku = "SKU cannot contain control characters.";
  else if (INVISIBLE.test(sku)) errors.sku = "SKU contains an invisible character (a zero-width space or mark): remove it.";
  const name = v.name.trim();
  if (!name) errors.name = "Name is required.";
  else if (name.length > 255) errors.name = "Name can have at most 255 characters.";
  if ([...v.description].length > MAX_DESCRIPTION) {
    errors.description = "Description can have at most 65,535 characters.";
  }
  const price = v.price.trim();
  if (price && !PRICE.test(price)) {
    errors.price = "Price must be a number ≥ 0 with at most 4 decimals, using “.” and no thousands separators.";
  }
  if (v.currency.trim() && !/^[A-Za-z]{3}$/.test(v.currency.trim())) errors.currency = "Currency must be a 3-letter ISO 4217 code.";
  const qty = v.quantity.trim();
  if (qty && !/^\d+$/.test(qty)) errors.quantity = "Quantity must be a whole number ≥ 0.";
  for (const f of ["brand", "category", "barcode"] as const) {
    if (v[f].trim().length > 255) errors[f] = "At most 255 characters.";
  }
  return errors;
}

const orNull = (s: string) => (s.trim() === "" ? null : s.trim());

export function inputFromValues(v: ProductFormValues): ProductInput {
  return {
    name: v.name.trim(),
    description: v.description.trim() === "" ? null : v.description,
    price: orNull(v.price),
    currency: v.currency.trim() === "" ? "USD" : v.currency.trim().toUpperCase(),
    quantity: v.quantity.trim() === "" ? 0 : Number.parseInt(v.quantity.trim(), 10),
    active: v.active,
    brand: orNull(v.brand),
    category: orNull(v.category),
    barcode: orNull(v.barcode),
  };
}

const samePrice = (a: string | null, b: string | null) =>
  a === b || (a !== null && b !== null && Number(a) === Number(b));

/**
 * The fields an edit changes, for a PATCH of only those (an untouched field keeps its version, so saving
 * a form unchanged writes nothing and makes no change record). Prices compare as numbers (24.0 = 24.00).
 */
export function changedInput(before: ProductFormValues, after: ProductFormValues): Partial<ProductInput> {
  const was = inputFromValues(before);
  const now = inputFromValues(after);
  const changed: Partial<ProductInput> = {};
  for (const key of Object.keys(now) as (keyof ProductInput)[]) {
    const same = key === "price" ? samePrice(was.price, now.price) : was[key] === now[key];
    if (!same) Object.assign(changed, { [key]: now[key] });
  }
  return changed;
}
