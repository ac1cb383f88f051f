import { Route, Routes } from "react-router-dom";
import { Layout, NotFound } from "@/components/Layout";
import { AuthCallbackPage } from "@/features/auth/components/AuthCallbackPage";
import { RequireAuth } from "@/features/auth/components/RequireAuth";
import { ImportDetailPage } from "@/features/imports/components/ImportDetailPage";
import { UploadsProvider } from "@/features/imports/api/uploadsContext";
import { ImportsPage } from "@/features/imports/components/ImportsPage";
import { MappingsPage } from "@/features/imports/components/mappings/MappingsPage";
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
        <Route path="products" element={<ProductsPage />} />
        <Route path="webhooks" element={<WebhooksPage />} />
        <Route path="*" element={<NotFound />} />
      </Route>
    </Routes>
  );
}
