import { QueryClientProvider } from "@tanstack/react-query";
import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { useState } from "react";
import { Link, MemoryRouter, Route, Routes } from "react-router-dom";
import { describe, expect, it } from "vitest";
import { useDocumentTitle } from "@/lib/title";
import { testQueryClient } from "@/test/render";
import { Layout } from "./Layout";

function ListPage() {
  useDocumentTitle("Imports");
  return <Link to="/imports/imp-1">catalog.csv</Link>;
}

function DetailPage() {
  useDocumentTitle("Import of catalog.csv");
  const [open, setOpen] = useState(false);
  return (
    <>
      <h1>catalog.csv</h1>
      <Link to="/">← All imports</Link>
      <button type="button" onClick={() => setOpen(true)}>
        Open
      </button>
      {open ? <input aria-label="kept" autoFocus /> : null}
    </>
  );
}

function renderApp() {
  return render(
    <QueryClientProvider client={testQueryClient()}>
      <MemoryRouter initialEntries={["/"]}>
        <Routes>
          <Route element={<Layout />}>
            <Route path="/" element={<ListPage />} />
            <Route path="/imports/:id" element={<DetailPage />} />
          </Route>
        </Routes>
      </MemoryRouter>
    </QueryClientProvider>,
  );
}

describe("Layout", () => {
  it("moves focus to the new page when the link that had it went away with the old one", async () => {
    const user = userEvent.setup();
    renderApp();
    // when a keyboard user follows a link to another page
    screen.getByRole("link", { name: "catalog.csv" }).focus();
    await user.keyboard("{Enter}");
    await screen.findByRole("heading", { name: "catalog.csv" });
    // then focus is on the page's content (it fell to <body>, and the next Tab started in the old page's place)
    expect(document.activeElement).toBe(screen.getByRole("main"));
    // and focus the new page gives itself is kept
    await user.click(screen.getByRole("button", { name: "Open" }));
    expect(screen.getByRole("textbox", { name: "kept" })).toHaveFocus();
  });

  it("names the browser tab after the page shown", async () => {
    const user = userEvent.setup();
    renderApp();
    expect(document.title).toBe("Imports · Product Importer");
    await user.click(screen.getByRole("link", { name: "catalog.csv" }));
    await screen.findByRole("heading", { name: "catalog.csv" });
    expect(document.title).toBe("Import of catalog.csv · Product Importer");
  });
});
