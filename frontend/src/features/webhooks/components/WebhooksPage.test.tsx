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

  it("adds a webhook for one partner and lists it as hearing only of that partner's imports", async () => {
    const { calls } = mockApi({
      "GET /api/webhooks": () => ({ body: { items: [hook], next_cursor: null } }),
      "POST /api/webhooks": (req) => ({ status: 201, body: { ...hook, partner: null, ...(req.body as object), id: "wh-2", secret: "whsec_c2VjcmV0LXNlY3JldA==" } }),
    });
    const { user } = renderPage(<WebhooksPage />);
    // a webhook without a partner hears of every import
    expect(await screen.findByTestId("webhook-row")).toHaveTextContent("all imports");
    await user.click(screen.getByRole("button", { name: "Add webhook" }));
    const dialog = await screen.findByRole("dialog", { name: "Add webhook" });
    await user.type(within(dialog).getByLabelText("Target URL"), "https://acme.example/hook");
    await user.type(within(dialog).getByLabelText("Partner (optional)"), " acme ");
    await user.click(within(dialog).getByRole("button", { name: "Add webhook" }));
    await user.click(within(await screen.findByRole("dialog", { name: "Copy the signing secret now" })).getByRole("button", { name: "Done" }));
    expect(calls.find((c) => c.method === "POST")!.body).toEqual({
      url: "https://acme.example/hook",
      events: ["import.completed", "import.failed"],
      partner: "acme",
    });
    const rows = await screen.findAllByTestId("webhook-row");
    expect(rows[1]).toHaveTextContent("only acme's imports");
    expect(rows[0]).not.toHaveTextContent("only");
  });

  it("edits a webhook's partner, and an empty partner clears it (every import)", async () => {
    const { calls } = mockApi({
      "GET /api/webhooks": () => ({ body: [{ ...hook, partner: "ACME Corp" }] }),
      "PATCH /api/webhooks/wh-1": (req) => ({ body: { ...hook, partner: "ACME Corp", ...(req.body as object) } }),
    });
    const { user } = renderPage(<WebhooksPage />);
    const row = await screen.findByTestId("webhook-row");
    expect(row).toHaveTextContent("only ACME Corp's imports");
    // the form shows the partner set
    await user.click(within(row).getByRole("button", { name: "Edit" }));
    let form = await screen.findByRole("dialog", { name: "Edit webhook" });
    const field = within(form).getByLabelText("Partner (optional)");
    expect(field).toHaveValue("ACME Corp");
    // another partner
    await user.clear(field);
    await user.type(field, "beta");
    await user.click(within(form).getByRole("button", { name: "Save changes" }));
    await waitFor(() => expect(screen.queryByRole("dialog")).toBeNull());
    expect(calls.filter((c) => c.method === "PATCH")[0]!.body).toMatchObject({ partner: "beta" });
    expect(screen.getByTestId("webhook-row")).toHaveTextContent("only beta's imports");
    // emptied: null clears it
    await user.click(within(screen.getByTestId("webhook-row")).getByRole("button", { name: "Edit" }));
    form = await screen.findByRole("dialog", { name: "Edit webhook" });
    await user.clear(within(form).getByLabelText("Partner (optional)"));
    await user.click(within(form).getByRole("button", { name: "Save changes" }));
    await waitFor(() => expect(screen.queryByRole("dialog")).toBeNull());
    expect(calls.filter((c) => c.method === "PATCH")[1]!.body).toEqual({ url: hook.url, events: hook.events, partner: null });
    expect(screen.getByTestId("webhook-row")).toHaveTextContent("all imports");
    expect(screen.getByTestId("webhook-row")).not.toHaveTextContent("only");
  });

  it("shows the API's refusal of a partner name under the partner field and keeps the form open", async () => {
    // given the API refuses the name (as FastAPI answers a failed validator)
    const message = "a partner is a folder name under incoming/: 1-255 characters, without '/' or control characters, not blank, '.' or '..'";
    mockApi({
      "GET /api/webhooks": () => ({ body: [hook] }),
      "PATCH /api/webhooks/wh-1": () => ({
        status: 422,
        body: { detail: [{ type: "value_error", loc: ["body", "partner"], msg: `Value error, ${message}`, input: "acme/daily" }] },
      }),
    });
    const { user } = renderPage(<WebhooksPage />);
    await user.click(within(await screen.findByTestId("webhook-row")).getByRole("button", { name: "Edit" }));
    const form = await screen.findByRole("dialog", { name: "Edit webhook" });
    // when the admin saves a partner with a folder path in it
    await user.type(within(form).getByLabelText("Partner (optional)"), "acme/daily");
    await user.click(within(form).getByRole("button", { name: "Save changes" }));
    // then its reason is next to the field, which is marked invalid; nothing else is blamed
    const field = within(form).getByLabelText("Partner (optional)");
    await waitFor(() => expect(field).toHaveAttribute("aria-invalid", "true"));
    expect(field).toHaveAccessibleDescription(expect.stringContaining(message));
    expect(within(form).queryByRole("alert")).toBeNull();
    expect(within(form).getByLabelText("Target URL")).not.toHaveAttribute("aria-invalid");
    expect(field).toHaveValue("acme/daily");
  });

  it("names the webhook each card's buttons act on (every card's read “Delete”, “Edit”… and nothing more)", async () => {
    const other = { ...hook, id: "wh-2", url: "https://other.example/hook" };
    mockApi({ "GET /api/webhooks": () => ({ body: { items: [hook, other], next_cursor: null } }) });
    renderPage(<WebhooksPage />);
    const [first, second] = await screen.findAllByTestId("webhook-row");
    for (const name of ["Send test", "Disable", "Edit", "Delete", "Show deliveries"]) {
      expect(within(first!).getByRole("button", { name })).toHaveAccessibleDescription("https://partner.example/hook");
      expect(within(second!).getByRole("button", { name })).toHaveAccessibleDescription("https://other.example/hook");
    }
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

  it("shows a refused delete inside the confirm dialog, which stays open", async () => {
    // given a webhook the server will not delete
    mockApi({
      "GET /api/webhooks": () => ({ body: [hook] }),
      "DELETE /api/webhooks/wh-1": () => ({ status: 503, body: { detail: "The database is busy. Try again." } }),
    });
    const { user } = renderPage(<WebhooksPage />);
    await user.click(within(await screen.findByTestId("webhook-row")).getByRole("button", { name: "Delete" }));
    const dialog = await screen.findByRole("dialog", { name: "Delete this webhook?" });
    // when the admin confirms
    await user.click(within(dialog).getByRole("button", { name: "Delete webhook" }));
    // then the reason is in the dialog, which stays open, and nowhere else
    expect(await within(dialog).findByRole("alert")).toHaveTextContent("The database is busy. Try again.");
    expect(screen.getByRole("dialog", { name: "Delete this webhook?" })).toBeInTheDocument();
    expect(screen.getAllByRole("alert")).toHaveLength(1);
  });

  it("treats a webhook deleted in another tab as deleted: Delete is done, Edit says so; the list refreshes", async () => {
    // given a page that still lists a webhook another tab has deleted
    let listed = [hook, { ...hook, id: "wh-2", url: "https://other.example/hook" }];
    const { calls } = mockApi({
      "GET /api/webhooks": () => ({ body: listed }),
      "DELETE /api/webhooks/wh-1": () => ({ status: 404, body: { detail: "webhook 'wh-1' not found" } }),
      "PATCH /api/webhooks/wh-2": () => ({ status: 404, body: { detail: "webhook 'wh-2' not found" } }),
    });
    const { user } = renderPage(<WebhooksPage />);
    await waitFor(() => expect(screen.getAllByTestId("webhook-row")).toHaveLength(2));
    // when it is deleted here too: that is done, the dialog closes and the row goes
    const first = screen.getAllByTestId("webhook-row")[0]!;
    await user.click(within(first).getByRole("button", { name: "Delete" }));
    await user.click(within(await screen.findByRole("dialog")).getByRole("button", { name: "Delete webhook" }));
    await waitFor(() => expect(screen.queryByRole("dialog")).toBeNull());
    expect(screen.getAllByTestId("webhook-row")).toHaveLength(1);
    // when the other one, also gone, is edited: the dialog says why nothing was saved, and the list is asked again
    listed = [];
    const gets = calls.filter((c) => c.method === "GET").length;
    await user.click(within(screen.getByTestId("webhook-row")).getByRole("button", { name: "Edit" }));
    const form = await screen.findByRole("dialog", { name: "Edit webhook" });
    await user.click(within(form).getByRole("button", { name: "Save changes" }));
    expect(await within(form).findByRole("alert")).toHaveTextContent("This webhook was deleted meanwhile");
    await waitFor(() => expect(calls.filter((c) => c.method === "GET").length).toBeGreaterThan(gets));
  });

  it("gives focus back to the form after a server error that belongs to no field, so Escape still closes it", async () => {
    // given a save that takes a while and then fails with no field to blame
    let fail: () => void = () => {};
    const failed = new Promise<void>((resolve) => (fail = resolve));
    mockApi({
      "GET /api/webhooks": () => ({ body: [hook] }),
      "PATCH /api/webhooks/wh-1": async () => {
        await failed;
        return { status: 500, body: { detail: "The server had a problem. Try again." } };
      },
    });
    const { user } = renderPage(<WebhooksPage />);
    await user.click(within(await screen.findByTestId("webhook-row")).getByRole("button", { name: "Edit" }));
    const form = await screen.findByRole("dialog", { name: "Edit webhook" });
    await user.click(within(form).getByRole("button", { name: "Save changes" }));
    // while saving the button is disabled, and a browser moves the focus of a disabled button out of the
    // dialog (to <body>; jsdom does not, so the test moves it out itself)
    expect(await within(form).findByRole("button", { name: "Saving…" })).toBeDisabled();
    screen.getByRole("button", { name: "Add webhook" }).focus();
    expect(form).not.toContainElement(document.activeElement as HTMLElement | null);
    // when the save fails
    fail();
    // then the focus is back in the dialog, on the message
    const alert = await within(form).findByRole("alert");
    expect(alert).toHaveTextContent("The server had a problem. Try again.");
    await waitFor(() => expect(alert).toHaveFocus());
    // and Escape closes the dialog again
    await user.keyboard("{Escape}");
    expect(screen.queryByRole("dialog")).toBeNull();
  });
});
