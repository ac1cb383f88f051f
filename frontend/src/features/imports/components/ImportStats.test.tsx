import { screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { makeImport } from "@/test/api";
import { importSchema } from "../api/schemas";
import { renderPage } from "@/test/render";
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
});
