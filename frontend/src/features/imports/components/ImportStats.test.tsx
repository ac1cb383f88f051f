import { screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { makeImport } from "@/test/api";
import { importSchema } from "../api/schemas";
import { renderPage } from "@/test/render";
import { loadAppStyles } from "@/test/styles";
import { ImportStats } from "./ImportStats";

describe("ImportStats", () => {
  it("says what a preview would do, not what it did (it writes nothing)", () => {
    renderPage(<ImportStats imp={importSchema.parse(makeImport({ mode: "preview", status: "previewed", products_created: 10, rows_imported: 10 }))} />);
    expect(screen.getByTestId("stat-created")).toHaveTextContent("Would create10");
    expect(screen.getByTestId("stat-imported")).toHaveTextContent("Valid rows10");
    expect(screen.queryByText("Created")).toBeNull();
  });

  it("says what an import did", () => {
    renderPage(<ImportStats imp={importSchema.parse(makeImport({ status: "completed", products_created: 10, rows_imported: 10 }))} />);
    expect(screen.getByTestId("stat-created")).toHaveTextContent("Created10");
    expect(screen.getByTestId("stat-imported")).toHaveTextContent("Imported10");
  });

  it("shows – for product counts a running preview does not have yet (the API says 0 until it ends)", () => {
    const running = importSchema.parse(
      makeImport({ mode: "preview", status: "processing", products_created: 0, products_updated: 0, products_unchanged: 0, rows_imported: 300, replace: { scope: "all", max_deactivate_percent: 20, status: null } }),
    );
    const { unmount } = renderPage(<ImportStats imp={running} />);
    for (const key of ["created", "updated", "unchanged", "deactivated"]) expect(screen.getByTestId(`stat-${key}`).querySelector("dd")).toHaveTextContent(/^–$/);
    expect(screen.getByTestId("stat-imported")).toHaveTextContent("Valid rows300"); // rows are counted as they go
    unmount();
    // once it has ended, its counts are what it found (0 included)
    renderPage(<ImportStats imp={{ ...running, status: "previewed", products_created: 12 }} />);
    expect(screen.getByTestId("stat-created")).toHaveTextContent("Would create12");
    expect(screen.getByTestId("stat-updated")).toHaveTextContent("Would update0");
    expect(screen.getByTestId("stat-deactivated")).toHaveTextContent("Would deactivate0");
  });

  it("shows – for deactivations of a running import's replace (they come after every row)", () => {
    const imp = importSchema.parse(makeImport({ status: "processing", products_created: 200, replace: { scope: "all", max_deactivate_percent: 20, status: null } }));
    renderPage(<ImportStats imp={imp} />);
    expect(screen.getByTestId("stat-created")).toHaveTextContent("Created200"); // an import counts products as it goes
    expect(screen.getByTestId("stat-deactivated").querySelector("dd")).toHaveTextContent(/^–$/);
  });

  it("gives labels room: a box is as wide as its longest label word, and a label wraps inside its box", () => {
    loadAppStyles();
    const imp = importSchema.parse(makeImport({ status: "completed", replace: { scope: "all", max_deactivate_percent: 20, status: "done" } }));
    const { container } = renderPage(<ImportStats imp={imp} />);
    const grid = container.querySelector(".stats")!;
    expect(grid).toHaveClass("stats--10");
    expect(getComputedStyle(grid).gridTemplateColumns).toContain("minmax(min-content, 1fr)");
    expect(getComputedStyle(screen.getByText("Deactivated")).overflowWrap).toBe("break-word");
  });
});

