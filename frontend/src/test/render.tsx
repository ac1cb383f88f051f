import { render } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import type { ReactElement } from "react";
import { MemoryRouter, Route, Routes } from "react-router-dom";

/** Render a page inside a router; `path` is the route pattern, `at` the URL. */
export function renderPage(ui: ReactElement, { path = "/", at = "/" }: { path?: string; at?: string } = {}) {
  const user = userEvent.setup();
  const view = render(
    <MemoryRouter initialEntries={[at]}>
      <Routes>
        <Route path={path} element={ui} />
        <Route path="*" element={<p>elsewhere</p>} />
      </Routes>
    </MemoryRouter>,
  );
  return { user, ...view };
}
