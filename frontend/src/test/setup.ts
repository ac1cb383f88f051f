import "@testing-library/jest-dom/vitest";
import { cleanup, configure } from "@testing-library/react";
import { afterEach } from "vitest";
import { resetAuthSession } from "@/lib/auth/session";
import { resetConfigCache } from "@/lib/config";

// findBy…/waitFor wait up to 15 s: the machine running the suite may be busy (the default 1 s flakes there, and
// 5 s did too: under CPU load the first render of a page in a fresh worker took longer). A wait ends as soon as
// its condition holds, so this costs nothing when the suite passes.
configure({ asyncUtilTimeout: 15_000 });

// jsdom has no layout, so no scrollIntoView: a no-op stands in (tests that care spy on it)
if (typeof Element !== "undefined" && !Element.prototype.scrollIntoView) Element.prototype.scrollIntoView = function scrollIntoView() {};

afterEach(() => {
  cleanup();
  resetConfigCache();
  resetAuthSession();
  if (typeof sessionStorage !== "undefined") sessionStorage.clear();
});
