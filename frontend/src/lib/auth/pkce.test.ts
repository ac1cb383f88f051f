import { describe, expect, it } from "vitest";
import { base64Url, challengeS256, randomState, randomVerifier } from "./pkce";

describe("PKCE", () => {
  it("computes the S256 challenge of RFC 7636's example verifier", async () => {
    // given the verifier from RFC 7636, appendix B
    const verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    // then the challenge is the one the RFC lists
    expect(await challengeS256(verifier)).toBe("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
  });

  it("makes verifiers of unreserved characters, a new one each time", () => {
    const a = randomVerifier();
    const b = randomVerifier();
    expect(a).toMatch(/^[A-Za-z0-9\-._~]{64}$/);
    expect(a).not.toBe(b);
    expect(randomVerifier(43)).toHaveLength(43);
    expect(() => randomVerifier(42)).toThrow(RangeError);
    expect(() => randomVerifier(129)).toThrow(RangeError);
  });

  it("encodes base64url without padding", () => {
    expect(base64Url(new Uint8Array([0xfb, 0xff]))).toBe("-_8");
    expect(randomState()).toMatch(/^[A-Za-z0-9_-]{32}$/);
  });
});
