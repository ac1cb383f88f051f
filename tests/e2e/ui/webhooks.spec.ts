import http from "node:http";
import type { AddressInfo } from "node:net";
import { expect, runId, saveMobileScreenshot, saveScreenshot, test } from "./fixtures";

/** PI_WEBHOOK_URL, or a receiver on 127.0.0.1 that this test starts and stops itself. */
async function receiver() {
  if (process.env.PI_WEBHOOK_URL) return { url: process.env.PI_WEBHOOK_URL, received: null as null | { headers: http.IncomingHttpHeaders; body: string }[], close: async () => {} };
  const received: { headers: http.IncomingHttpHeaders; body: string }[] = [];
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      received.push({ headers: req.headers, body });
      res.writeHead(200, { "Content-Type": "application/json" }).end('{"ok":true}');
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/hook/${runId}`, received, close: () => new Promise<void>((r) => server.close(() => r())) };
}

test("add a webhook for a partner, send a test, see the delivery, change its partner, disable and delete it", async ({ page }) => {
  const target = await receiver();
  try {
    await page.goto("/webhooks");
    await expect(page.getByRole("heading", { name: "Webhooks" })).toBeVisible();

    // given a new webhook whose secret the server makes (whsec_…, Standard Webhooks), shown once
    await page.getByRole("button", { name: "Add webhook" }).click();
    const form = page.getByRole("dialog", { name: "Add webhook" });
    await form.getByLabel("Target URL").fill(target.url);
    // that hears only of one partner's imports
    await form.getByLabel("Partner (optional)").fill("acme");
    await form.getByRole("button", { name: "Add webhook" }).click();
    const secretDialog = page.getByRole("dialog", { name: "Copy the signing secret now" });
    await expect(secretDialog.getByLabel("Signing secret")).toHaveValue(/^whsec_[A-Za-z0-9+/]+=*$/);
    await secretDialog.getByRole("button", { name: "Done" }).click();
    const row = page.getByTestId("webhook-row").filter({ hasText: target.url });
    await expect(row).toBeVisible();
    await expect(row).toContainText("signed");
    await expect(row).toContainText("only acme's imports");

    // when "Send test" is pressed
    await row.getByRole("button", { name: "Send test" }).click();

    // then the result shows status and latency
    const result = row.getByTestId("webhook-test-result");
    await expect(result).toHaveAttribute("data-ok", "true", { timeout: 30_000 });
    await expect(result).toContainText(/HTTP 2\d\d in \d+ ms/);
    if (target.received) {
      expect(target.received.length).toBeGreaterThan(0);
      const headers = target.received[0]!.headers;
      expect(headers["webhook-id"]).toBeTruthy();
      expect(headers["webhook-timestamp"]).toMatch(/^\d+$/);
      expect(headers["webhook-signature"]).toMatch(/^v1,[A-Za-z0-9+/]+=*/);
    }

    // and the delivery log lists it
    await row.getByRole("button", { name: "Show deliveries" }).click();
    await expect(row.getByTestId("delivery-row").first()).toBeVisible({ timeout: 15_000 });
    await saveScreenshot(page, "webhooks");
    await saveMobileScreenshot(page, "webhooks-mobile");

    // and a partner no drop folder can have is refused next to the field, by the API (422)
    await row.getByRole("button", { name: "Edit" }).click();
    const edit = page.getByRole("dialog", { name: "Edit webhook" });
    const partner = edit.getByLabel("Partner (optional)");
    await expect(partner).toHaveValue("acme");
    await partner.fill("acme/daily");
    await edit.getByRole("button", { name: "Save changes" }).click();
    await expect(partner).toHaveAttribute("aria-invalid", "true");
    await expect(edit).toContainText("a partner is a folder name under incoming/");
    // and emptied, the webhook hears of every import again
    await partner.fill("");
    await edit.getByRole("button", { name: "Save changes" }).click();
    await expect(edit).toBeHidden();
    await expect(row).toContainText("all imports");

    // and it can be disabled, enabled and deleted
    await row.getByRole("button", { name: "Disable" }).click();
    await expect(row).toHaveAttribute("data-enabled", "false");
    await row.getByRole("button", { name: "Enable" }).click();
    await expect(row).toHaveAttribute("data-enabled", "true");
    await row.getByRole("button", { name: "Delete" }).click();
    await page.getByRole("dialog", { name: "Delete this webhook?" }).getByRole("button", { name: "Delete webhook" }).click();
    await expect(page.getByTestId("webhook-row").filter({ hasText: target.url })).toHaveCount(0);
  } finally {
    await target.close();
  }
});
