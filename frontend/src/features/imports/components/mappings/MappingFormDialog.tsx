import { useId, useState } from "react";
import { FormDialog } from "@/components/Dialog";
import { Field } from "@/components/Field";
import { OptionList } from "@/components/OptionList";
import { ApiError, errorMessage } from "@/lib/api";
import { isDropPrefix } from "@/lib/partner";
import { PROFILES, useSaveMapping, type MappingInput, type SavedMapping } from "../../api/mappings";
import { profileLabel } from "../labels";
import { mappingEntries } from "../mapping/columnPlan";
import { TargetSelect } from "../mapping/TargetSelect";

interface Row {
  key: number;
  header: string;
  target: string;
}

let rowKeys = 0;

function rowsOf(m: SavedMapping | null): Row[] {
  if (!m) return [{ key: ++rowKeys, header: "", target: "sku" }];
  // the file's column order (the server answers the keys ordered by length), or by field for a partner mapping
  return mappingEntries(m.mapping, m.headers).map(([header, target]) => ({ key: ++rowKeys, header, target }));
}

/**
 * Edit a saved mapping, or (admins) make one for a partner's drop folder. A mapping saved for a header set
 * keeps its columns (they are what it matches); a partner mapping lists the columns it sets.
 */
export function MappingFormDialog({
  mapping,
  canAdmin,
  onClose,
  onSaved,
}: {
  mapping: SavedMapping | null;
  canAdmin: boolean;
  onClose: () => void;
  onSaved: (m: SavedMapping) => void;
}) {
  const uid = useId();
  const byPrefix = mapping === null || mapping.prefix !== null;
  const [name, setName] = useState(mapping?.name ?? "");
  const [prefix, setPrefix] = useState(mapping?.prefix ?? "incoming/");
  const [profile, setProfile] = useState(mapping?.profile ?? "");
  const [rows, setRows] = useState<Row[]>(() => rowsOf(mapping));
  const [replace, setReplace] = useState(Boolean(mapping?.replace));
  const [scope, setScope] = useState<"all" | "partner">(mapping?.replace?.scope === "all" ? "all" : "partner");
  const [maxPct, setMaxPct] = useState(String(mapping?.replace?.max_deactivate_percent ?? 20));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [general, setGeneral] = useState<string | null>(null);
  const save = useSaveMapping();

  const setRow = (key: number, patch: Partial<Row>) => setRows((list) => list.map((r) => (r.key === key ? { ...r, ...patch } : r)));

  const validate = (): Record<string, string> => {
    const e: Record<string, string> = {};
    if (!name.trim()) e.name = "Give the mapping a name.";
    if (byPrefix && !isDropPrefix(prefix.trim())) e.prefix = "A folder under incoming/, e.g. incoming/acme/.";
    const headers = rows.map((r) => r.header.trim());
    if (byPrefix && headers.some((h) => h === "")) e.rows = "Every row needs the column name as the file writes it.";
    if (new Set(headers.map((h) => h.toLowerCase())).size !== headers.length) e.rows = "Each column once.";
    const pct = Number(maxPct);
    if (replace && (maxPct.trim() === "" || !Number.isFinite(pct) || pct < 0 || pct > 100)) e.maxPct = "A percentage from 0 to 100.";
    return e;
  };

  const onSubmit = async () => {
    const local = validate();
    setErrors(local);
    setGeneral(null);
    if (Object.keys(local).length > 0) return;
    const input: MappingInput = {
      name: name.trim(),
      mapping: Object.fromEntries(rows.map((r) => [r.header.trim(), r.target])),
      profile: profile || null,
      headers: byPrefix ? null : mapping?.headers ?? null,
      prefix: byPrefix ? prefix.trim().replace(/\/?$/, "/") : null,
      replace: byPrefix && replace ? { scope, max_deactivate_percent: Number(maxPct) } : null,
    };
    try {
      onSaved(await save.mutateAsync({ id: mapping?.id ?? null, input }));
    } catch (err) {
      if (err instanceof ApiError && err.fieldErrors.length > 0) {
        setErrors(err.byField());
        setGeneral(err.generalMessages(["name", "prefix"]).join("; ") || null);
      } else {
        setGeneral(errorMessage(err));
      }
    }
  };

  const title = mapping ? `Edit “${mapping.name}”` : "New partner mapping";
  return (
    <FormDialog
      title={title}
      testId="mapping-form-dialog"
      onClose={onClose}
      onSubmit={() => void onSubmit()}
      formLabel={title}
      noValidate
      messages={general ? [general] : []}
      submitLabel={mapping ? "Save changes" : "Create mapping"}
      pending={save.isPending}
    >
      <div className="form__grid">
        <Field label="Name" error={errors.name}>
          <input value={name} onChange={(e) => setName(e.target.value)} maxLength={255} autoComplete="off" data-autofocus />
        </Field>
        <Field label="Profile">
          <select value={profile} onChange={(e) => setProfile(e.target.value)}>
            <option value="">Detect from the header</option>
            <OptionList values={PROFILES} label={profileLabel} />
          </select>
        </Field>
        {byPrefix ? (
          <Field label="Partner folder" error={errors.prefix} hint="Drops under this folder use this mapping (the longest matching folder wins)." className="form__wide">
            <input value={prefix} onChange={(e) => setPrefix(e.target.value)} autoComplete="off" readOnly={!canAdmin} maxLength={1024} />
          </Field>
        ) : (
          <p className="form__wide muted small">
            Applies to uploads whose columns are exactly: {mapping?.headers?.join(", ") ?? "–"}.
          </p>
        )}
      </div>

      <fieldset className="fieldset">
        <legend className="field__label">Columns</legend>
        <ul className="mapping-rows">
          {rows.map((r, i) => (
            <li key={r.key} className="mapping-row">
              {byPrefix ? (
                <input
                  value={r.header}
                  onChange={(e) => setRow(r.key, { header: e.target.value })}
                  aria-label={`Column ${i + 1} name`}
                  placeholder="Column as written in the file"
                  autoComplete="off"
                />
              ) : (
                <code className="mapping-row__header">{r.header}</code>
              )}
              <TargetSelect value={r.target} onChange={(t) => setRow(r.key, { target: t })} label={`Import column “${r.header || i + 1}” as`} />
              {byPrefix ? (
                <button
                  type="button"
                  className="button button--small button--ghost"
                  onClick={() => setRows((list) => list.filter((x) => x.key !== r.key))}
                  aria-label={`Remove column ${r.header || i + 1}`}
                  disabled={rows.length === 1}
                >
                  Remove
                </button>
              ) : null}
            </li>
          ))}
        </ul>
        {errors.rows ? <span className="field__error">{errors.rows}</span> : null}
        {byPrefix ? (
          <button type="button" className="button button--small" onClick={() => setRows((list) => [...list, { key: ++rowKeys, header: "", target: "attribute" }])}>
            Add column
          </button>
        ) : null}
      </fieldset>

      {byPrefix && canAdmin ? (
        <fieldset className="fieldset">
          <legend className="field__label">Replace mode for these drops</legend>
          <div className="checkbox">
            <input id={`${uid}-replace`} type="checkbox" checked={replace} onChange={(e) => setReplace(e.target.checked)} />
            <label htmlFor={`${uid}-replace`}>Each drop is the whole truth: deactivate products in scope it does not contain</label>
          </div>
          {replace ? (
            <div className="form__grid">
              <Field label="Scope">
                <select value={scope} onChange={(e) => setScope(e.target.value as "all" | "partner")}>
                  <option value="partner">This partner's products</option>
                  <option value="all">All products</option>
                </select>
              </Field>
              <Field label="Hold if more than this % would be deactivated" error={errors.maxPct}>
                <input type="number" min={0} max={100} value={maxPct} onChange={(e) => setMaxPct(e.target.value)} />
              </Field>
            </div>
          ) : null}
        </fieldset>
      ) : null}
    </FormDialog>
  );
}
