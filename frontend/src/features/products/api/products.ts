import { keepPreviousData, useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useCallback } from "react";
import { ApiError, apiRequest, apiSend, deleteIdempotently, isNotFound, pathSegment } from "@/lib/api";
import {
  deleteAllResponseSchema,
  historyPageSchema,
  importNameSchema,
  productPageSchema,
  productSchema,
  type Product,
  type ProductFilters,
  type ProductInput,
} from "./schemas";

export const PRODUCTS_PAGE_SIZE = 25;
export const HISTORY_PAGE_SIZE = 20;

export const productKeys = {
  all: ["products"] as const,
  lists: () => [...productKeys.all, "list"] as const,
  list: (filters: ProductFilters, cursor: string | null) => [...productKeys.lists(), { filters, cursor }] as const,
  history: (sku: string) => [...productKeys.all, "history", sku] as const,
  importName: (id: string) => [...productKeys.all, "import-name", id] as const,
};

const path = (sku: string) => `/api/products/${pathSegment(sku)}`;

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

export function getProductHistory(sku: string, cursor: string | null, limit = HISTORY_PAGE_SIZE, signal?: AbortSignal) {
  return apiRequest(`${path(sku)}/history`, historyPageSchema, { query: { cursor, limit }, signal });
}

// -- queries ------------------------------------------------------------------------------------------

export function useProductsPage(filters: ProductFilters, cursor: string | null) {
  return useQuery({
    queryKey: productKeys.list(filters, cursor),
    queryFn: ({ signal }) => listProducts(filters, cursor, PRODUCTS_PAGE_SIZE, signal),
    placeholderData: keepPreviousData,
  });
}

/** A product's history, newest first; "Show older changes" loads the next page below. */
export function useProductHistory(sku: string) {
  return useInfiniteQuery({
    queryKey: productKeys.history(sku),
    queryFn: ({ pageParam, signal }) => getProductHistory(sku, pageParam, HISTORY_PAGE_SIZE, signal),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.next_cursor,
  });
}

/** The file name of the import `id` (it never changes), so a history entry can say which import wrote it. */
export function useImportName(id: string) {
  return useQuery({
    queryKey: productKeys.importName(id),
    queryFn: ({ signal }) => apiRequest(`/api/imports/${pathSegment(id)}`, importNameSchema, { signal }).then((i) => i.filename),
    staleTime: Infinity,
  });
}

// -- mutations: each one refreshes what it changed ------------------------------------------------------

/** The "new product" form refuses to overwrite: PUT would replace an existing product silently. */
export class ProductExistsError extends Error {
  readonly sku: string;
  constructor(sku: string) {
    super(`A product with SKU “${sku}” already exists. Edit it instead.`);
    this.name = "ProductExistsError";
    this.sku = sku;
  }
}

/** The product an edit was for is gone: deleted in another tab, by someone else, or by a revert. */
export class ProductDeletedError extends Error {
  readonly sku: string;
  constructor(sku: string) {
    super(`“${sku}” was deleted meanwhile (in another tab, by someone else, or by a revert), so the changes were not saved. The list shows the catalogue as it is now.`);
    this.name = "ProductDeletedError";
    this.sku = sku;
  }
}

/** An edit PATCHes the fields it changes; a new product is PUT whole (refused if the SKU exists). */
export type SaveProduct =
  | { sku: string; input: Partial<ProductInput>; existing: Product }
  | { sku: string; input: ProductInput; existing: null };

export function useSaveProduct() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (save: SaveProduct) => {
      if (save.existing) {
        const sku = save.existing.sku;
        return patchProduct(sku, save.input).catch((err: unknown) => {
          throw isNotFound(err) ? new ProductDeletedError(sku) : err;
        });
      }
      const found = await getProduct(save.sku).catch((err: unknown) => {
        if (err instanceof ApiError && err.status === 404) return null;
        throw err;
      });
      if (found) throw new ProductExistsError(found.sku);
      return putProduct(save.sku, save.input);
    },
    onSuccess: () => client.invalidateQueries({ queryKey: productKeys.all }),
    onError: (err) => {
      if (err instanceof ProductDeletedError) void client.invalidateQueries({ queryKey: productKeys.all });
    },
  });
}

/** Delete one product. A 404 means it is gone already (another tab, someone else): that is done too. */
export function useDeleteProduct() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (sku: string) => deleteIdempotently(() => deleteProduct(sku)),
    onSuccess: () => client.invalidateQueries({ queryKey: productKeys.all }),
  });
}

export function useDeleteAllProducts() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: () => deleteAllProducts(),
    onSuccess: () => client.invalidateQueries({ queryKey: productKeys.all }),
  });
}

/**
 * Refetch what the products page shows (its lists and any open history) when the catalog changed elsewhere:
 * an import or a revert wrote (the app wires it to the imports' live feed). The page keeps showing the old
 * rows until the new ones come (keepPreviousData), so nothing flickers.
 */
export function useRefreshProducts() {
  const client = useQueryClient();
  return useCallback(() => {
    void client.invalidateQueries({ queryKey: productKeys.lists() });
    void client.invalidateQueries({ queryKey: [...productKeys.all, "history"] });
  }, [client]);
}
