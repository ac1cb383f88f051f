import { screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { mockApi } from "@/test/api";
import { renderPage } from "@/test/render";
import { WebhooksPage } from "./WebhooksPage";

const hook = { id: "wh-1", url: "https://partner.example/hook", events: ["import.completed"], enabled: true, created_at: "2025-01-01T10:00:00Z", has_secret: true, extra: "ok" };

describe("WebhooksPage", () => {
  it("adds a webhook", async () => {
    const { calls } = mockApi({
      "GET /api/webhooks": () => ({ body: { items: [], next_cursor: null } }),
      "POST /api/webhooks": (req) => ({ status: 201, body: { ...hook, ...(req.body as object), id: "wh-2", has_secret: true } }),
      // (the 201 body carries the secret once; the UI shows it, then forgets it)
    });
    const { user } = renderPage(<WebhooksPage />);
    expect(await screen.findByText("No webhooks yet")).toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "Add webhook" }));
    const dialog = await screen.findByRole("dialog", { name: "Add webhook" });
    await user.type(within(dialog).getByLabelText("Target URL"), "http://127.0.0.1:9999/hook");
    await user.type(within(dialog).getByLabelText(/Signing secret/), "s3cret");
    await user.click(within(dialog).getByRole("button", { name: "Add webhook" }));
    // a secret that is not whsec_… is refused before sending (CONTRACT §6)
    expect(within(dialog).getByLabelText(/Signing secret/)).toHaveAttribute("aria-invalid", "true");
    await user.clear(within(dialog).getByLabelText(/Signing secret/));
    await user.type(within(dialog).getByLabelText(/Signing secret/), "whsec_c2VjcmV0LXNlY3JldA==");
    await user.click(within(dialog).getByRole("button", { name: "Add webhook" }));
    const secret = await screen.findByRole("dialog", { name: "Copy the signing secret now" });
    expect(within(secret).getByLabelText("Signing secret")).toHaveValue("whsec_c2VjcmV0LXNlY3JldA==");
    await user.click(within(secret).getByRole("button", { name: "Done" }));
    expect(await screen.findByTestId("webhook-row")).toHaveTextContent("http://127.0.0.1:9999/hook");
    expect(calls.find((c) => c.method === "POST")!.body).toEqual({
      url: "http://127.0.0.1:9999/hook",
      events: ["import.completed", "import.failed"],
      secret: "whsec_c2VjcmV0LXNlY3JldA==",
    });
  });

  it("sends a test and shows status and latency, then the delivery", async () => {
    let delivered = false;
    mockApi({
      "GET /api/webhooks": () => ({ body: { items: [hook], next_cursor: null } }),
      "POST /api/webhooks/wh-1/test": () => {
        delivered = true;
        return { body: { status_code: 200, latency_ms: 42.4, ok: true } };
      },
      "GET /api/webhooks/wh-1/deliveries": () => ({
        body: {
          items: delivered
            ? [{ id: "d1", event: "test", status_code: 200, attempt: 1, latency_ms: 42, error: null, created_at: "2025-01-01T10:00:00Z" }]
            : [],
          next_cursor: null,
        },
      }),
    });
    const { user } = renderPage(<WebhooksPage />);
    const row = await screen.findByTestId("webhook-row");
    await user.click(within(row).getByRole("button", { name: "Show deliveries" }));
    expect(await within(row).findByText("No deliveries yet")).toBeInTheDocument();
    await user.click(within(row).getByRole("button", { name: "Send test" }));
    expect(await within(row).findByTestId("webhook-test-result")).toHaveTextContent("Test delivered: HTTP 200 in 42 ms");
    await waitFor(() => expect(within(row).getAllByTestId("delivery-row")).toHaveLength(1));
  });

  it("disables and shows a failed test in words", async () => {
    const { calls } = mockApi({
      "GET /api/webhooks": () => ({ body: [hook] }),
      "PATCH /api/webhooks/wh-1": (req) => ({ body: { ...hook, ...(req.body as object) } }),
      "POST /api/webhooks/wh-1/test": () => ({ body: { status_code: null, latency_ms: 5000, ok: false, error: "Connection refused" } }),
    });
    const { user } = renderPage(<WebhooksPage />);
    const row = await screen.findByTestId("webhook-row");
    await user.click(within(row).getByRole("button", { name: "Disable" }));
    await waitFor(() => expect(screen.getByTestId("webhook-row")).toHaveAttribute("data-enabled", "false"));
    expect(calls.find((c) => c.method === "PATCH")!.body).toEqual({ enabled: false });
    await user.click(within(row).getByRole("button", { name: "Send test" }));
    expect(await within(row).findByTestId("webhook-test-result")).toHaveTextContent("Test failed: no HTTP answer in 5000 ms — Connection refused");
  });
});
