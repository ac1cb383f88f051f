import { readFileSync } from "node:fs";
import path from "node:path";

/**
 * Put the app's stylesheet into the test document, so `getComputedStyle` answers with its rules. jsdom does
 * the cascade (which rule applies to which element), not layout: a test can check that a long value is
 * allowed to wrap, not where it wraps.
 */
export function loadAppStyles(): void {
  if (document.getElementById("app-styles")) return;
  const style = document.createElement("style");
  style.id = "app-styles";
  style.textContent = readFileSync(path.resolve(__dirname, "../styles.css"), "utf8");
  document.head.appendChild(style);
}
