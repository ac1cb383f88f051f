import { Route, Routes } from "react-router-dom";
import { Layout, NotFound } from "./components/Layout";
import { ImportDetailPage } from "./features/imports/components/ImportDetailPage";
import { ImportsPage } from "./features/imports/components/ImportsPage";
import { ProductsPage } from "./features/products/components/ProductsPage";
import { WebhooksPage } from "./features/webhooks/components/WebhooksPage";

export function App() {
  return (
    <Routes>
      <Route element={<Layout />}>
        <Route index element={<ImportsPage />} />
        <Route path="imports/:id" element={<ImportDetailPage />} />
        <Route path="products" element={<ProductsPage />} />
        <Route path="webhooks" element={<WebhooksPage />} />
        <Route path="*" element={<NotFound />} />
      </Route>
    </Routes>
  );
}
