import { useEffect, useRef } from "react";
import { Link, NavLink, Outlet, useLocation } from "react-router-dom";
import { usePermissions } from "@/lib/auth/permissions";
import { currentAuthSession } from "@/lib/auth/session";
import { useDocumentTitle } from "@/lib/title";

export function Layout() {
  const { pathname } = useLocation();
  const importsActive = pathname === "/" || pathname.startsWith("/imports/");
  const session = currentAuthSession(); // null without sign-in (local mode)
  const user = session?.user();
  const { can, role } = usePermissions();
  const topbar = useStickyHeight();
  const main = useFocusOnNavigation(pathname);
  return (
    <div className="app">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar" ref={topbar}>
        <div className="topbar__inner">
          <NavLink to="/" className="brand" end>
            <span className="brand__mark" aria-hidden="true" />
            Product Importer
          </NavLink>
          <nav aria-label="Main">
            <ul className="nav">
              <li>
                <Link
                  to="/"
                  className={`nav__link${importsActive ? " nav__link--active" : ""}`}
                  aria-current={importsActive ? "page" : undefined}
                >
                  Imports
                </Link>
              </li>
              <li>
                <NavLink to="/mappings" className={({ isActive }) => `nav__link${isActive ? " nav__link--active" : ""}`}>
                  Mappings
                </NavLink>
              </li>
              <li>
                <NavLink to="/products" className={({ isActive }) => `nav__link${isActive ? " nav__link--active" : ""}`}>
                  Products
                </NavLink>
              </li>
              {can("admin") ? (
                <li>
                  <NavLink to="/webhooks" className={({ isActive }) => `nav__link${isActive ? " nav__link--active" : ""}`}>
                    Webhooks
                  </NavLink>
                </li>
              ) : null}
            </ul>
          </nav>
          {session ? (
            <div className="account">
              {user?.email ?? user?.name ? <span className="account__user">{user?.email ?? user?.name}</span> : null}
              {role ? (
                <span className="pill pill--off" data-testid="role">
                  {role}
                </span>
              ) : null}
              <button type="button" className="button button--small button--ghost" onClick={() => session.signOut()}>
                Sign out
              </button>
            </div>
          ) : null}
        </div>
      </header>
      <main id="main" className="main" tabIndex={-1} ref={main}>
        {role === null ? (
          <div className="alert alert--warn role-missing" role="status" data-testid="no-group">
            <div>
              <strong>Your account is in no group yet.</strong> Ask an administrator to add you to the <code>viewer</code>,{" "}
              <code>importer</code> or <code>admin</code> group, then sign in again.
            </div>
          </div>
        ) : null}
        <Outlet />
      </main>
    </div>
  );
}

/**
 * After an in-app navigation, focus on <main> when the link or button that had it went away with the old page
 * (focus fell to <body>): the next Tab starts at the new page's content and a screen reader reads it, instead of
 * starting somewhere in the old page's place. Focus a page gave itself (a dialog, the mapping step) is kept.
 */
function useFocusOnNavigation(pathname: string) {
  const ref = useRef<HTMLElement>(null);
  const seen = useRef(pathname);
  useEffect(() => {
    if (seen.current === pathname) return; // the first page: the browser's own start
    seen.current = pathname;
    const active = document.activeElement;
    if (active === null || active === document.body) ref.current?.focus({ preventScroll: true });
  }, [pathname]);
  return ref;
}

/**
 * The sticky top bar's height, kept in `--topbar-height` on <html> (whose `scroll-padding-top` uses it): what the
 * browser scrolls into view for the keyboard (Shift+Tab up a long page) or a script lands below the bar, not
 * under it. The bar wraps to two or three lines on a phone, so it is measured, not assumed.
 */
function useStickyHeight() {
  const ref = useRef<HTMLElement>(null);
  useEffect(() => {
    const bar = ref.current;
    if (!bar) return;
    const root = document.documentElement;
    const measure = () => root.style.setProperty("--topbar-height", `${bar.getBoundingClientRect().height}px`);
    measure();
    if (typeof ResizeObserver === "undefined") return;
    const observer = new ResizeObserver(measure);
    observer.observe(bar);
    return () => observer.disconnect();
  }, []);
  return ref;
}

export function NotFound() {
  useDocumentTitle("Page not found");
  return (
    <section>
      <h1>Page not found</h1>
      <p>
        <NavLink to="/">Back to imports</NavLink>
      </p>
    </section>
  );
}
