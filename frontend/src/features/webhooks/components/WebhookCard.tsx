import { useId, useRef, useState, type MouseEvent } from "react";
import { ConfirmDialog } from "@/components/Dialog";
import { useFocusBackAfter } from "@/components/focusBack";
import { errorMessage } from "@/lib/api";
import { formatDateTime } from "@/lib/format";
import { useDeleteWebhook, useTestWebhook, useToggleWebhook } from "../api/webhooks";
import type { Webhook } from "../api/schemas";
import { Deliveries } from "./Deliveries";

export interface WebhookCardProps {
  webhook: Webhook;
  onEdit: (w: Webhook) => void;
}

export function WebhookCard({ webhook, onEdit }: WebhookCardProps) {
  // every card's buttons read the same ("Delete", "Edit"…): each is described by its webhook's URL, so a screen
  // reader's list of buttons (or a button reached by Tab) says which webhook it acts on
  const urlId = useId();
  const toggleMutation = useToggleWebhook();
  const testMutation = useTestWebhook();
  const deleteMutation = useDeleteWebhook();
  const [error, setError] = useState<string | null>(null);
  const [confirming, setConfirming] = useState(false);
  const [showDeliveries, setShowDeliveries] = useState(false);
  const busy = toggleMutation.isPending ? "toggle" : testMutation.isPending ? "test" : deleteMutation.isPending ? "delete" : null;
  const result = testMutation.data ?? null;

  // the buttons are disabled while an action runs, which drops the focus of the one pressed to <body>: once it
  // ends, focus goes back (to the error, if it failed)
  const pressed = useRef<HTMLButtonElement | null>(null);
  const errorAlert = useRef<HTMLParagraphElement>(null);
  useFocusBackAfter(busy === "test" || busy === "toggle", pressed, errorAlert);
  const press = (action: () => Promise<unknown>) => (event: MouseEvent<HTMLButtonElement>) => {
    pressed.current = event.currentTarget;
    void action();
  };

  const run = async (fn: () => Promise<unknown>) => {
    setError(null);
    try {
      await fn();
    } catch (err) {
      setError(errorMessage(err));
    }
  };

  const toggle = () => run(() => toggleMutation.mutateAsync(webhook));
  const sendTest = () =>
    run(async () => {
      testMutation.reset();
      await testMutation.mutateAsync(webhook.id);
    });
  // a refusal shows in the confirm dialog, which stays open
  const remove = async () => {
    setError(null);
    await deleteMutation.mutateAsync(webhook.id);
    setConfirming(false);
  };

  return (
    <li className="webhook-card card" data-testid="webhook-row" data-webhook-id={webhook.id} data-enabled={webhook.enabled}>
      <div className="webhook-card__head">
        <div className="webhook-card__title">
          <span className="mono break" id={urlId}>
            {webhook.url}
          </span>
          <span className={`pill ${webhook.enabled ? "pill--on" : "pill--off"}`}>{webhook.enabled ? "Enabled" : "Disabled"}</span>
        </div>
        <p className="muted small">
          {webhook.events.map((e) => (
            <code key={e} className="tag">
              {e}
            </code>
          ))}
          {webhook.partner ? (
            <span>
              {" · only "}
              <strong className="break">{webhook.partner}</strong>
              {"'s imports"}
            </span>
          ) : (
            " · all imports"
          )}
          {webhook.has_secret ? " · signed" : " · unsigned"}
          {webhook.created_at ? ` · added ${formatDateTime(webhook.created_at)}` : ""}
        </p>
      </div>
      <div className="webhook-card__actions">
        <button type="button" className="button button--small" aria-describedby={urlId} onClick={press(sendTest)} disabled={busy !== null}>
          {busy === "test" ? "Sending…" : "Send test"}
        </button>
        <button type="button" className="button button--small" aria-describedby={urlId} onClick={press(toggle)} disabled={busy !== null} aria-pressed={!webhook.enabled}>
          {webhook.enabled ? "Disable" : "Enable"}
        </button>
        <button type="button" className="button button--small" aria-describedby={urlId} onClick={() => onEdit(webhook)} disabled={busy !== null}>
          Edit
        </button>
        <button type="button" className="button button--small button--danger-outline" aria-describedby={urlId} onClick={() => setConfirming(true)} disabled={busy !== null}>
          Delete
        </button>
        <button
          type="button"
          className="button button--small button--ghost"
          aria-describedby={urlId}
          aria-expanded={showDeliveries}
          onClick={() => setShowDeliveries((s) => !s)}
        >
          {showDeliveries ? "Hide deliveries" : "Show deliveries"}
        </button>
      </div>
      <div aria-live="polite">
        {result ? (
          <p className={`test-result ${result.ok ? "test-result--ok" : "test-result--bad"}`} data-testid="webhook-test-result" data-ok={result.ok}>
            <strong>{result.ok ? "Test delivered" : "Test failed"}:</strong>{" "}
            {result.status_code !== null ? `HTTP ${result.status_code}` : "no HTTP answer"}
            {result.latency_ms !== null ? ` in ${Math.round(result.latency_ms)} ms` : ""}
            {result.error ? ` — ${result.error}` : ""}
          </p>
        ) : null}
      </div>
      {error ? (
        <p className="alert alert--error" role="alert" tabIndex={-1} ref={errorAlert}>
          {error}
        </p>
      ) : null}
      {showDeliveries ? <Deliveries webhookId={webhook.id} /> : null}
      {confirming ? (
        <ConfirmDialog
          title="Delete this webhook?"
          message={
            <p>
              <span className="mono break">{webhook.url}</span> will get no more deliveries.
            </p>
          }
          confirmLabel="Delete webhook"
          busy={busy === "delete"}
          onConfirm={remove}
          onCancel={() => setConfirming(false)}
        />
      ) : null}
    </li>
  );
}
