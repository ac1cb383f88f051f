/** One `<option>` per value, shown by `label`; goes inside a `<select>` after any options of its own. */
export function OptionList({ values, label }: { values: readonly string[]; label: (value: string) => string }) {
  return (
    <>
      {values.map((v) => (
        <option key={v} value={v}>
          {label(v)}
        </option>
      ))}
    </>
  );
}
