import { render, screen } from "@testing-library/react";
import { MemoryRouter } from "react-router-dom";
import { describe, expect, it, vi } from "vitest";
import { currentAuthSession, startAuthSession } from "@/lib/auth/session";
import type { AuthConfig } from "@/lib/config";
import { mockApi } from "@/test/api";
import { RequireAuth } from "./RequireAuth";

const AUTH: AuthConfig = {
  type: "cognito",
  region: "eu-west-1",
  user_pool_id: "eu-west-1_Pool",
  client_id: "spa-client",
  domain: "pi.auth.eu-west-1.amazoncognito.com",
};

function renderGate() {
  return render(
    <MemoryRouter>
      <RequireAuth>
        <p>the app</p>
      </RequireAuth>
    </MemoryRouter>,
  );
}

/** A session whose navigation the test can see (instead of leaving the page). */
function sessionWithNavigation() {
  const navigated: string[] = [];
  startAuthSession(AUTH, { navigate: (url) => navigated.push(url), origin: "https://d111.cloudfront.net" });
  return navigated;
}

describe("RequireAuth", () => {
  it("shows the app at once where the deployment has no sign-in (local mode)", async () => {
    mockApi({ "GET /api/config": () => ({ body: { websocket_url: "/ws", auth: null } }) });
    renderGate();
    expect(await screen.findByText("the app")).toBeInTheDocument();
    expect(currentAuthSession()).toBeNull();
  });

  it("sends a visitor without a session to the hosted sign-in page", async () => {
    mockApi({ "GET /api/config": () => ({ body: { websocket_url: null, auth: AUTH } }) });
    const navigated = sessionWithNavigation();
    renderGate();
    expect(await screen.findByText("Going to sign-in…")).toBeInTheDocument();
    await vi.waitFor(() => expect(navigated).toHaveLength(1));
    expect(navigated[0]).toMatch(/^https:\/\/pi\.auth\.eu-west-1\.amazoncognito\.com\/oauth2\/authorize\?/);
    expect(screen.queryByText("the app")).not.toBeInTheDocument();
  });

  it("shows the app to a signed-in user", async () => {
    mockApi({ "GET /api/config": () => ({ body: { websocket_url: null, auth: AUTH } }) });
    sessionStorage.setItem(
      "product-importer.auth.tokens",
      JSON.stringify({ accessToken: "a", idToken: null, refreshToken: "r", expiresAt: Date.now() + 3_600_000 }),
    );
    sessionWithNavigation();
    renderGate();
    expect(await screen.findByText("the app")).toBeInTheDocument();
  });

  it("after signing out offers to sign in again instead of bouncing to the sign-in page", async () => {
    mockApi({ "GET /api/config": () => ({ body: { websocket_url: null, auth: AUTH } }) });
    sessionStorage.setItem("product-importer.auth.signed-out", "1");
    const navigated = sessionWithNavigation();
    renderGate();
    expect(await screen.findByRole("heading", { name: "You are signed out" })).toBeInTheDocument();
    expect(navigated).toEqual([]);
    screen.getByRole("button", { name: "Sign in" }).click();
    await vi.waitFor(() => expect(navigated).toHaveLength(1));
  });
});
