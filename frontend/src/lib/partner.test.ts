import { describe, expect, it } from "vitest";
import { isDropPrefix, isPartnerFolder } from "./partner";

describe("partner folders (CONTRACT §4)", () => {
  it("takes the names partner systems write", () => {
    for (const name of ["acme", "ACME Corp", "Müller GmbH", "Mu\u0308ller", "société.fr", "a".repeat(255)]) {
      expect(isPartnerFolder(name), name).toBe(true);
    }
  });

  it("refuses what no drop folder can be", () => {
    for (const name of ["", " ", ".", "..", "a/b", "a\u0000b", "a\u0085b", "a\tb", "a".repeat(256)]) {
      expect(isPartnerFolder(name), JSON.stringify(name)).toBe(false);
    }
  });

  it("checks every folder of a prefix", () => {
    expect(isDropPrefix("incoming/ACME Corp/")).toBe(true);
    expect(isDropPrefix("incoming/acme/daily")).toBe(true);
    expect(isDropPrefix("incoming/")).toBe(false);
    expect(isDropPrefix("incoming//")).toBe(false);
    expect(isDropPrefix("incoming/acme/../")).toBe(false);
    expect(isDropPrefix("uploads/acme/")).toBe(false);
  });
});
