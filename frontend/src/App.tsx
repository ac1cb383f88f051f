import { Route, Routes } from "react-router-dom";
import { Layout, NotFound } from "@/components/Layout";
import { AuthCallbackPage } from "@/features/auth/components/AuthCallbackPage";
import { RequireAuth } from "@/features/auth/components/RequireAuth";
import { ImportDetailPage } from "@/features/imports/components/ImportDetailPage";
import { useCatalogChanges } from "@/features/imports/api/catalogChanges";
import { UploadsProvider } from "@/features/imports/api/uploadsContext";
import { ImportsPage } from "@/features/imports/components/ImportsPage";
import { MappingsPage } from "@/features/imports/components/mappings/MappingsPage";
import { useRefreshProducts } from "@/features/products/api/products";
import { ProductsPage } from "@/features/products/components/ProductsPage";
import { WebhooksPage } from "@/features/webhooks/components/WebhooksPage";

export function App() {
  return (
    <Routes>
      <Route path="auth/callback" element={<AuthCallbackPage />} />
      <Route
        element={
          <RequireAuth>
            <UploadsProvider>
              <Layout />
            </UploadsProvider>
          </RequireAuth>
        }
      >
        <Route index element={<ImportsPage />} />
        <Route path="imports/:id" element={<ImportDetailPage />} />
        <Route path="mappings" element={<MappingsPage />} />
        <Route path="products" element={<LiveProductsPage />} />
        <Route path="webhooks" element={<WebhooksPage />} />
        <Route path="*" element={<NotFound />} />
      </Route>
    </Routes>
  );
}

/** The products page, refreshed when imports and reverts change the catalog while it is open. */
export function LiveProductsPage() {
  useCatalogChanges(useRefreshProducts());
  return <ProductsPage />;
}
