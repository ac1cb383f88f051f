import { screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { mockApi } from "@/test/api";
import { renderPage } from "@/test/render";
import { RowErrorTable } from "./RowErrorTable";

const err = (row: number) => ({ row, sku: `S-${row}`, column: "price", message: "Price must be a number", value: `x${row}` });

describe("RowErrorTable", () => {
  it("pages forward with next_cursor and back again", async () => {
    // given an API with two pages of row errors
    const { calls } = mockApi({
      "GET /api/imports/imp-1/errors": (req) =>
        req.query.get("cursor") === "c2"
          ? { body: { items: [err(51)], next_cursor: null } }
          : { body: { items: [err(1), err(2)], next_cursor: "c2" } },
    });
    const { user } = renderPage(<RowErrorTable importId="imp-1" expected={3} />);
    // then the first page shows
    const table = await screen.findByTestId("row-error-table");
    expect(within(table).getAllByTestId("row-error")).toHaveLength(2);
    expect(within(table).getByText("S-1")).toBeInTheDocument();
    expect(screen.getByRole("button", { name: /previous/i })).toBeDisabled();
    // when the user goes to the next page
    await user.click(screen.getByRole("button", { name: /next/i }));
    // then the cursor is sent and page 2 shows, with no further page
    await waitFor(() => expect(screen.getByText("S-51")).toBeInTheDocument());
    expect(calls.at(-1)!.query.get("cursor")).toBe("c2");
    expect(screen.getByRole("button", { name: /next/i })).toBeDisabled();
    expect(screen.getByText("Page 2")).toBeInTheDocument();
    // and back to page 1 without a cursor
    await user.click(screen.getByRole("button", { name: /previous/i }));
    await waitFor(() => expect(screen.getByText("S-1")).toBeInTheDocument());
    expect(calls.at(-1)!.query.get("cursor")).toBeNull();
  });

  it("says so when there are no row errors", async () => {
    mockApi({ "GET /api/imports/imp-1/errors": () => ({ body: { items: [], next_cursor: null } }) });
    renderPage(<RowErrorTable importId="imp-1" expected={0} />);
    expect(await screen.findByText("No row errors")).toBeInTheDocument();
    expect(screen.queryByRole("navigation", { name: /pages/i })).toBeNull();
  });

  it("says how many failed rows were counted but not kept past the cap", async () => {
    mockApi({ "GET /api/imports/imp-1/errors": () => ({ body: { items: [err(1)], next_cursor: "c2" } }) });
    renderPage(<RowErrorTable importId="imp-1" expected={111_111} />);
    expect(await screen.findByTestId("row-errors-capped")).toHaveTextContent(
      "The first 100,000 are listed here and in the errors file; the other 11,111 failed rows were counted but not kept.",
    );
  });

  it("says nothing of a cap below it", async () => {
    mockApi({ "GET /api/imports/imp-1/errors": () => ({ body: { items: [err(1)], next_cursor: null } }) });
    renderPage(<RowErrorTable importId="imp-1" expected={100_000} />);
    await screen.findByTestId("row-error-table");
    expect(screen.queryByTestId("row-errors-capped")).toBeNull();
  });

  it("shows a load error with a retry", async () => {
    mockApi({ "GET /api/imports/imp-1/errors": () => ({ status: 500, body: { detail: "database is down" } }) });
    renderPage(<RowErrorTable importId="imp-1" expected={1} />);
    expect(await screen.findByRole("alert")).toHaveTextContent("database is down");
    expect(screen.getByRole("button", { name: "Try again" })).toBeInTheDocument();
  });
});
