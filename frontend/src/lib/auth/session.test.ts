import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { AuthConfig } from "@/lib/config";
import { challengeS256 } from "./pkce";
import { AuthSession, REFRESH_MARGIN_MS, socketUrl, startAuthSession, type AuthDeps } from "./session";

const CONFIG: AuthConfig = {
  type: "cognito",
  region: "eu-west-1",
  user_pool_id: "eu-west-1_Pool",
  client_id: "spa-client",
  domain: "pi-prod.auth.eu-west-1.amazoncognito.com",
};
const ORIGIN = "https://d111.cloudfront.net";
const TOKEN_URL = `https://${CONFIG.domain}/oauth2/token`;

/** A JWT-shaped string with these claims (unsigned: the UI never verifies, it only shows who is in). */
function jwt(claims: Record<string, unknown>): string {
  const part = (o: unknown) => btoa(JSON.stringify(o)).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
  return `${part({ alg: "RS256" })}.${part(claims)}.sig`;
}

interface TokenCall {
  form: URLSearchParams;
}

/**
 * The hosted UI's token endpoint: answers with the next reply in line and records each form it got;
 * `/oauth2/revoke` answers 200 and is recorded apart.
 */
function fakeTokenEndpoint(replies: { status?: number; body: unknown }[]) {
  const calls: TokenCall[] = [];
  const revoked: URLSearchParams[] = [];
  const fetchFn = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    expect(new Headers(init?.headers).get("Content-Type")).toBe("application/x-www-form-urlencoded");
    if (String(input) === `https://${CONFIG.domain}/oauth2/revoke`) {
      revoked.push(new URLSearchParams(String(init?.body)));
      return new Response(null, { status: 200 });
    }
    expect(String(input)).toBe(TOKEN_URL);
    calls.push({ form: new URLSearchParams(String(init?.body)) });
    const reply = replies.shift() ?? { status: 500, body: {} };
    return new Response(JSON.stringify(reply.body), { status: reply.status ?? 200 });
  });
  return { calls, revoked, fetchFn: fetchFn as unknown as typeof fetch };
}

function session(overrides: AuthDeps = {}) {
  const navigated: string[] = [];
  let now = 1_700_000_000_000;
  const s = new AuthSession(CONFIG, {
    storage: sessionStorage,
    origin: ORIGIN,
    now: () => now,
    navigate: (url) => navigated.push(url),
    currentPath: () => "/products?q=lamp",
    ...overrides,
  });
  return { s, navigated, advance: (ms: number) => (now += ms), now: () => now };
}

async function signedIn(replies: { status?: number; body: unknown }[] = []) {
  const endpoint = fakeTokenEndpoint([
    { body: { access_token: "access-1", id_token: jwt({ email: "ops@example.com" }), refresh_token: "refresh-1", expires_in: 3600 } },
    ...replies,
  ]);
  const t = session({ fetch: endpoint.fetchFn });
  await t.s.signIn();
  const state = new URL(t.navigated[0]!).searchParams.get("state");
  await t.s.completeSignIn(`?code=the-code&state=${state}`);
  return { ...t, endpoint };
}

beforeEach(() => sessionStorage.clear());
afterEach(() => vi.useRealTimers());

describe("sign-in with the hosted UI (authorization code + PKCE)", () => {
  it("sends the browser to /oauth2/authorize with an S256 challenge of a stored verifier", async () => {
    const { s, navigated } = session();
    await s.signIn();
    const url = new URL(navigated[0]!);
    expect(`${url.origin}${url.pathname}`).toBe(`https://${CONFIG.domain}/oauth2/authorize`);
    const q = url.searchParams;
    expect(q.get("response_type")).toBe("code");
    expect(q.get("client_id")).toBe("spa-client");
    expect(q.get("redirect_uri")).toBe(`${ORIGIN}/auth/callback`);
    expect(q.get("scope")).toBe("openid email profile");
    expect(q.get("code_challenge_method")).toBe("S256");
    const pending = JSON.parse(sessionStorage.getItem("product-importer.auth.pending")!) as { verifier: string; state: string; returnTo: string };
    expect(q.get("code_challenge")).toBe(await challengeS256(pending.verifier));
    expect(q.get("state")).toBe(pending.state);
    expect(pending.returnTo).toBe("/products?q=lamp");
  });

  it("exchanges the code with the verifier, keeps the tokens in sessionStorage and returns where the user was", async () => {
    const endpoint = fakeTokenEndpoint([{ body: { access_token: "access-1", id_token: jwt({ email: "ops@example.com" }), refresh_token: "refresh-1", expires_in: 3600 } }]);
    const { s, navigated, now } = session({ fetch: endpoint.fetchFn });
    await s.signIn();
    const state = new URL(navigated[0]!).searchParams.get("state")!;
    const { verifier } = JSON.parse(sessionStorage.getItem("product-importer.auth.pending")!) as { verifier: string };

    // when the hosted UI calls back (twice, as React StrictMode does)
    const search = `?code=the-code&state=${state}`;
    const [returnTo] = await Promise.all([s.completeSignIn(search), s.completeSignIn(search)]);

    expect(returnTo).toBe("/products?q=lamp");
    expect(endpoint.calls).toHaveLength(1); // a code is exchanged once
    expect(Object.fromEntries(endpoint.calls[0]!.form)).toEqual({
      grant_type: "authorization_code",
      client_id: "spa-client",
      code: "the-code",
      redirect_uri: `${ORIGIN}/auth/callback`,
      code_verifier: verifier,
    });
    expect(s.tokens()).toEqual({ accessToken: "access-1", idToken: expect.any(String), refreshToken: "refresh-1", expiresAt: now() + 3_600_000 });
    expect(sessionStorage.getItem("product-importer.auth.pending")).toBeNull();
    expect(s.isSignedIn()).toBe(true);
    expect(s.user().email).toBe("ops@example.com");
  });

  it("refuses a callback whose state does not match (and the hosted UI's own errors)", async () => {
    const endpoint = fakeTokenEndpoint([]);
    const { s } = session({ fetch: endpoint.fetchFn });
    await s.signIn();
    await expect(s.completeSignIn("?code=c&state=forged")).rejects.toThrow(/not valid/);
    await expect(s.completeSignIn("?error=access_denied&error_description=User+cancelled")).rejects.toThrow(/User cancelled/);
    expect(endpoint.calls).toHaveLength(0);
    expect(s.isSignedIn()).toBe(false);
  });
});

describe("tokens", () => {
  it("hands out the access token while it is fresh, without calling the token endpoint", async () => {
    const { s, endpoint } = await signedIn();
    expect(await s.accessToken()).toBe("access-1");
    expect(endpoint.calls).toHaveLength(1); // only the code exchange
  });

  it("refreshes with the refresh token shortly before expiry, once for concurrent callers", async () => {
    const { s, endpoint, advance } = await signedIn([{ body: { access_token: "access-2", id_token: jwt({}), expires_in: 3600 } }]);
    advance(3_600_000 - REFRESH_MARGIN_MS + 1);
    const tokens = await Promise.all([s.accessToken(), s.accessToken(), s.accessToken()]);
    expect(tokens).toEqual(["access-2", "access-2", "access-2"]);
    expect(endpoint.calls).toHaveLength(2);
    expect(Object.fromEntries(endpoint.calls[1]!.form)).toEqual({ grant_type: "refresh_token", client_id: "spa-client", refresh_token: "refresh-1" });
    expect(s.tokens()?.refreshToken).toBe("refresh-1"); // Cognito sends no new one: the old one is kept
  });

  it("forgets the tokens when the refresh token is refused", async () => {
    const { s, advance } = await signedIn([{ status: 400, body: { error: "invalid_grant" } }]);
    advance(3_600_000);
    expect(await s.accessToken()).toBeNull();
    expect(s.tokens()).toBeNull();
    expect(s.isSignedIn()).toBe(false);
  });

  it("refreshes by itself a minute before the access token expires", async () => {
    vi.useFakeTimers();
    const { s, endpoint } = await signedIn([{ body: { access_token: "access-2", expires_in: 3600 } }]);
    s.scheduleRefresh();
    await vi.advanceTimersByTimeAsync(3_600_000 - REFRESH_MARGIN_MS - 1000);
    expect(endpoint.calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(2000);
    expect(endpoint.calls).toHaveLength(2);
    expect(s.tokens()?.accessToken).toBe("access-2");
    s.stop();
  });
});

describe("sign out", () => {
  it("forgets the tokens, revokes the refresh token and ends the hosted UI session", async () => {
    const { s, navigated, endpoint } = await signedIn();
    s.signOut();
    expect(s.tokens()).toBeNull();
    expect(s.signedOutHere()).toBe(true);
    await vi.waitFor(() => expect(endpoint.revoked).toHaveLength(1));
    expect(Object.fromEntries(endpoint.revoked[0]!)).toEqual({ token: "refresh-1", client_id: "spa-client" });
    const logout = new URL(navigated.at(-1)!);
    expect(`${logout.origin}${logout.pathname}`).toBe(`https://${CONFIG.domain}/logout`);
    expect(logout.searchParams.get("client_id")).toBe("spa-client");
    expect(logout.searchParams.get("logout_uri")).toBe(`${ORIGIN}/`);
    expect(endpoint.calls).toHaveLength(1);
  });
});

describe("the WebSocket URL", () => {
  it("is unchanged without sign-in", () => {
    expect(socketUrl("wss://ws.example/prod")).toBe("wss://ws.example/prod");
  });

  it("carries a fresh access token as ?token= where sign-in is on", async () => {
    sessionStorage.setItem(
      "product-importer.auth.tokens",
      JSON.stringify({ accessToken: "acc", idToken: null, refreshToken: "r", expiresAt: Date.now() + 3_600_000 }),
    );
    startAuthSession(CONFIG, { storage: sessionStorage, origin: ORIGIN, navigate: () => undefined });
    const url = socketUrl("wss://ws.example/prod");
    expect(typeof url).toBe("function");
    expect(await (url as () => Promise<string>)()).toBe("wss://ws.example/prod?token=acc");
  });
});
