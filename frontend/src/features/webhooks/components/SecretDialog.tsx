import { useState } from "react";
import { Dialog } from "@/components/Dialog";

/** The signing secret, shown this once (the API never returns it again). */
export function SecretDialog({ url, secret, onClose }: { url: string; secret: string; onClose: () => void }) {
  const [copied, setCopied] = useState<boolean | null>(null);
  const copy = () => {
    navigator.clipboard?.writeText(secret).then(
      () => setCopied(true),
      () => setCopied(false),
    );
  };
  return (
    <Dialog title="Copy the signing secret now" onClose={onClose} testId="webhook-secret">
      <p>
        Deliveries to <span className="mono break">{url}</span> are signed with this secret (Standard Webhooks). It is shown only
        this once: put it into the receiver's configuration.
      </p>
      <label className="field__label" htmlFor="webhook-secret-value">
        Signing secret
      </label>
      <input id="webhook-secret-value" className="mono" value={secret} readOnly onFocus={(e) => e.currentTarget.select()} data-autofocus />
      <p className="small muted" aria-live="polite">
        {copied === true ? "Copied." : copied === false ? "Could not copy: select the text and copy it." : ""}
      </p>
      <div className="dialog__actions">
        <button type="button" className="button" onClick={copy}>
          Copy
        </button>
        <button type="button" className="button button--primary" onClick={onClose}>
          Done
        </button>
      </div>
    </Dialog>
  );
}
