import { useEffect, useId, useRef, useState, type FormEvent } from "react";
import { ErrorMessage, Loading, Notice } from "@/components/Feedback";
import { Field } from "@/components/Field";
import { useFocusBackAfter } from "@/components/focusBack";
import { OptionList } from "@/components/OptionList";
import { ApiError, errorMessage } from "@/lib/api";
import { usePermissions } from "@/lib/auth/permissions";
import { formatBytes, sentence } from "@/lib/format";
import type { ImportOptions } from "../../api/imports";
import { ENCODINGS, PROFILES, SUGGEST_BYTES, suggestMapping, useSaveMapping, useSavedMapping, useSuggestion, type Suggestion } from "../../api/mappings";
import { encodingLabel, fieldLabel, profileLabel } from "../labels";
import { choicesFrom, defaultMappingName, isEdited, mappingOf, missingFields, sharedFields, type ColumnChoice } from "./columnPlan";
import { ImportOptionsFields, optionsFromForm, blankOptionsForm, type OptionsForm } from "./ImportOptionsFields";
import { TargetSelect } from "./TargetSelect";

export interface MappingStepProps {
  /** Names this queued file (stable while it waits). */
  fileKey: string;
  file: File;
  position: { index: number; total: number };
  onStart: (options: ImportOptions) => void;
  onCancel: () => void;
  /**
   * Whether the server, having read the file, says it cannot be imported (empty, a workbook…: it will be
   * skipped), or, read again with another encoding, that it can after all.
   */
  onUnreadable?: (fileKey: string, unreadable: boolean) => void;
  /** Leave this (unreadable, last) file for another one: the file picker opens. Defaults to `onCancel`. */
  onChooseAnother?: () => void;
}

const DELIMITERS: Record<string, string> = { ",": "comma", ";": "semicolon", "\t": "tab" };

/**
 * The mapping step (issue 13): the file's first 64 KiB read by the server as the import will read it, each
 * column with sample values and its suggested field, editable; then Preview or Import now.
 */
export function MappingStep({ fileKey, file, position, onStart, onCancel, onUnreadable, onChooseAnother }: MappingStepProps) {
  const [overrides, setOverrides] = useState<{ profile: string | null; encoding: string | null }>({ profile: null, encoding: null });
  const suggestion = useSuggestion(fileKey, file, overrides);
  const titleId = `mapping-title-${fileKey}`;
  // the drop zone (and the button that opened the file picker) gave way to this step: bring focus here
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);
  const cannotImport = suggestion.error && unreadable(suggestion.error) ? suggestion.error : null;
  const readable = suggestion.data ? true : cannotImport ? false : null; // (null: not known yet)
  useEffect(() => {
    if (readable !== null) onUnreadable?.(fileKey, !readable);
  }, [readable, fileKey, onUnreadable]);
  const othersWaiting = position.total - position.index - 1;

  return (
    <section className="card mapping-step" aria-labelledby={titleId} data-testid="mapping-step" data-file={file.name}>
      <div className="section-head">
        <div>
          <h2 id={titleId} className="break" tabIndex={-1} ref={heading}>
            Columns of “{file.name}”
          </h2>
          <p className="muted small">
            {formatBytes(file.size)}
            {position.total > 1 ? ` · file ${position.index + 1} of ${position.total}` : ""} · check how each column will be read,
            then preview or import.
          </p>
        </div>
      </div>
      {suggestion.isLoading ? <Loading label={`Reading the first ${formatBytes(SUGGEST_BYTES)} of the file…`} /> : null}
      {cannotImport ? (
        <>
          {/* the server read the file and says why it cannot be imported (empty, a workbook…): going on can only fail */}
          <Notice tone="error">
            <strong>This file cannot be imported.</strong> {sentence(cannotImport.message)}{" "}
            {othersWaiting > 0 ? "It will be skipped; the next file waits." : "Choose another file to import instead."}
          </Notice>
          {/* the server's reason may be the encoding (a header that is not UTF-8): reading it as another one is up to the user */}
          <div className="mapping-facts">
            <EncodingField
              value={overrides.encoding}
              detected={null}
              onChange={(encoding) => setOverrides({ ...overrides, encoding })}
              hint="If the file was saved in another encoding, choose it: the file is read again."
            />
          </div>
          <div className="mapping-step__actions">
            {/* with files waiting, the button goes on to the next one; alone, it opens the file picker again */}
            <button type="button" className="button" onClick={othersWaiting > 0 ? onCancel : (onChooseAnother ?? onCancel)}>
              {othersWaiting > 0 ? "Skip to the next file" : "Choose another file"}
            </button>
          </div>
        </>
      ) : suggestion.error ? (
        <>
          <ErrorMessage error={suggestion.error} onRetry={() => void suggestion.refetch()} title="Could not read the columns." />
          <FallbackActions onStart={onStart} onCancel={onCancel} />
        </>
      ) : null}
      {suggestion.data ? (
        <ColumnsForm
          key={JSON.stringify(suggestion.data.columns)}
          file={file}
          suggestion={suggestion.data}
          busy={suggestion.isFetching}
          overrides={overrides}
          onOverrides={setOverrides}
          onStart={onStart}
          onCancel={onCancel}
        />
      ) : null}
    </section>
  );
}

/** The encoding the file is read with: as detected (`detected`; null when the server could not read it), or another. */
function EncodingField({
  value,
  detected,
  onChange,
  hint,
}: {
  value: string | null;
  detected: string | null;
  onChange: (encoding: string | null) => void;
  hint?: string;
}) {
  return (
    <Field label="Encoding" hint={hint}>
      <select value={value ?? ""} onChange={(e) => onChange(e.target.value || null)}>
        <option value="">{detected ? `Detected: ${encodingLabel(detected)}` : "As detected"}</option>
        <OptionList values={ENCODINGS} label={encodingLabel} />
      </select>
    </Field>
  );
}

/** A 422 from `/api/mappings/suggest`: the server read the bytes and cannot import such a file. */
function unreadable(error: unknown): error is ApiError {
  return error instanceof ApiError && error.status === 422;
}

/** Without the server's reading (an older server, a network fault) the file can still go as it is. */
function FallbackActions({ onStart, onCancel }: Pick<MappingStepProps, "onStart" | "onCancel">) {
  return (
    <div className="mapping-step__actions">
      <button type="button" className="button" onClick={onCancel}>
        Cancel
      </button>
      <button type="button" className="button" onClick={() => onStart({ mode: "preview" })}>
        Preview as it is
      </button>
      <button type="button" className="button button--primary" onClick={() => onStart({ mode: "import" })}>
        Import as it is
      </button>
    </div>
  );
}

/** How a platform's export picks among its columns for one field (CONTRACT §1, "Platform exports"). */
function profileRule(profile: string, field: string): string {
  if (profile === "shopify" && field === "active") return "“Status” wins over “Published”: draft and archived are inactive";
  if (profile === "shopify" && field === "category") return "“Type”, or on a row whose Type is empty “Product Category” (kept as an attribute too)";
  return "its column for the field wins; the others are kept as attributes";
}

/** The first column named in `headers` (the server's likeliest, best first) that feeds no field yet; -1 if none. */
function likelyColumn(choices: ColumnChoice[], headers: string[] | undefined): number {
  for (const header of headers ?? []) {
    const index = choices.findIndex((c) => c.header === header && (c.target === "attribute" || c.target === "ignore"));
    if (index >= 0) return index;
  }
  return -1;
}

interface ColumnsFormProps extends Pick<MappingStepProps, "file" | "onStart" | "onCancel"> {
  suggestion: Suggestion;
  busy: boolean;
  overrides: { profile: string | null; encoding: string | null };
  onOverrides: (o: { profile: string | null; encoding: string | null }) => void;
}

function ColumnsForm({ file, suggestion, busy, overrides, onOverrides, onStart, onCancel }: ColumnsFormProps) {
  const { can } = usePermissions();
  const uid = useId();
  const [choices, setChoices] = useState<ColumnChoice[]>(() => choicesFrom(suggestion));
  const [remember, setRemember] = useState(false);
  const [name, setName] = useState(() => defaultMappingName(file.name));
  const [options, setOptions] = useState<OptionsForm>(blankOptionsForm);
  const [problem, setProblem] = useState<string | null>(null);
  const save = useSaveMapping();
  // Preview and Import now are disabled while the mapping is saved, which drops their focus to <body>: a
  // failed save brings it back, to the message
  const previewButton = useRef<HTMLButtonElement>(null);
  const problemAlert = useRef<HTMLDivElement>(null);
  useFocusBackAfter(save.isPending, previewButton, problemAlert);

  const missing = missingFields(choices);
  const shared = sharedFields(choices);
  const profile = overrides.profile ?? suggestion.profile ?? "generic";
  const edited = isEdited(choices);
  // a mapping for these columns saved while this step was open (another tab, someone else): found on a 409
  const [savedMeanwhile, setSavedMeanwhile] = useState<string | null>(null);
  const savedId = suggestion.mapping_id ?? savedMeanwhile;
  // "Update the saved mapping" keeps its name unless the user types another (it was renamed after the file)
  const savedName = useSavedMapping(savedId).data?.name;
  const [nameTyped, setNameTyped] = useState(false);
  const shownName = nameTyped ? name : (savedName ?? name);
  const optionErrors = optionsFromForm(options).errors;
  const blocked = missing.length > 0 || Object.keys(optionErrors).length > 0 || save.isPending;

  const setTarget = (index: number, target: string) => setChoices((list) => list.map((c, i) => (i === index ? { ...c, target } : c)));

  const start = async (mode: "import" | "preview", e?: FormEvent) => {
    e?.preventDefault();
    setProblem(null);
    if (missing.length > 0 || Object.keys(optionErrors).length > 0) return;
    const mapping = mappingOf(choices);
    if (remember) {
      try {
        await save.mutateAsync({
          id: savedId,
          input: { name: shownName.trim() || defaultMappingName(file.name), mapping, headers: choices.map((c) => c.header), profile: overrides.profile },
        });
      } catch (err) {
        if (savedId === null && err instanceof ApiError && err.status === 409) {
          // these columns got a saved mapping since the step opened: the server's fresh reading names it, and
          // "Remember" becomes "Update the saved mapping" (the user's next start replaces it with these choices)
          const fresh = await suggestMapping(file, overrides).catch(() => null);
          if (fresh?.mapping_id) {
            setSavedMeanwhile(fresh.mapping_id);
            setProblem(
              "A mapping for these columns was saved meanwhile (in another tab, or by someone else), so nothing was started. " +
                "Start again to replace it with the choices above, or untick “Update the saved mapping” to go on without saving.",
            );
            return;
          }
        }
        setProblem(`The mapping was not saved: ${errorMessage(err)}`);
        return;
      }
    }
    onStart({
      mode,
      // no edits: the server reads the file exactly as suggested (a saved mapping applies by itself)
      ...(edited ? { mapping } : {}),
      ...(overrides.profile ? { profile: overrides.profile } : {}),
      ...(overrides.encoding ? { encoding: overrides.encoding } : {}),
      ...optionsFromForm(options).options,
    });
  };

  return (
    <form className="mapping-form" onSubmit={(e) => void start("preview", e)} aria-busy={busy} noValidate>
      <div className="mapping-facts">
        <EncodingField value={overrides.encoding} detected={suggestion.encoding} onChange={(encoding) => onOverrides({ ...overrides, encoding })} />
        <Field label="Profile">
          <select value={overrides.profile ?? ""} onChange={(e) => onOverrides({ ...overrides, profile: e.target.value || null })}>
            <option value="">Detected: {profileLabel(suggestion.profile)}</option>
            <OptionList values={PROFILES} label={profileLabel} />
          </select>
        </Field>
        <div className="field">
          <span className="field__label">Delimiter</span>
          <span className="mapping-facts__value" data-testid="delimiter">
            {suggestion.delimiter ? (DELIMITERS[suggestion.delimiter] ?? suggestion.delimiter) : "–"}
          </span>
        </div>
      </div>

      {savedId ? (
        <Notice>A saved mapping for these columns was applied; change it below if this file is different.</Notice>
      ) : null}
      {suggestion.warnings.length > 0 ? (
        <div className="alert alert--warn" role="status">
          <ul className="plain-list">
            {suggestion.warnings.map((w, i) => (
              <li key={`${i}-${w}`}>{w}</li>
            ))}
          </ul>
        </div>
      ) : null}

      <ul className="columns" aria-label="Columns and what each one feeds">
        {choices.map((c, i) => {
          const selectId = `${uid}-col-${i}`;
          return (
            <li
              key={`${i}-${c.header}`}
              className={`column${c.target !== c.suggested ? " column--edited" : ""}${c.target === "ignore" ? " column--ignored" : ""}`}
              data-testid="mapping-column"
              data-header={c.header}
              data-target={c.target}
            >
              <div className="column__head">
                <label htmlFor={selectId} className="column__name">
                  {c.header || <span className="muted">(no name)</span>}
                </label>
                <span className="column__samples muted small">
                  {c.samples.length > 0 ? c.samples.slice(0, 3).join(" · ") : "no values in the first rows"}
                </span>
              </div>
              <div className="column__target">
                <TargetSelect id={selectId} value={c.target} onChange={(t) => setTarget(i, t)} label={`Import column “${c.header}” as`} />
                {c.target !== c.suggested ? <span className="column__was small">suggested: {fieldLabel(c.suggested)}</span> : null}
              </div>
            </li>
          );
        })}
      </ul>

      {missing.length > 0 ? (
        <div className="alert alert--error" role="alert" data-testid="mapping-missing">
          <div>
            <div>
              No column feeds {missing.map((f) => fieldLabel(f)).join(" or ")}: choose the column that holds{" "}
              {missing.length === 1 ? "it" : "them"} above. Every product needs a SKU and a name.
            </div>
            {missing.some((f) => likelyColumn(choices, suggestion.likeliest[f]) >= 0) ? (
              <div className="mapping-missing__offers">
                {missing.map((f) => {
                  const index = likelyColumn(choices, suggestion.likeliest[f]);
                  return index < 0 ? null : (
                    <button key={f} type="button" className="button button--small" onClick={() => setTarget(index, f)}>
                      Use “{choices[index]?.header}” as {fieldLabel(f)}
                    </button>
                  );
                })}
              </div>
            ) : null}
          </div>
        </div>
      ) : null}
      {Object.keys(shared).length > 0 ? (
        <p className="muted small" role="note">
          {Object.entries(shared).map(([field, headers]) => (
            <span key={field}>
              {fieldLabel(field)} comes from {headers.map((h) => `“${h}”`).join(" and ")}:{" "}
              {profile === "generic"
                ? `the column named exactly “${field}” wins, else the leftmost; the others are kept as attributes.`
                : `the ${profileLabel(profile)}'s rule decides which (${profileRule(profile, field)}).`}{" "}
            </span>
          ))}
        </p>
      ) : null}

      <div className="mapping-remember">
        <div className="checkbox">
          <input id={`${uid}-remember`} type="checkbox" checked={remember} onChange={(e) => setRemember(e.target.checked)} />
          <label htmlFor={`${uid}-remember`}>
            {savedId ? "Update the saved mapping for files with these columns" : "Remember this mapping for files with these columns"}
          </label>
        </div>
        {remember ? (
          <Field label="Mapping name">
            <input
              value={shownName}
              onChange={(e) => {
                setNameTyped(true);
                setName(e.target.value);
              }}
              maxLength={255}
              autoComplete="off"
            />
          </Field>
        ) : null}
      </div>

      <ImportOptionsFields idPrefix={uid} value={options} onChange={setOptions} errors={optionErrors} canAdmin={can("admin")} />

      {problem ? (
        <div className="alert alert--error" role="alert" tabIndex={-1} ref={problemAlert}>
          {problem}
        </div>
      ) : null}
      {Object.keys(optionErrors).length > 0 ? (
        <p className="field__error" role="alert">
          Some of the options above are not valid: {Object.values(optionErrors).join(" ")}
        </p>
      ) : null}
      <div className="mapping-step__actions">
        <button type="button" className="button" onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" className="button button--primary" disabled={blocked} ref={previewButton}>
          Preview
        </button>
        <button type="button" className="button" onClick={() => void start("import")} disabled={blocked}>
          Import now
        </button>
      </div>
    </form>
  );
}
