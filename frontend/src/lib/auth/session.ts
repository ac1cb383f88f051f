import { setAuthProvider, type AuthProvider } from "@/lib/api";
import type { AuthConfig } from "@/lib/config";
import { challengeS256, randomState, randomVerifier } from "./pkce";

/**
 * Sign-in with the Cognito hosted UI: authorization code + PKCE, tokens in `sessionStorage` (this tab only,
 * gone when it closes), silent refresh with the refresh token shortly before the access token expires.
 *
 * `CALLBACK_PATH` and `SIGNED_OUT_PATH` are registered as the app client's callback and sign-out URLs
 * (infra/cdk/names.py).
 */
export const CALLBACK_PATH = "/auth/callback";
export const SIGNED_OUT_PATH = "/";
export const SCOPES = "openid email profile";
/** Refresh when the access token has less than this left (also the proactive timer's lead). */
export const REFRESH_MARGIN_MS = 60_000;

const TOKENS_KEY = "product-importer.auth.tokens";
const PENDING_KEY = "product-importer.auth.pending";
const SIGNED_OUT_KEY = "product-importer.auth.signed-out";

export interface Tokens {
  accessToken: string;
  idToken: string | null;
  refreshToken: string | null;
  /** Epoch ms when the access token expires. */
  expiresAt: number;
}

interface PendingSignIn {
  state: string;
  verifier: string;
  returnTo: string;
}

export interface AuthDeps {
  fetch?: typeof fetch;
  storage?: Storage;
  now?: () => number;
  /** Leave the app for the hosted UI (tests record the URL instead). */
  navigate?: (url: string) => void;
  /** This app's origin, e.g. `https://d111.cloudfront.net`. */
  origin?: string;
  /** Where the user is now (path + query), to come back to after signing in. */
  currentPath?: () => string;
}

/** Sign-in went wrong in a way the user should hear about (the callback page shows it). */
export class SignInError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SignInError";
  }
}

interface TokenReply {
  access_token?: unknown;
  id_token?: unknown;
  refresh_token?: unknown;
  expires_in?: unknown;
  error?: unknown;
  error_description?: unknown;
}

export class AuthSession implements AuthProvider {
  readonly config: AuthConfig;
  private readonly fetchFn: typeof fetch;
  private readonly storage: Storage;
  private readonly now: () => number;
  private readonly navigate: (url: string) => void;
  private readonly origin: string;
  private readonly currentPath: () => string;
  private refreshing: Promise<string | null> | null = null;
  private completing = new Map<string, Promise<string>>();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private redirecting = false;

  constructor(config: AuthConfig, deps: AuthDeps = {}) {
    this.config = config;
    this.fetchFn = deps.fetch ?? ((input, init) => fetch(input, init));
    this.storage = deps.storage ?? window.sessionStorage;
    this.now = deps.now ?? Date.now;
    this.navigate = deps.navigate ?? ((url) => window.location.assign(url));
    this.origin = deps.origin ?? window.location.origin;
    this.currentPath = deps.currentPath ?? (() => window.location.pathname + window.location.search);
  }

  get redirectUri(): string {
    return this.origin + CALLBACK_PATH;
  }

  private endpoint(path: string): string {
    return `https://${this.config.domain}${path}`;
  }

  // -- state --------------------------------------------------------------------------------------

  tokens(): Tokens | null {
    const raw = this.storage.getItem(TOKENS_KEY);
    if (!raw) return null;
    try {
      const t = JSON.parse(raw) as Tokens;
      return typeof t.accessToken === "string" && typeof t.expiresAt === "number" ? t : null;
    } catch {
      return null;
    }
  }

  /** Signed in: a token that is still valid, or one that can be refreshed. */
  isSignedIn(): boolean {
    const t = this.tokens();
    return !!t && (t.expiresAt > this.now() || !!t.refreshToken);
  }

  /** The user pressed "Sign out" in this tab (so do not send them straight back to the sign-in page). */
  signedOutHere(): boolean {
    return this.storage.getItem(SIGNED_OUT_KEY) === "1";
  }

  /** Name and e-mail from the id token, for the header (display only: the API checks the access token). */
  user(): { email: string | null; name: string | null } {
    const claims = decodeJwtPayload(this.tokens()?.idToken ?? null);
    const str = (v: unknown) => (typeof v === "string" ? v : null);
    return { email: str(claims?.email), name: str(claims?.name) ?? str(claims?.["cognito:username"]) };
  }

  private store(tokens: Tokens) {
    this.storage.setItem(TOKENS_KEY, JSON.stringify(tokens));
    this.scheduleRefresh();
  }

  private clear() {
    this.storage.removeItem(TOKENS_KEY);
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  // -- sign in ------------------------------------------------------------------------------------

  /** Go to the hosted UI; it comes back to `/auth/callback` with a code. */
  async signIn(returnTo: string = this.currentPath()): Promise<void> {
    const verifier = randomVerifier();
    const pending: PendingSignIn = {
      state: randomState(),
      verifier,
      returnTo: returnTo.startsWith("/") && !returnTo.startsWith(CALLBACK_PATH) ? returnTo : "/",
    };
    this.storage.setItem(PENDING_KEY, JSON.stringify(pending));
    this.storage.removeItem(SIGNED_OUT_KEY);
    const params = new URLSearchParams({
      response_type: "code",
      client_id: this.config.client_id,
      redirect_uri: this.redirectUri,
      scope: SCOPES,
      state: pending.state,
      code_challenge: await challengeS256(verifier),
      code_challenge_method: "S256",
    });
    this.navigate(`${this.endpoint("/oauth2/authorize")}?${params.toString()}`);
  }

  /**
   * The callback: check `state`, exchange the code (with the PKCE verifier) for tokens. Returns the path to
   * go back to. Safe to call twice with the same URL (React StrictMode): the code is exchanged once.
   */
  completeSignIn(search: string): Promise<string> {
    let running = this.completing.get(search);
    if (!running) {
      running = this.exchangeCode(search);
      this.completing.set(search, running);
    }
    return running;
  }

  private async exchangeCode(search: string): Promise<string> {
    const params = new URLSearchParams(search);
    const error = params.get("error");
    if (error) throw new SignInError(`Sign-in was not completed: ${params.get("error_description") ?? error}.`);
    const code = params.get("code");
    const pending = this.readPending();
    if (!code || !pending || params.get("state") !== pending.state) {
      throw new SignInError("This sign-in link is not valid any more (it was used, or started in another tab).");
    }
    this.storage.removeItem(PENDING_KEY);
    const reply = await this.tokenRequest({
      grant_type: "authorization_code",
      client_id: this.config.client_id,
      code,
      redirect_uri: this.redirectUri,
      code_verifier: pending.verifier,
    });
    if (!reply) throw new SignInError("The sign-in service did not accept the sign-in. Try again.");
    this.store(reply);
    return pending.returnTo;
  }

  private readPending(): PendingSignIn | null {
    try {
      const p = JSON.parse(this.storage.getItem(PENDING_KEY) ?? "null") as PendingSignIn | null;
      return p && typeof p.state === "string" && typeof p.verifier === "string" ? p : null;
    } catch {
      return null;
    }
  }

  // -- tokens -------------------------------------------------------------------------------------

  /** A valid access token, refreshed first when it expires within `REFRESH_MARGIN_MS`; null = signed out. */
  async accessToken(): Promise<string | null> {
    const t = this.tokens();
    if (!t) return null;
    if (t.expiresAt - this.now() > REFRESH_MARGIN_MS) return t.accessToken;
    return this.refresh();
  }

  /** Exchange the refresh token for new tokens (one request at a time); null when that is not possible. */
  refresh(): Promise<string | null> {
    if (!this.refreshing) {
      this.refreshing = this.doRefresh().finally(() => {
        this.refreshing = null;
      });
    }
    return this.refreshing;
  }

  private async doRefresh(): Promise<string | null> {
    const t = this.tokens();
    if (!t?.refreshToken) {
      this.clear();
      return null;
    }
    const reply = await this.tokenRequest({
      grant_type: "refresh_token",
      client_id: this.config.client_id,
      refresh_token: t.refreshToken,
    });
    if (!reply) {
      this.clear(); // refresh token expired or revoked: sign in again
      return null;
    }
    // Cognito answers a refresh without a new refresh token: keep the one we have.
    this.store({ ...reply, refreshToken: reply.refreshToken ?? t.refreshToken });
    return reply.accessToken;
  }

  private async tokenRequest(form: Record<string, string>): Promise<Tokens | null> {
    let res: Response;
    try {
      res = await this.fetchFn(this.endpoint("/oauth2/token"), {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded", Accept: "application/json" },
        body: new URLSearchParams(form).toString(),
      });
    } catch {
      return null;
    }
    let body: TokenReply = {};
    try {
      body = (await res.json()) as TokenReply;
    } catch {
      /* not JSON */
    }
    if (!res.ok || typeof body.access_token !== "string") return null;
    const expiresIn = typeof body.expires_in === "number" ? body.expires_in : 3600;
    return {
      accessToken: body.access_token,
      idToken: typeof body.id_token === "string" ? body.id_token : null,
      refreshToken: typeof body.refresh_token === "string" ? body.refresh_token : null,
      expiresAt: this.now() + expiresIn * 1000,
    };
  }

  /** Keep the access token fresh in the background (also for the WebSocket's next reconnect). */
  scheduleRefresh() {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const t = this.tokens();
    if (!t?.refreshToken) return;
    const delay = Math.max(0, t.expiresAt - REFRESH_MARGIN_MS - this.now());
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.refresh();
    }, delay);
  }

  stop() {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  // -- sign out -----------------------------------------------------------------------------------

  /** Forget the tokens, revoke the refresh token, and end the hosted UI's session too. */
  signOut(): void {
    const refreshToken = this.tokens()?.refreshToken;
    this.clear();
    this.storage.removeItem(PENDING_KEY);
    this.storage.setItem(SIGNED_OUT_KEY, "1");
    if (refreshToken) {
      // best effort; keepalive lets it finish while the page leaves
      void this.fetchFn(this.endpoint("/oauth2/revoke"), {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ token: refreshToken, client_id: this.config.client_id }).toString(),
        keepalive: true,
      }).catch(() => undefined);
    }
    const params = new URLSearchParams({ client_id: this.config.client_id, logout_uri: this.origin + SIGNED_OUT_PATH });
    this.navigate(`${this.endpoint("/logout")}?${params.toString()}`);
  }

  // -- AuthProvider (the API client) --------------------------------------------------------------

  refreshAfterUnauthorized(): Promise<string | null> {
    return this.refresh();
  }

  sessionEnded(): void {
    if (this.redirecting) return;
    this.redirecting = true;
    this.clear();
    void this.signIn();
  }
}

/** The claims of a JWT, unverified (only for showing who is signed in). */
export function decodeJwtPayload(token: string | null): Record<string, unknown> | null {
  const part = token?.split(".")[1];
  if (!part) return null;
  try {
    const json = atob(part.replace(/-/g, "+").replace(/_/g, "/"));
    const bytes = Uint8Array.from(json, (c) => c.charCodeAt(0));
    const claims: unknown = JSON.parse(new TextDecoder().decode(bytes));
    return claims && typeof claims === "object" ? (claims as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

// -- the one session of this page -------------------------------------------------------------------

let active: AuthSession | null = null;

/** The session for this deployment's sign-in config, created once; the API client sends its tokens. */
export function startAuthSession(config: AuthConfig, deps?: AuthDeps): AuthSession {
  if (!active || active.config.client_id !== config.client_id || active.config.domain !== config.domain) {
    active?.stop();
    active = new AuthSession(config, deps);
    active.scheduleRefresh();
    setAuthProvider(active);
  }
  return active;
}

/** The active session, or null where the deployment has no sign-in (local mode). */
export function currentAuthSession(): AuthSession | null {
  return active;
}

/** Tests call this between cases. */
export function resetAuthSession(): void {
  active?.stop();
  active = null;
  setAuthProvider(null);
}

/**
 * The WebSocket URL to connect with: as is without sign-in, else a function that adds `?token=<access
 * token>` (fresh for every (re)connect) — the `$connect` authorizer checks it.
 */
export function socketUrl(url: string): string | (() => Promise<string>) {
  const session = active;
  if (!session) return url;
  return async () => {
    const token = await session.accessToken();
    if (!token) return url;
    const withToken = new URL(url);
    withToken.searchParams.set("token", token);
    return withToken.toString();
  };
}
