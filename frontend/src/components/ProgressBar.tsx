export interface ProgressBarProps {
  /** 0..100, or null when the total is not known yet (indeterminate). */
  value: number | null;
  label: string;
  /** Text shown to the right of the bar, e.g. "12,000 / 50,000 rows". */
  valueText?: string;
  tone?: "default" | "success" | "danger" | "warn";
  testId?: string;
}

export function ProgressBar({ value, label, valueText, tone = "default", testId }: ProgressBarProps) {
  const rounded = value === null ? undefined : Math.round(value);
  return (
    <div className="progress" data-testid={testId}>
      <div
        className={`progress__track progress__track--${tone}${value === null ? " progress__track--indeterminate" : ""}`}
        role="progressbar"
        aria-label={label}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={rounded}
        aria-valuetext={valueText ?? (rounded === undefined ? "Waiting" : `${rounded}%`)}
      >
        <div className="progress__fill" style={{ width: value === null ? undefined : `${value}%` }} />
      </div>
      {valueText ? <span className="progress__text">{valueText}</span> : null}
    </div>
  );
}
