import { QueryClientProvider, useQuery } from "@tanstack/react-query";
import { render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import type { Page } from "@/lib/page";
import { useCursorPager } from "@/lib/paging";
import { testQueryClient } from "@/test/render";
import { EmptyState } from "./Feedback";
import { PagedList } from "./PagedList";

type Fetch = (cursor: string | null) => Promise<Page<string>>;

/** A list as a page would use it: a cursor pager, a TanStack query per cursor, PagedList drawing the rows. */
function Fruits({ fetchPage }: { fetchPage: Fetch }) {
  const pager = useCursorPager("fruits");
  const q = useQuery({ queryKey: ["fruits", pager.cursor], queryFn: () => fetchPage(pager.cursor) });
  return (
    <PagedList
      query={q}
      pager={pager}
      loadingLabel="Loading fruits…"
      errorTitle="Could not load fruits."
      empty={<EmptyState title="No fruits yet" />}
      pagerLabel="Fruit pages"
    >
      {(items) => (
        <ul data-testid="fruit-list">
          {items.map((f) => (
            <li key={f}>{f}</li>
          ))}
        </ul>
      )}
    </PagedList>
  );
}

const PAGES: Record<string, Page<string>> = {
  first: { items: ["apple", "banana"], next_cursor: "c2" },
  c2: { items: ["cherry"], next_cursor: null },
};

function renderFruits(fetchPage: Fetch) {
  const user = userEvent.setup();
  render(
    <QueryClientProvider client={testQueryClient()}>
      <Fruits fetchPage={fetchPage} />
    </QueryClientProvider>,
  );
  return { user };
}

const rows = () => within(screen.getByTestId("fruit-list")).getAllByRole("listitem").map((li) => li.textContent);

describe("PagedList", () => {
  it("renders the page's rows; Next fetches the page at next_cursor, Previous goes back", async () => {
    const fetchPage = vi.fn<Fetch>(async (cursor) => PAGES[cursor ?? "first"]!);
    const { user } = renderFruits(fetchPage);

    expect(screen.getByRole("status")).toHaveTextContent("Loading fruits…");
    expect(await screen.findByTestId("fruit-list")).toBeInTheDocument();
    expect(rows()).toEqual(["apple", "banana"]);
    expect(screen.queryByText("Loading fruits…")).toBeNull();
    const pager = screen.getByRole("navigation", { name: "Fruit pages" });
    expect(within(pager).getByText("Page 1")).toBeInTheDocument();
    expect(within(pager).getByRole("button", { name: "← Previous" })).toBeDisabled();

    await user.click(within(pager).getByRole("button", { name: "Next →" }));
    expect(await screen.findByText("cherry")).toBeInTheDocument();
    expect(fetchPage).toHaveBeenLastCalledWith("c2");
    expect(rows()).toEqual(["cherry"]);
    expect(within(pager).getByText("Page 2")).toBeInTheDocument();
    expect(within(pager).getByRole("button", { name: "Next →" })).toBeDisabled(); // no next_cursor

    await user.click(within(pager).getByRole("button", { name: "← Previous" }));
    expect(await screen.findByText("apple")).toBeInTheDocument();
    expect(rows()).toEqual(["apple", "banana"]);
    expect(within(pager).getByText("Page 1")).toBeInTheDocument();
  });

  it("keeps keyboard focus in the pager across a page load (Next on the last page hands it to Previous)", async () => {
    // given a second page that takes a while
    let release: () => void = () => {};
    const fetchPage = vi.fn<Fetch>((cursor) =>
      cursor === "c2" ? new Promise((resolve) => (release = () => resolve(PAGES.c2!))) : Promise.resolve(PAGES.first!),
    );
    const { user } = renderFruits(fetchPage);
    await screen.findByTestId("fruit-list");
    const pager = screen.getByRole("navigation", { name: "Fruit pages" });
    // when Next is pressed, turns disabled while the page loads, and the browser drops its focus to <body>
    await user.click(within(pager).getByRole("button", { name: "Next →" }));
    expect(within(pager).getByRole("button", { name: "Next →" })).toBeDisabled();
    const elsewhere = document.body.appendChild(document.createElement("input"));
    elsewhere.focus();
    elsewhere.blur();
    elsewhere.remove();
    release();
    // then, the last page shown, focus is back in the pager, on the button still enabled
    expect(await screen.findByText("cherry")).toBeInTheDocument();
    await waitFor(() => expect(within(pager).getByRole("button", { name: "← Previous" })).toHaveFocus());
  });

  it("brings the new page's first rows into view after a page turned with the mouse (it showed its last ones), not with a key", async () => {
    // given a list whose pager sits below a long page (jsdom has no layout: record what is scrolled into view)
    const scrolled: Element[] = [];
    const scrollIntoView = vi.spyOn(Element.prototype, "scrollIntoView").mockImplementation(function (this: Element) {
      scrolled.push(this);
    });
    try {
      const fetchPage = vi.fn<Fetch>(async (cursor) => PAGES[cursor ?? "first"]!);
      const { user } = renderFruits(fetchPage);
      await screen.findByTestId("fruit-list");
      const pager = screen.getByRole("navigation", { name: "Fruit pages" });
      // when Next is clicked
      await user.click(within(pager).getByRole("button", { name: "Next →" }));
      expect(await screen.findByText("cherry")).toBeInTheDocument();
      // then, the new page shown, the top of its rows is brought into view (only as far as needed)
      await waitFor(() => expect(scrollIntoView).toHaveBeenCalledWith({ block: "nearest" }));
      expect(scrolled).toEqual([screen.getByTestId("paged-list-top")]);
      expect(screen.getByTestId("paged-list-top").nextElementSibling).toBe(screen.getByTestId("fruit-list"));
      // and when Previous is pressed with the keyboard, focus stays on the pager and nothing is scrolled
      scrollIntoView.mockClear();
      within(pager).getByRole("button", { name: "← Previous" }).focus();
      await user.keyboard("{Enter}");
      expect(await screen.findByText("apple")).toBeInTheDocument();
      expect(within(pager).getByRole("button", { name: "← Previous" })).toHaveFocus();
      expect(scrollIntoView).not.toHaveBeenCalled();
    } finally {
      scrollIntoView.mockRestore();
    }
  });

  it("shows the empty state, and no pager, when the first page has no items", async () => {
    renderFruits(async () => ({ items: [], next_cursor: null }));
    expect(await screen.findByText("No fruits yet")).toBeInTheDocument();
    expect(screen.getByTestId("empty-state")).toBeInTheDocument();
    expect(screen.queryByTestId("fruit-list")).toBeNull();
    expect(screen.queryByRole("navigation")).toBeNull();
  });

  it("shows the error with its title, and Try again fetches again", async () => {
    const fetchPage = vi
      .fn<Fetch>()
      .mockRejectedValueOnce(new Error("boom"))
      .mockResolvedValue({ items: ["apple"], next_cursor: null });
    const { user } = renderFruits(fetchPage);

    const alert = await screen.findByRole("alert");
    expect(alert).toHaveTextContent("Could not load fruits.");
    expect(screen.queryByText("No fruits yet")).toBeNull();
    await user.click(within(alert).getByRole("button", { name: "Try again" }));
    expect(await screen.findByText("apple")).toBeInTheDocument();
    expect(screen.queryByRole("alert")).toBeNull();
    expect(fetchPage).toHaveBeenCalledTimes(2);
  });
});
