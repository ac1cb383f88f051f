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

const PARTNER = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

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
    if (PARTNER.test(partner)) options.partner = partner;
    else errors.partner = "Letters, digits, “.”, “_” and “-” (the partner's folder name under incoming/).";
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

function describedBy(...ids: (string | false)[]) {
  return ids.filter(Boolean).join(" ") || undefined;
}

/** "More options": a row-error limit for everyone; replace mode (with its cap) and the partner for admins. */
export function ImportOptionsFields({ idPrefix, value, onChange, errors, canAdmin }: ImportOptionsFieldsProps) {
  const set = <K extends keyof OptionsForm>(k: K, v: OptionsForm[K]) => onChange({ ...value, [k]: v });
  const id = (name: string) => `${idPrefix}-${name}`;
  return (
    <details className="import-options" data-testid="import-options">
      <summary>More options{canAdmin ? ": row-error limit, replace mode, partner" : ": row-error limit"}</summary>
      <div className="import-options__body">
        <div className={`field${errors.maxErrors ? " field--invalid" : ""}`}>
          <label className="field__label" htmlFor={id("max-errors")}>
            Stop after this many row errors
          </label>
          <input
            id={id("max-errors")}
            inputMode="numeric"
            value={value.maxErrors}
            onChange={(e) => set("maxErrors", e.target.value)}
            placeholder="no limit"
            aria-invalid={errors.maxErrors ? true : undefined}
            aria-describedby={describedBy(errors.maxErrors ? id("max-errors-error") : false)}
          />
          {errors.maxErrors ? (
            <span className="field__error" id={id("max-errors-error")}>
              {errors.maxErrors}
            </span>
          ) : null}
        </div>
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
                  <div className="field">
                    <label className="field__label" htmlFor={id("scope")}>
                      Scope
                    </label>
                    <select id={id("scope")} value={value.scope} onChange={(e) => set("scope", e.target.value as OptionsForm["scope"])}>
                      <option value="all">All products</option>
                      <option value="partner">Products of this partner's imports</option>
                    </select>
                  </div>
                  <div className={`field${errors.maxDeactivate ? " field--invalid" : ""}`}>
                    <label className="field__label" htmlFor={id("max-deactivate")}>
                      Hold if more than this % would be deactivated
                    </label>
                    <input
                      id={id("max-deactivate")}
                      type="number"
                      min={0}
                      max={100}
                      value={value.maxDeactivate}
                      onChange={(e) => set("maxDeactivate", e.target.value)}
                      aria-invalid={errors.maxDeactivate ? true : undefined}
                      aria-describedby={describedBy(id("max-deactivate-hint"), errors.maxDeactivate ? id("max-deactivate-error") : false)}
                    />
                    <span className="field__hint" id={id("max-deactivate-hint")}>
                      Over the cap nothing is deactivated until you confirm on the import's page.
                    </span>
                    {errors.maxDeactivate ? (
                      <span className="field__error" id={id("max-deactivate-error")}>
                        {errors.maxDeactivate}
                      </span>
                    ) : null}
                  </div>
                </div>
              ) : null}
            </fieldset>
            <div className={`field${errors.partner ? " field--invalid" : ""}`}>
              <label className="field__label" htmlFor={id("partner")}>
                Partner (optional)
              </label>
              <input
                id={id("partner")}
                value={value.partner}
                onChange={(e) => set("partner", e.target.value)}
                autoComplete="off"
                placeholder="e.g. acme"
                aria-invalid={errors.partner ? true : undefined}
                aria-describedby={describedBy(errors.partner ? id("partner-error") : false)}
              />
              {errors.partner ? (
                <span className="field__error" id={id("partner-error")}>
                  {errors.partner}
                </span>
              ) : null}
            </div>
          </>
        ) : null}
      </div>
    </details>
  );
}
