import { useEffect, useId, useRef, useState, type ReactNode } from "react";
import { createPortal } from "react-dom";
import { errorMessage } from "@/lib/api";
import { Field } from "./Field";
import { useFocusBackAfter } from "./focusBack";

export interface DialogProps {
  title: string;
  onClose: () => void;
  children: ReactNode;
  /** Buttons row. */
  actions?: ReactNode;
  testId?: string;
}

const FOCUSABLE = 'a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

/**
 * A modal dialog: focus moves in on open and back to the opener on close, Tab stays inside,
 * Escape and the backdrop close it. It is drawn at the end of <body> (a portal), whatever opened it: inside
 * a coloured notice it would take the notice's colours, and inside a live region (role="status",
 * aria-live) a screen reader would read the whole dialog out as an announcement.
 */
export function Dialog({ title, onClose, children, actions, testId }: DialogProps) {
  const titleId = useId();
  const panel = useRef<HTMLDivElement>(null);
  const onCloseRef = useRef(onClose);
  onCloseRef.current = onClose;

  useEffect(() => {
    const opener = document.activeElement as HTMLElement | null;
    const node = panel.current;
    const first = node?.querySelector<HTMLElement>("[data-autofocus]") ?? node?.querySelector<HTMLElement>(FOCUSABLE);
    (first ?? node)?.focus();
    return () => {
      if (opener?.isConnected) {
        opener.focus();
        focusMainIfRemoved(opener);
      } else if (focusIsLost()) {
        pageMain()?.focus({ preventScroll: true });
      }
    };
  }, []);

  const onKeyDown = (e: React.KeyboardEvent) => {
    if (e.key === "Escape") {
      e.stopPropagation();
      onCloseRef.current();
      return;
    }
    if (e.key !== "Tab" || !panel.current) return;
    const items = Array.from(panel.current.querySelectorAll<HTMLElement>(FOCUSABLE));
    if (items.length === 0) return;
    const first = items[0]!;
    const last = items[items.length - 1]!;
    if (e.shiftKey && document.activeElement === first) {
      e.preventDefault();
      last.focus();
    } else if (!e.shiftKey && document.activeElement === last) {
      e.preventDefault();
      first.focus();
    }
  };

  return createPortal(
    <div className="dialog-backdrop" onMouseDown={(e) => e.target === e.currentTarget && onClose()}>
      <div
        className="dialog"
        role="dialog"
        aria-modal="true"
        aria-labelledby={titleId}
        ref={panel}
        tabIndex={-1}
        onKeyDown={onKeyDown}
        data-testid={testId}
      >
        <h2 id={titleId} className="dialog__title">
          {title}
        </h2>
        <div className="dialog__body">{children}</div>
        {actions ? <div className="dialog__actions">{actions}</div> : null}
      </div>
    </div>,
    document.body,
  );
}

function focusIsLost(): boolean {
  return document.activeElement === null || document.activeElement === document.body;
}

/** The page's <main> (focusable: tabIndex -1, see Layout); none outside the app's layout. */
function pageMain(): HTMLElement | null {
  return document.querySelector<HTMLElement>("main[tabindex]");
}

/**
 * Focus went back to the dialog's opener, which often goes a moment later: the row of a product or webhook
 * just deleted, a Revert button once the revert runs. A browser drops the focus of a removed element to
 * <body>, so the next Tab starts again at the top of the page and a screen reader says nothing. Focus goes to
 * the page's <main> instead, unless the user has moved it meanwhile (watched for 10 s).
 */
function focusMainIfRemoved(opener: HTMLElement) {
  if (typeof MutationObserver === "undefined") return;
  const stop = () => {
    observer.disconnect();
    clearTimeout(timer);
    document.removeEventListener("focusin", stop);
  };
  const observer = new MutationObserver(() => {
    if (opener.isConnected) return;
    stop();
    if (focusIsLost()) pageMain()?.focus({ preventScroll: true });
  });
  observer.observe(document.body, { childList: true, subtree: true });
  const timer = setTimeout(stop, 10_000);
  // (focus moved by the user, or by the page to something better, ends the watch)
  setTimeout(() => document.addEventListener("focusin", stop), 0);
}

/** Runs an action; when it throws (or its promise rejects) keeps the message until the next run. */
function useFailure(action: () => Promise<unknown>) {
  const [failure, setFailure] = useState<string | null>(null);
  const [running, setRunning] = useState(false);
  const run = async () => {
    setFailure(null);
    setRunning(true);
    try {
      await action();
    } catch (err) {
      setFailure(errorMessage(err));
    } finally {
      setRunning(false);
    }
  };
  return { failure, running, run };
}

function FailureAlert({ failure }: { failure: string | null }) {
  return failure ? (
    <div className="alert alert--error" role="alert" tabIndex={-1}>
      {failure}
    </div>
  ) : null;
}

export interface ConfirmDialogProps {
  title: string;
  message: ReactNode;
  confirmLabel: string;
  /**
   * The action; if it rejects, its message is shown in the dialog, which stays open. It must return the
   * action's promise (not `() => void run()` with its own catch, which would leave the dialog none the wiser).
   */
  onConfirm: () => Promise<unknown>;
  onCancel: () => void;
  busy?: boolean;
  danger?: boolean;
}

export function ConfirmDialog({ title, message, confirmLabel, onConfirm, onCancel, busy = false, danger = true }: ConfirmDialogProps) {
  const { failure, running, run } = useFailure(onConfirm);
  const confirm = useRef<HTMLButtonElement>(null);
  useFocusBackAfter(busy || running, confirm);
  return (
    <Dialog
      title={title}
      onClose={onCancel}
      testId="confirm-dialog"
      actions={
        <>
          <button type="button" className="button" onClick={onCancel} data-autofocus>
            Cancel
          </button>
          <button
            type="button"
            className={`button ${danger ? "button--danger" : "button--primary"}`}
            onClick={() => void run()}
            disabled={busy || running}
            ref={confirm}
          >
            {busy ? "Working…" : confirmLabel}
          </button>
        </>
      }
    >
      <div>{message}</div>
      <FailureAlert failure={failure} />
    </Dialog>
  );
}

export interface FormDialogProps {
  title: string;
  testId: string;
  onClose: () => void;
  /** Runs on submit; the browser's own submit is prevented. */
  onSubmit: () => void;
  submitLabel: string;
  /** While true the submit button is disabled and reads `pendingLabel`. */
  pending: boolean;
  pendingLabel?: string;
  /** Keeps the submit button disabled (e.g. until a confirmation is typed). */
  submitDisabled?: boolean;
  danger?: boolean;
  /** The form's aria-label. */
  formLabel?: string;
  noValidate?: boolean;
  /** Messages that concern the whole form, listed above the fields. */
  messages?: string[];
  children: ReactNode;
}

/** A dialog that is one form: the fields, then Cancel and the submit button. */
export function FormDialog({
  title,
  testId,
  onClose,
  onSubmit,
  submitLabel,
  pending,
  pendingLabel = "Saving…",
  submitDisabled = false,
  danger = false,
  formLabel,
  noValidate,
  messages = [],
  children,
}: FormDialogProps) {
  const submit = useRef<HTMLButtonElement>(null);
  useFocusBackAfter(pending, submit);
  return (
    <Dialog title={title} onClose={onClose} testId={testId}>
      <form
        className="form"
        onSubmit={(e) => {
          e.preventDefault();
          onSubmit();
        }}
        noValidate={noValidate}
        aria-label={formLabel}
      >
        {messages.length > 0 ? (
          <div className="alert alert--error" role="alert" tabIndex={-1}>
            <ul className="plain-list">
              {messages.map((m) => (
                <li key={m}>{m}</li>
              ))}
            </ul>
          </div>
        ) : null}
        {children}
        <div className="dialog__actions">
          <button type="button" className="button" onClick={onClose}>
            Cancel
          </button>
          <button
            type="submit"
            className={`button ${danger ? "button--danger" : "button--primary"}`}
            disabled={submitDisabled || pending}
            ref={submit}
          >
            {pending ? pendingLabel : submitLabel}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

export interface TypedConfirmDialogProps {
  title: string;
  testId: string;
  onClose: () => void;
  /** What the action will do, above the field. */
  children: ReactNode;
  fieldLabel: string;
  /** Whether what was typed confirms the action. */
  confirms: (typed: string) => boolean;
  /** Runs the action; a rejection's message is shown in the dialog. */
  onConfirm: () => Promise<unknown>;
  confirmLabel: string;
  pending: boolean;
  pendingLabel: string;
  spellCheck?: boolean;
}

/** A dangerous action that needs a word or a name typed before its button turns on. */
export function TypedConfirmDialog({
  title,
  testId,
  onClose,
  children,
  fieldLabel,
  confirms,
  onConfirm,
  confirmLabel,
  pending,
  pendingLabel,
  spellCheck,
}: TypedConfirmDialogProps) {
  const [typed, setTyped] = useState("");
  const ok = confirms(typed);
  const { failure, run } = useFailure(onConfirm);

  return (
    <FormDialog
      title={title}
      testId={testId}
      onClose={onClose}
      onSubmit={() => {
        if (ok) void run();
      }}
      submitLabel={confirmLabel}
      pending={pending}
      pendingLabel={pendingLabel}
      submitDisabled={!ok}
      danger
    >
      {children}
      <Field label={fieldLabel}>
        <input value={typed} onChange={(e) => setTyped(e.target.value)} autoComplete="off" spellCheck={spellCheck} data-autofocus />
      </Field>
      <FailureAlert failure={failure} />
    </FormDialog>
  );
}
