import { apiRequest, apiSend } from "../../../lib/api";
import { useQuery } from "../../../lib/query";
import {
  deleteAllResponseSchema,
  productPageSchema,
  productSchema,
  type ProductFilters,
  type ProductInput,
} from "./schemas";

export const PRODUCTS_PAGE_SIZE = 25;

const path = (sku: string) => `/api/products/${encodeURIComponent(sku)}`;

export function listProducts(filters: ProductFilters, cursor: string | null, limit = PRODUCTS_PAGE_SIZE, signal?: AbortSignal) {
  return apiRequest("/api/products", productPageSchema, {
    query: {
      q: filters.q.trim(),
      active: filters.active,
      brand: filters.brand.trim(),
      category: filters.category.trim(),
      cursor,
      limit,
    },
    signal,
  });
}

export function getProduct(sku: string, signal?: AbortSignal) {
  return apiRequest(path(sku), productSchema, { signal });
}

/** Create (or replace) a product: `PUT /api/products/{sku}`. */
export function putProduct(sku: string, input: ProductInput) {
  return apiRequest(path(sku), productSchema, { method: "PUT", body: { sku, ...input } });
}

/** Edit some fields: `PATCH /api/products/{sku}`. */
export function patchProduct(sku: string, input: Partial<ProductInput>) {
  return apiRequest(path(sku), productSchema, { method: "PATCH", body: input });
}

export function deleteProduct(sku: string) {
  return apiSend(path(sku), { method: "DELETE" });
}

export function deleteAllProducts() {
  return apiRequest("/api/products", deleteAllResponseSchema, { method: "DELETE", query: { confirm: "true" } });
}

export function useProductsPage(filters: ProductFilters, cursor: string | null) {
  return useQuery(["products", filters, cursor], (signal) => listProducts(filters, cursor, PRODUCTS_PAGE_SIZE, signal));
}
