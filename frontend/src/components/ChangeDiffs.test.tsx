import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { ChangeDiffs, SHOWN_CHARACTERS } from "./ChangeDiffs";

describe("ChangeDiffs", () => {
  it("shows the start of a long value and its length, and all of it on request", async () => {
    const long = "word ".repeat(4000).trim(); // 19,999 characters
    render(<ChangeDiffs change={{ action: "update", changes: { description: { from: "short", to: long } } }} />);
    const after = screen.getByText((_, el) => el?.tagName === "INS");
    expect(after.textContent!.length).toBeLessThan(SHOWN_CHARACTERS + 100);
    expect(screen.getByText("short")).toBeInTheDocument();
    await userEvent.setup().click(screen.getByRole("button", { name: "Show all 19,999 characters" }));
    expect(after.textContent).toContain(long);
    expect(screen.getByRole("button", { name: "Show less" })).toBeInTheDocument();
  });

  it("shows prices before and after with at least two decimals, as the product table does", () => {
    render(<ChangeDiffs change={{ action: "update", changes: { price: { from: "8", to: "5.5" }, quantity: { from: 8, to: 5 } } }} />);
    expect(screen.getByText("8.00").closest("del")).not.toBeNull();
    expect(screen.getByText("5.50").closest("ins")).not.toBeNull();
    expect(screen.getByText("5").closest("ins")).not.toBeNull(); // other numbers stay as they are
  });

  it("lists the changed fields in the product's order, not in the API's (by name length), attributes last", () => {
    // given the fields as the API answers them: ordered by the length of their names
    const changes = Object.fromEntries(
      ["name", "brand", "price", "active", "barcode", "category", "currency", "quantity", "attributes", "description"].map((f) => [
        f,
        f === "attributes" ? { from: { size: "M", colour: "red" }, to: { size: "L", colour: "blue" } } : { from: "a", to: "b" },
      ]),
    );
    const { container } = render(<ChangeDiffs change={{ action: "update", changes }} />);
    const labels = [...container.querySelectorAll(".diff__field")].map((el) => el.textContent?.trim());
    expect(labels).toEqual([
      "Name",
      "Description",
      "Price",
      "Currency",
      "Quantity",
      "Active",
      "Brand",
      "Category",
      "Barcode",
      "Attributes: colour",
      "Attributes: size",
    ]);
  });
});
