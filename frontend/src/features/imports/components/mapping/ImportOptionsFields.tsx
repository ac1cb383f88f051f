import { Field } from "@/components/Field";
import { isPartnerFolder } from "@/lib/partner";
import type { ImportOptions } from "../../api/imports";

/** The import form's other options, as the user typed them. */
export interface OptionsForm {
  maxErrors: string;
  replace: boolean;
  scope: "all" | "partner";
  maxDeactivate: string;
  partner: string;
}

export const blankOptionsForm: OptionsForm = { maxErrors: "", replace: false, scope: "all", maxDeactivate: "20", partner: "" };

/** The options for `POST /api/imports`, or what is wrong with them (CONTRACT §2 Replace, §3). */
export function optionsFromForm(form: OptionsForm): { options: ImportOptions; errors: Record<string, string> } {
  const options: ImportOptions = {};
  const errors: Record<string, string> = {};
  const maxErrors = form.maxErrors.trim();
  if (maxErrors) {
    if (/^\d+$/.test(maxErrors)) options.max_errors = Number(maxErrors);
    else errors.maxErrors = "A whole number ≥ 0, or empty for no limit.";
  }
  const partner = form.partner.trim();
  if (partner) {
    if (isPartnerFolder(partner)) options.partner = partner;
    else errors.partner = "The partner's folder name under incoming/: at most 255 characters, without “/”.";
  }
  if (form.replace) {
    const pct = Number(form.maxDeactivate.trim());
    if (form.maxDeactivate.trim() === "" || !Number.isFinite(pct) || pct < 0 || pct > 100) {
      errors.maxDeactivate = "A percentage from 0 to 100.";
    } else {
      options.replace = { scope: form.scope, max_deactivate_percent: pct };
    }
    if (form.scope === "partner" && !partner) errors.partner = "Replace of one partner's products needs the partner.";
  }
  return { options, errors };
}

export interface ImportOptionsFieldsProps {
  idPrefix: string;
  value: OptionsForm;
  onChange: (v: OptionsForm) => void;
  errors: Record<string, string>;
  /** Replace and partner are for admins (CONTRACT §8). */
  canAdmin: boolean;
}

/** "More options": a row-error limit for everyone; replace mode (with its cap) and the partner for admins. */
export function ImportOptionsFields({ idPrefix, value, onChange, errors, canAdmin }: ImportOptionsFieldsProps) {
  const set = <K extends keyof OptionsForm>(k: K, v: OptionsForm[K]) => onChange({ ...value, [k]: v });
  const id = (name: string) => `${idPrefix}-${name}`;
  return (
    <details className="import-options" data-testid="import-options">
      <summary>More options{canAdmin ? ": row-error limit, replace mode, partner" : ": row-error limit"}</summary>
      <div className="import-options__body">
        <Field label="Stop after this many row errors" error={errors.maxErrors}>
          <input inputMode="numeric" value={value.maxErrors} onChange={(e) => set("maxErrors", e.target.value)} placeholder="no limit" />
        </Field>
        {canAdmin ? (
          <>
            <fieldset className="fieldset replace-options">
              <legend className="field__label">Replace mode</legend>
              <div className="checkbox">
                <input id={id("replace")} type="checkbox" checked={value.replace} onChange={(e) => set("replace", e.target.checked)} />
                <label htmlFor={id("replace")}>Deactivate products in scope that this file does not contain</label>
              </div>
              {value.replace ? (
                <div className="replace-options__grid">
                  <Field label="Scope">
                    <select value={value.scope} onChange={(e) => set("scope", e.target.value as OptionsForm["scope"])}>
                      <option value="all">All products</option>
                      <option value="partner">Products of this partner's imports</option>
                    </select>
                  </Field>
                  <Field
                    label="Hold if more than this % would be deactivated"
                    error={errors.maxDeactivate}
                    hint="Over the cap nothing is deactivated until you confirm on the import's page."
                  >
                    <input type="number" min={0} max={100} value={value.maxDeactivate} onChange={(e) => set("maxDeactivate", e.target.value)} />
                  </Field>
                </div>
              ) : null}
            </fieldset>
            <Field label="Partner (optional)" error={errors.partner}>
              <input value={value.partner} onChange={(e) => set("partner", e.target.value)} autoComplete="off" placeholder="e.g. acme" />
            </Field>
          </>
        ) : null}
      </div>
    </details>
  );
}
