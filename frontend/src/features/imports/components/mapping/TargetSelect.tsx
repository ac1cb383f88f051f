import { FIELDS } from "../../api/mappings";
import { fieldLabel } from "../labels";

/** field / keep as attribute / ignore, for one column. */
export function TargetSelect({
  id,
  value,
  onChange,
  label,
  required,
}: {
  id?: string;
  value: string;
  onChange: (target: string) => void;
  /** Accessible name, e.g. `Import column “Item Code” as`. */
  label: string;
  required?: boolean;
}) {
  const known = (FIELDS as readonly string[]).includes(value) || value === "attribute" || value === "ignore";
  return (
    <select id={id} value={value} onChange={(e) => onChange(e.target.value)} aria-label={label} required={required}>
      <optgroup label="Product field">
        {FIELDS.map((f) => (
          <option key={f} value={f}>
            {fieldLabel(f)}
            {f === "sku" || f === "name" ? " (required)" : ""}
          </option>
        ))}
      </optgroup>
      <optgroup label="Other">
        <option value="attribute">Keep as attribute</option>
        <option value="ignore">Ignore</option>
      </optgroup>
      {known ? null : <option value={value}>{value}</option>}
    </select>
  );
}
