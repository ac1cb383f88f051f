import { EmptyState } from "@/components/Feedback";
import { PagedList } from "@/components/PagedList";
import { formatDateTime } from "@/lib/format";
import { useCursorPager } from "@/lib/paging";
import { useDeliveries } from "../api/webhooks";

export function Deliveries({ webhookId }: { webhookId: string }) {
  const pager = useCursorPager(webhookId);
  const q = useDeliveries(webhookId, pager.cursor);
  return (
    <div className="deliveries" data-testid="deliveries">
      <h3 className="h4">Recent deliveries</h3>
      <PagedList
        query={q}
        pager={pager}
        loadingLabel="Loading deliveries…"
        errorTitle="Could not load deliveries."
        empty={<EmptyState title="No deliveries yet">Deliveries appear here when an import finishes or you send a test.</EmptyState>}
        pagerLabel="Delivery pages"
      >
        {(items) => (
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
                {items.map((d) => {
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
        )}
      </PagedList>
    </div>
  );
}
