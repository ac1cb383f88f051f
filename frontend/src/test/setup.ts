import "@testing-library/jest-dom/vitest";
import { cleanup } from "@testing-library/react";
import { afterEach } from "vitest";
import { resetAuthSession } from "@/lib/auth/session";
import { resetConfigCache } from "@/lib/config";

afterEach(() => {
  cleanup();
  resetConfigCache();
  resetAuthSession();
  if (typeof sessionStorage !== "undefined") sessionStorage.clear();
});
