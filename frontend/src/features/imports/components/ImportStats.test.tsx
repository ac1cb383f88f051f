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

  it("lets a figure too wide for its box break at a space before inside a number, and a label inside its box", () => {
    // jsdom matches media queries at its 1,024 px (two rows of five boxes) and does no layout:
    // tests/e2e/ui/stats-layout.spec.ts checks both layouts' widths in Chromium
    loadAppStyles();
    const imp = importSchema.parse(
      makeImport({ status: "completed", rows_total: 400000, rows_processed: 400000, replace: { scope: "all", max_deactivate_percent: 20, status: "done" } }),
    );
    const { container } = renderPage(<ImportStats imp={imp} />);
    expect(container.querySelector(".stats")).toHaveClass("stats--10");
    const processed = screen.getByTestId("stat-processed").querySelector("dd")!;
    expect(processed).toHaveTextContent("400,000 / 400,000");
    // ("anywhere" also let the one-row layout size a box below its figure, which then wrapped)
    expect(getComputedStyle(processed).overflowWrap).toBe("break-word");
    expect(getComputedStyle(screen.getByText("Deactivated")).overflowWrap).toBe("break-word");
  });
});

