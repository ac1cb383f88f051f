import { startAuthSession } from "@/lib/auth/session";
import type { AuthConfig } from "@/lib/config";

export const TEST_AUTH: AuthConfig = {
  type: "cognito",
  region: "eu-west-1",
  user_pool_id: "eu-west-1_Pool",
  client_id: "spa-client",
  domain: "pi.auth.eu-west-1.amazoncognito.com",
};

function base64url(text: string): string {
  return btoa(String.fromCharCode(...new TextEncoder().encode(text)))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
}

/** An unsigned JWT with these claims (the UI only reads claims; the API checks signatures). */
export function fakeJwt(claims: Record<string, unknown>): string {
  return `${base64url(JSON.stringify({ alg: "none" }))}.${base64url(JSON.stringify(claims))}.sig`;
}

/** Sign in (as the hosted UI would leave it) a user in `groups`; the session's navigation goes nowhere. */
export function signInAs(groups: string[], claims: Record<string, unknown> = {}) {
  sessionStorage.setItem(
    "product-importer.auth.tokens",
    JSON.stringify({
      accessToken: fakeJwt({ "cognito:groups": groups, ...claims }),
      idToken: fakeJwt({ email: "user@example.com", ...claims }),
      refreshToken: "r",
      expiresAt: Date.now() + 3_600_000,
    }),
  );
  return startAuthSession(TEST_AUTH, { navigate: () => undefined, origin: "https://d111.cloudfront.net" });
}
