import { NavLink, Outlet } from "react-router-dom";

export function Layout() {
  return (
    <div className="app">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <div className="topbar__inner">
          <NavLink to="/" className="brand" end>
            <span className="brand__mark" aria-hidden="true" />
            Product Importer
          </NavLink>
          <nav aria-label="Main">
            <ul className="nav">
              <li>
                <NavLink to="/" end className={({ isActive }) => `nav__link${isActive ? " nav__link--active" : ""}`}>
                  Imports
                </NavLink>
              </li>
              <li>
                <NavLink to="/products" className={({ isActive }) => `nav__link${isActive ? " nav__link--active" : ""}`}>
                  Products
                </NavLink>
              </li>
              <li>
                <NavLink to="/webhooks" className={({ isActive }) => `nav__link${isActive ? " nav__link--active" : ""}`}>
                  Webhooks
                </NavLink>
              </li>
            </ul>
          </nav>
        </div>
      </header>
      <main id="main" className="main" tabIndex={-1}>
        <Outlet />
      </main>
    </div>
  );
}

export function NotFound() {
  return (
    <section>
      <h1>Page not found</h1>
      <p>
        <NavLink to="/">Back to imports</NavLink>
      </p>
    </section>
  );
}
