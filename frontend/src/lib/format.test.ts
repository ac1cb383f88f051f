import { describe, expect, it } from "vitest";
import { formatDecimal } from "./format";

describe("formatDecimal", () => {
  it("shows at least two decimals and keeps the further ones a value has, on the digits", () => {
    expect(formatDecimal("8")).toBe("8.00");
    expect(formatDecimal("5.5")).toBe("5.50");
    expect(formatDecimal("1.00")).toBe("1.00");
    expect(formatDecimal("19.9900")).toBe("19.99");
    expect(formatDecimal("1.2345")).toBe("1.2345");
    expect(formatDecimal("0.0001")).toBe("0.0001");
    expect(formatDecimal("007.10")).toBe("7.10");
    expect(formatDecimal(".5")).toBe("0.50");
    expect(formatDecimal("12.")).toBe("12.00");
    expect(formatDecimal("-3")).toBe("-3.00");
  });

  it("never goes through a float (no value gains or loses a digit)", () => {
    expect(formatDecimal("123456789012345678.1")).toBe("123456789012345678.10");
    expect(formatDecimal("0.3")).toBe("0.30"); // 0.1 + 0.2 as a float would not be
  });

  it("leaves what is not a plain decimal as it came", () => {
    expect(formatDecimal("")).toBe("");
    expect(formatDecimal("abc")).toBe("abc");
    expect(formatDecimal("1e5")).toBe("1e5");
  });
});
