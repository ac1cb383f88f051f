import { useEffect } from "react";

export const APP_NAME = "Product Importer";

/**
 * The browser tab's title for the page shown: `<title> · Product Importer` (just the app's name for null), so
 * two open tabs, the history menu and a screen reader's page change say which page is which.
 */
export function useDocumentTitle(title: string | null): void {
  useEffect(() => {
    document.title = title ? `${title} · ${APP_NAME}` : APP_NAME;
  }, [title]);
}
