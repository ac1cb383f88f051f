import { EmptyState, ErrorMessage, Loading } from "@/components/Feedback";
import { Pager } from "@/components/Pager";
import { formatDateTime } from "@/lib/format";
import { useCursorPager } from "@/lib/paging";
import { useDeliveries } from "../api/webhooks";

export function Deliveries({ webhookId }: { webhookId: string }) {
  const pager = useCursorPager(webhookId);
  const q = useDeliveries(webhookId, pager.cursor);
  return (
    <div className="deliveries" data-testid="deliveries">
      <h3 className="h4">Recent deliveries</h3>
      {q.isLoading ? <Loading label="Loading deliveries…" /> : null}
      {q.error ? <ErrorMessage error={q.error} onRetry={() => void q.refetch()} title="Could not load deliveries." /> : null}
      {q.data && q.data.items.length === 0 ? <EmptyState title="No deliveries yet">Deliveries appear here when an import finishes or you send a test.</EmptyState> : null}
      {q.data && q.data.items.length > 0 ? (
        <div className="table-wrap" tabIndex={0} role="region" aria-label="Deliveries table">
          <table className="table table--compact">
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Event</th>
                <th scope="col" className="num">Status</th>
                <th scope="col" className="num">Attempt</th>
                <th scope="col" className="num">Latency</th>
                <th scope="col">Error</th>
              </tr>
            </thead>
            <tbody>
              {q.data.items.map((d) => {
                const ok = d.status_code !== null && d.status_code >= 200 && d.status_code < 300;
                return (
                  <tr key={d.id} data-testid="delivery-row">
                    <td>{formatDateTime(d.created_at)}</td>
                    <td>
                      <code>{d.event}</code>
                    </td>
                    <td className="num">
                      <span className={`pill ${ok ? "pill--on" : "pill--bad"}`}>{d.status_code ?? "no answer"}</span>
                    </td>
                    <td className="num">{d.attempt ?? "–"}</td>
                    <td className="num">{d.latency_ms === null ? "–" : `${Math.round(d.latency_ms)} ms`}</td>
                    <td>{d.error ?? <span className="muted">–</span>}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      ) : null}
      <Pager
        label="Delivery pages"
        page={pager.page}
        hasPrevious={pager.hasPrevious}
        hasNext={Boolean(q.data?.next_cursor)}
        onPrevious={pager.previous}
        onNext={() => q.data?.next_cursor && pager.next(q.data.next_cursor)}
        busy={q.isFetching}
      />
    </div>
  );
}
