import { screen, within } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { renderPage } from "@/test/render";
import { loadAppStyles } from "@/test/styles";
import type { UploadItem } from "../api/useUploads";
import { UploadList } from "./UploadList";

const item = (overrides: Partial<UploadItem>): UploadItem => ({
  key: "u1",
  filename: "catalog.csv",
  size: 2048,
  phase: "uploaded",
  loaded: 2048,
  total: 2048,
  error: null,
  importId: "imp-1",
  mode: "import",
  ...overrides,
});

describe("UploadList", () => {
  it("links each upload to its import, but not a cancelled one (its import was discarded)", () => {
    // given a finished upload, a failed one and a cancelled one, each with the import made for it
    renderPage(
      <UploadList
        uploads={[
          item({ key: "u1", filename: "done.csv", importId: "imp-1" }),
          item({ key: "u2", filename: "broken.csv", phase: "failed", error: "Storage refused the file.", importId: "imp-2" }),
          item({ key: "u3", filename: "stopped.csv", phase: "cancelled", importId: "imp-3" }),
        ]}
        onCancel={vi.fn()}
        onDismiss={vi.fn()}
        onClearFinished={vi.fn()}
      />,
    );
    const [done, failed, cancelled] = screen.getAllByTestId("upload-item");
    // then the finished and the failed one link to their import (a failed upload's import waits, to be discarded there)
    expect(within(done!).getByRole("link", { name: "View import" })).toHaveAttribute("href", "/imports/imp-1");
    expect(within(failed!).getByRole("link", { name: "View import" })).toHaveAttribute("href", "/imports/imp-2");
    // and the cancelled one does not: it says so, and can be dismissed
    expect(within(cancelled!).queryByRole("link")).toBeNull();
    expect(cancelled).toHaveTextContent("Upload cancelled: nothing was imported from this file.");
    expect(within(cancelled!).getByRole("button", { name: "Dismiss stopped.csv" })).toBeInTheDocument();
  });

  it("shows a cancelled upload as a neutral state, not as an error", () => {
    // given an upload the user cancelled, next to one that failed
    loadAppStyles();
    renderPage(
      <UploadList
        uploads={[
          item({ key: "u1", filename: "broken.csv", phase: "failed", error: "Storage refused the file." }),
          item({ key: "u2", filename: "stopped.csv", phase: "cancelled", importId: "imp-2" }),
        ]}
        onCancel={vi.fn()}
        onDismiss={vi.fn()}
        onClearFinished={vi.fn()}
      />,
    );
    const [failed, cancelled] = screen.getAllByTestId("upload-item");
    // then only the failure is an alert in red; the cancel is said plainly
    expect(within(failed!).getByRole("alert")).toHaveTextContent("Storage refused the file.");
    expect(failed).toHaveClass("upload--bad");
    expect(within(cancelled!).queryByRole("alert")).toBeNull();
    expect(cancelled).not.toHaveClass("upload--bad");
    const note = within(cancelled!).getByText(/Upload cancelled/);
    expect(getComputedStyle(note).color).not.toBe(getComputedStyle(within(failed!).getByRole("alert")).color);
    expect(within(cancelled!).getByText("Cancelled")).toBeInTheDocument();
  });
});
