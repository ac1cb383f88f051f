import AxeBuilder from "@axe-core/playwright";
import { expect, type Locator, type Page } from "@playwright/test";

/** WCAG 2.0 and 2.1, levels A and AA. */
const WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];

/**
 * Fail when axe-core finds a serious or critical WCAG 2.1 A/AA violation on the page as it is now (dialogs
 * included); minor and moderate ones are printed. `name` says which page or state in the failure.
 */
export async function expectAccessible(page: Page, name: string) {
  // (violations only: collecting what passes doubles the time on a long page)
  const result = await new AxeBuilder({ page }).withTags(WCAG_TAGS).options({ resultTypes: ["violations"] }).analyze();
  const lines = result.violations.map(
    (v) =>
      `${v.impact ?? "?"} ${v.id} (${v.help}): ` +
      v.nodes
        .slice(0, 3)
        .map((n) => `${n.target.join(" ")} — ${(n.failureSummary ?? "").replace(/\s+/g, " ")}`)
        .join("; "),
  );
  const blocking = result.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  if (lines.length > blocking.length) console.log(`[a11y] ${name}: ${lines.join("\n  ")}`);
  expect(blocking.map((v) => `${v.impact} ${v.id}`), `${name}:\n  ${lines.join("\n  ")}`).toEqual([]);
}

/** Whether `target` has the keyboard focus. */
export async function isFocused(target: Locator): Promise<boolean> {
  return target.evaluate((el) => el === document.activeElement).catch(() => false);
}

/** What has the focus, for messages: tag and text. */
export async function focusedElement(page: Page): Promise<string> {
  return page.evaluate(() => {
    const a = document.activeElement as HTMLElement | null;
    if (!a) return "nothing";
    const name = (a.getAttribute("aria-label") ?? a.textContent ?? "").trim().replace(/\s+/g, " ").slice(0, 50);
    return `<${a.tagName.toLowerCase()}> “${name}”`;
  });
}

/**
 * Press `key` (Tab, Shift+Tab) until `target` has the focus, as a keyboard user would; fails (listing where
 * focus went) when it is not reached in `max` presses, or when a stop shows no focus indicator.
 */
export async function tabTo(page: Page, target: Locator, { key = "Tab", max = 60 } = {}) {
  const path: string[] = [];
  for (let i = 0; i <= max; i++) {
    if (await isFocused(target)) return;
    if (i === max) break;
    await page.keyboard.press(key);
    const where = await focusedElement(page);
    const indicated = await page.evaluate(() => {
      const a = document.activeElement;
      if (!a || a === document.body) return true;
      const style = getComputedStyle(a);
      return (style.outlineStyle !== "none" && style.outlineWidth !== "0px") || style.boxShadow !== "none";
    });
    expect(indicated, `no visible focus on ${where}`).toBe(true);
    path.push(where);
  }
  throw new Error(`${key} × ${max} never reached ${target}; focus went: ${path.join(" → ")}`);
}

