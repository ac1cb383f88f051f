import { useState } from "react";
import { EmptyState, ErrorMessage, Loading, Notice } from "@/components/Feedback";
import { usePermissions } from "@/lib/auth/permissions";
import { useDocumentTitle } from "@/lib/title";
import { useWebhooks } from "../api/webhooks";
import type { Webhook } from "../api/schemas";
import { WebhookCard } from "./WebhookCard";
import { SecretDialog } from "./SecretDialog";
import { WebhookFormDialog } from "./WebhookFormDialog";

export function WebhooksPage() {
  useDocumentTitle("Webhooks");
  const allowed = usePermissions().can("admin");
  if (!allowed) {
    return (
      <div className="page">
        <h1>Webhooks</h1>
        <Notice>Webhooks are managed by administrators (their URLs can carry credentials).</Notice>
      </div>
    );
  }
  return <WebhookList />;
}

function WebhookList() {
  const q = useWebhooks();
  const [editing, setEditing] = useState<Webhook | "new" | null>(null);
  const [newSecret, setNewSecret] = useState<{ url: string; secret: string } | null>(null);


  return (
    <div className="page">
      <header className="page__head page__head--row">
        <div>
          <h1>Webhooks</h1>
          <p className="page__lead">Tell other systems when an import completes or fails.</p>
        </div>
        <div className="page__actions">
          <button type="button" className="button button--primary" onClick={() => setEditing("new")}>
            Add webhook
          </button>
        </div>
      </header>
      {q.isLoading ? <Loading label="Loading webhooks…" /> : null}
      {q.error ? <ErrorMessage error={q.error} onRetry={() => void q.refetch()} title="Could not load webhooks." /> : null}
      {q.data && q.data.items.length === 0 ? (
        <EmptyState title="No webhooks yet">Add one to get a signed POST for every finished import.</EmptyState>
      ) : null}
      {q.data && q.data.items.length > 0 ? (
        <ul className="webhook-list" data-testid="webhook-list">
          {q.data.items.map((w) => (
            <WebhookCard key={w.id} webhook={w} onEdit={setEditing} />
          ))}
        </ul>
      ) : null}
      {editing !== null ? (
        <WebhookFormDialog
          webhook={editing === "new" ? null : editing}
          onClose={() => setEditing(null)}
          onSaved={(w) => {
            setEditing(null);
            if (w.secret) setNewSecret({ url: w.url, secret: w.secret });
          }}
        />
      ) : null}
      {newSecret ? <SecretDialog {...newSecret} onClose={() => setNewSecret(null)} /> : null}
    </div>
  );
}
