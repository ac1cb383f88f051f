import { QueryClientProvider, type QueryClient } from "@tanstack/react-query";
import { render, renderHook } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import type { ReactElement, ReactNode } from "react";
import { MemoryRouter, Route, Routes } from "react-router-dom";
import { createQueryClient } from "@/lib/query-client";

/** A fresh query cache per test: nothing is shared, nothing is retried (a test sees the first answer). */
export function testQueryClient(): QueryClient {
  return createQueryClient({ retry: false });
}

/** Render a page inside a router and a query cache; `path` is the route pattern, `at` the URL. */
export function renderPage(
  ui: ReactElement,
  { path = "/", at = "/", client = testQueryClient(), routes }: { path?: string; at?: string; client?: QueryClient; routes?: ReactNode } = {},
) {
  const user = userEvent.setup();
  const view = render(
    <QueryClientProvider client={client}>
      <MemoryRouter initialEntries={[at]}>
        <Routes>
          <Route path={path} element={ui} />
          {routes}
          <Route path="*" element={<p>elsewhere</p>} />
        </Routes>
      </MemoryRouter>
    </QueryClientProvider>,
  );
  return { user, client, ...view };
}

/** renderHook inside a query cache. */
export function renderQueryHook<R>(hook: () => R, client: QueryClient = testQueryClient()) {
  const wrapper = ({ children }: { children: ReactNode }) => <QueryClientProvider client={client}>{children}</QueryClientProvider>;
  return { client, ...renderHook(hook, { wrapper }) };
}
