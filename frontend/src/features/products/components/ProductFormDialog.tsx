import { useState } from "react";
import { FormDialog } from "@/components/Dialog";
import { Field } from "@/components/Field";
import { ApiError, errorMessage } from "@/lib/api";
import { SKU_MAX_LENGTH } from "@/lib/fields";
import { quoted } from "@/lib/format";
import { ProductExistsError, useSaveProduct } from "../api/products";
import type { Product } from "../api/schemas";
import {
  blankProduct,
  changedInput,
  inputFromValues,
  PRODUCT_FIELDS,
  validateProduct,
  valuesFromProduct,
  type ProductFormValues,
} from "./productForm";

export interface ProductFormDialogProps {
  /** The product to edit, or null to create one. */
  product: Product | null;
  onClose: () => void;
  onSaved: (product: Product, changed?: boolean) => void;
}

export function ProductFormDialog({ product, onClose, onSaved }: ProductFormDialogProps) {
  const editing = product !== null;
  const [values, setValues] = useState<ProductFormValues>(product ? valuesFromProduct(product) : blankProduct);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [general, setGeneral] = useState<string[]>([]);
  const save = useSaveProduct();

  const set = <K extends keyof ProductFormValues>(key: K, value: ProductFormValues[K]) =>
    setValues((v) => ({ ...v, [key]: value }));

  const onSubmit = async () => {
    const local = validateProduct(values);
    setErrors(local);
    setGeneral([]);
    if (Object.keys(local).length > 0) {
      focusFirstInvalid();
      return;
    }
    try {
      if (product) {
        const changed = changedInput(valuesFromProduct(product), values);
        if (Object.keys(changed).length === 0) {
          onSaved(product, false); // nothing changed: no request, no change record
          return;
        }
        onSaved(await save.mutateAsync({ sku: product.sku, input: changed, existing: product }));
        return;
      }
      const saved = await save.mutateAsync({ sku: values.sku.trim(), input: inputFromValues(values), existing: null });
      onSaved(saved);
    } catch (err) {
      if (err instanceof ProductExistsError) {
        setErrors({ sku: err.message });
        focusFirstInvalid();
      } else if (err instanceof ApiError && err.fieldErrors.length > 0) {
        setErrors(err.byField());
        setGeneral(err.generalMessages(PRODUCT_FIELDS));
        focusFirstInvalid();
      } else {
        setGeneral([errorMessage(err)]);
      }
    }
  };

  return (
    <FormDialog
      title={editing ? `Edit ${quoted(product.sku)}` : "New product"}
      testId="product-form-dialog"
      onClose={onClose}
      onSubmit={() => void onSubmit()}
      formLabel={editing ? "Edit product" : "New product"}
      noValidate
      messages={general}
      submitLabel={editing ? "Save changes" : "Create product"}
      pending={save.isPending}
    >
      <div className="form__grid">
        <Field label="SKU" error={errors.sku} hint={editing ? "The SKU identifies the product and cannot change." : undefined}>
          <input
            value={values.sku}
            onChange={(e) => set("sku", e.target.value)}
            readOnly={editing}
            required
            maxLength={SKU_MAX_LENGTH}
            autoComplete="off"
            data-autofocus={editing ? undefined : true}
          />
        </Field>
        <Field label="Name" error={errors.name}>
          <input value={values.name} onChange={(e) => set("name", e.target.value)} required data-autofocus={editing ? true : undefined} />
        </Field>
        <Field label="Price" error={errors.price} hint="e.g. 19.99 — leave empty for no price">
          <input value={values.price} onChange={(e) => set("price", e.target.value)} inputMode="decimal" autoComplete="off" />
        </Field>
        <Field label="Currency" error={errors.currency}>
          <input value={values.currency} onChange={(e) => set("currency", e.target.value)} maxLength={3} autoComplete="off" />
        </Field>
        <Field label="Quantity" error={errors.quantity}>
          <input value={values.quantity} onChange={(e) => set("quantity", e.target.value)} inputMode="numeric" autoComplete="off" />
        </Field>
        <Field label="Barcode" error={errors.barcode}>
          <input value={values.barcode} onChange={(e) => set("barcode", e.target.value)} autoComplete="off" />
        </Field>
        <Field label="Brand" error={errors.brand}>
          <input value={values.brand} onChange={(e) => set("brand", e.target.value)} />
        </Field>
        <Field label="Category" error={errors.category}>
          <input value={values.category} onChange={(e) => set("category", e.target.value)} />
        </Field>
        <Field label="Description" error={errors.description} className="form__wide">
          <textarea value={values.description} onChange={(e) => set("description", e.target.value)} rows={3} />
        </Field>
        <div className="form__wide checkbox">
          <input id="product-active" type="checkbox" checked={values.active} onChange={(e) => set("active", e.target.checked)} />
          <label htmlFor="product-active">Active (visible to shoppers)</label>
          {errors.active ? <span className="field__error">{errors.active}</span> : null}
        </div>
      </div>
      {editing && Object.keys(product.attributes).length > 0 ? (
        <details className="attributes">
          <summary>Other columns from imports ({Object.keys(product.attributes).length})</summary>
          <dl>
            {Object.entries(product.attributes).map(([k, v]) => (
              <div key={k}>
                <dt>{k}</dt>
                <dd>{typeof v === "string" ? v : JSON.stringify(v)}</dd>
              </div>
            ))}
          </dl>
        </details>
      ) : null}
    </FormDialog>
  );
}

function focusFirstInvalid() {
  requestAnimationFrame(() => {
    document.querySelector<HTMLElement>('[role="dialog"] [aria-invalid="true"]')?.focus();
  });
}
