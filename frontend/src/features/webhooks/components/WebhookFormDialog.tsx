import { useState } from "react";
import { FormDialog } from "@/components/Dialog";
import { Field } from "@/components/Field";
import { ApiError, errorMessage } from "@/lib/api";
import { useSaveWebhook } from "../api/webhooks";
import { DEFAULT_EVENTS, SECRET_PATTERN, WEBHOOK_EVENTS, type Webhook, type WebhookInput } from "../api/schemas";

const KNOWN = ["url", "events", "secret", "partner"];

export function validateWebhook(url: string, events: string[], secret = ""): Record<string, string> {
  const errors: Record<string, string> = {};
  try {
    const u = new URL(url.trim());
    if (u.protocol !== "http:" && u.protocol !== "https:") errors.url = "Use an http:// or https:// URL.";
  } catch {
    errors.url = "Enter a full URL, e.g. https://example.com/hooks/products.";
  }
  if (events.length === 0) errors.events = "Choose at least one event.";
  if (secret && !SECRET_PATTERN.test(secret.trim())) errors.secret = "A Standard Webhooks secret: whsec_ followed by base64. Leave empty to have one made.";
  return errors;
}

export function WebhookFormDialog({ webhook, onClose, onSaved }: { webhook: Webhook | null; onClose: () => void; onSaved: (w: Webhook) => void }) {
  const editing = webhook !== null;
  const [url, setUrl] = useState(webhook?.url ?? "");
  const [events, setEvents] = useState<string[]>(webhook?.events ?? [...DEFAULT_EVENTS]);
  const [secret, setSecret] = useState("");
  const [partner, setPartner] = useState(webhook?.partner ?? "");
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [general, setGeneral] = useState<string[]>([]);
  const save = useSaveWebhook();

  const toggle = (ev: string, on: boolean) => setEvents((list) => (on ? [...list.filter((e) => e !== ev), ev] : list.filter((e) => e !== ev)));

  const onSubmit = async () => {
    const local = validateWebhook(url, events, secret);
    setErrors(local);
    setGeneral([]);
    if (Object.keys(local).length > 0) return;
    const input: WebhookInput = { url: url.trim(), events: WEBHOOK_EVENTS.filter((ev) => events.includes(ev)) };
    if (secret) input.secret = secret.trim();
    // the API checks the name (a folder under incoming/) and its 422 shows under the field; empty = every
    // import, which on an edit clears a partner set before
    const folder = partner.trim();
    if (folder) input.partner = folder;
    else if (editing) input.partner = null;
    try {
      onSaved(await save.mutateAsync({ id: editing ? webhook.id : null, input }));
    } catch (err) {
      if (err instanceof ApiError && err.fieldErrors.length > 0) {
        setErrors(err.byField());
        setGeneral(err.generalMessages(KNOWN));
      } else {
        setGeneral([errorMessage(err)]);
      }
    }
  };

  return (
    <FormDialog
      title={editing ? "Edit webhook" : "Add webhook"}
      testId="webhook-form-dialog"
      onClose={onClose}
      onSubmit={() => void onSubmit()}
      formLabel={editing ? "Edit webhook" : "Add webhook"}
      noValidate
      messages={general}
      submitLabel={editing ? "Save changes" : "Add webhook"}
      pending={save.isPending}
    >
      <Field label="Target URL" error={errors.url} hint="We POST a signed JSON body here when one of the events happens.">
        <input type="url" value={url} onChange={(e) => setUrl(e.target.value)} required autoComplete="off" data-autofocus />
      </Field>
      <Field
        label="Partner (optional)"
        error={errors.partner}
        hint="Only the imports of this partner: its folder under incoming/ (e.g. acme). Leave empty for every import."
      >
        <input value={partner} onChange={(e) => setPartner(e.target.value)} autoComplete="off" spellCheck={false} placeholder="e.g. acme" />
      </Field>
      <fieldset className={`fieldset${errors.events ? " field--invalid" : ""}`} aria-describedby={errors.events ? "webhook-events-error" : undefined}>
        <legend className="field__label">Events</legend>
        {WEBHOOK_EVENTS.map((ev) => (
          <div className="checkbox" key={ev}>
            <input id={`event-${ev}`} type="checkbox" checked={events.includes(ev)} onChange={(e) => toggle(ev, e.target.checked)} />
            <label htmlFor={`event-${ev}`}>
              <code>{ev}</code>
            </label>
          </div>
        ))}
        {errors.events ? (
          <span className="field__error" id="webhook-events-error">
            {errors.events}
          </span>
        ) : null}
      </fieldset>
      <Field
        label="Signing secret (optional)"
        error={errors.secret}
        hint={
          editing && webhook.has_secret
            ? "A secret is set. Leave empty to keep it."
            : "whsec_… (Standard Webhooks). Leave empty and one is made for you and shown once; receivers verify the webhook-signature header with it."
        }
      >
        <input type="password" value={secret} onChange={(e) => setSecret(e.target.value)} autoComplete="new-password" spellCheck={false} />
      </Field>
    </FormDialog>
  );
}
