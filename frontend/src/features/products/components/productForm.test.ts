import { describe, expect, it } from "vitest";

import { blankProduct, validateProduct } from "./productForm";

const form = (over: Partial<typeof blankProduct>) => ({ ...blankProduct, sku: "AB-1", name: "Mug", ...over });

describe("validateProduct (CONTRACT §1, the same rules as the API)", () => {
  it("accepts a description of 65,535 characters and refuses one more", () => {
    expect(validateProduct(form({ description: "x".repeat(65_535) })).description).toBeUndefined();
    expect(validateProduct(form({ description: "x".repeat(65_536) })).description).toMatch(/65,535/);
  });

  it("counts characters, not UTF-16 units", () => {
    expect(validateProduct(form({ description: "😀".repeat(65_535) })).description).toBeUndefined();
  });

  it.each([".5", "5.", "12.50", "0.0001", "7"])("accepts the price %s as a spreadsheet reads it", (price) => {
    expect(validateProduct(form({ price })).price).toBeUndefined();
  });

  it.each(["-1", "1,5", "1.23456", "$5", "."])("refuses the price %s", (price) => {
    expect(validateProduct(form({ price })).price).toBeDefined();
  });

  it.each(["AB\u200b-1", "A\ufeffB", "AB\u00ad1", "AB\u200e"])("refuses an invisible character in the SKU %j", (sku) => {
    expect(validateProduct(form({ sku })).sku).toMatch(/invisible/);
  });

  it("refuses C1 controls and line separators in the SKU", () => {
    expect(validateProduct(form({ sku: "A\u0085B" })).sku).toMatch(/control/);
    expect(validateProduct(form({ sku: "A\u2028B" })).sku).toMatch(/control/);
  });
});
