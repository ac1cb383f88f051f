/** PKCE (RFC 7636) for the authorization code flow: a random verifier and its S256 challenge. */

const VERIFIER_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~";

/** A random string of unreserved characters (RFC 7636 §4.1: 43–128 characters). */
export function randomVerifier(length = 64): string {
  if (length < 43 || length > 128) throw new RangeError("a PKCE verifier has 43 to 128 characters");
  // Rejection sampling: only bytes below the largest multiple of 66 map onto the alphabet without bias.
  const limit = 256 - (256 % VERIFIER_CHARS.length);
  let out = "";
  while (out.length < length) {
    for (const b of crypto.getRandomValues(new Uint8Array(length))) {
      if (b < limit && out.length < length) out += VERIFIER_CHARS[b % VERIFIER_CHARS.length];
    }
  }
  return out;
}

/** An opaque value to tie the callback to the request that started it (CSRF protection). */
export function randomState(): string {
  return base64Url(crypto.getRandomValues(new Uint8Array(24)));
}

export function base64Url(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** `BASE64URL(SHA-256(verifier))`, the `code_challenge` for `code_challenge_method=S256`. */
export async function challengeS256(verifier: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  return base64Url(new Uint8Array(digest));
}
