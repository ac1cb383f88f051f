import { describe, expect, it } from "vitest";
import { countOf, formatBytes, formatDecimal, pluralOf, quoted, sentence } from "./format";

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

describe("formatBytes", () => {
  it("names binary sizes as binary units, without a needless .0", () => {
    expect(formatBytes(5_368_709_120)).toBe("5 GiB"); // 5 GiB: it was "5.0 GB"
    expect(formatBytes(64 * 1024)).toBe("64 KiB");
    expect(formatBytes(1536)).toBe("1.5 KiB");
    expect(formatBytes(1000)).toBe("1000 B");
    expect(formatBytes(150 * 1024 * 1024)).toBe("150 MiB");
    expect(formatBytes(1024 * 1024 - 1)).toBe("1 MiB"); // (1023.999 KiB rounds up to the next unit)
    expect(formatBytes(2.5 * 1024 ** 4)).toBe("2.5 TiB");
  });
});

describe("countOf and pluralOf", () => {
  it("put the words of a sentence in the form its count needs", () => {
    expect(countOf(1, "product")).toBe("1 product");
    expect(countOf(0, "product")).toBe("0 products");
    expect(countOf(70008, "product")).toBe("70,008 products");
    expect(countOf(2, "delivery", "deliveries")).toBe("2 deliveries");
    expect(`1 product it changed will get ${pluralOf(1, "its", "their")} previous values back`).toBe("1 product it changed will get its previous values back");
    expect(pluralOf(3, "is", "are")).toBe("are");
  });
});

describe("sentence and quoted", () => {
  it("make a server's phrase a sentence, and a value stand out as one", () => {
    expect(sentence("the file is empty")).toBe("The file is empty.");
    expect(sentence("Done!")).toBe("Done!");
    expect(quoted("..")).toBe("“..”");
  });
});
