/**
 * Partner folder names, as the API checks them (CONTRACT §4: the partner is the first folder under
 * `incoming/`, whatever name a partner system writes — "ACME Corp", "Müller GmbH"): 1–255 characters,
 * no "/" and no control characters, not blank, "." or "..". Compared NFC, as the API stores them.
 */
// eslint-disable-next-line no-control-regex
const FORBIDDEN = /[/\u0000-\u001f\u007f-\u009f]/;

export function isPartnerFolder(name: string): boolean {
  const folder = name.normalize("NFC");
  const length = [...folder].length;
  return length >= 1 && length <= 255 && !FORBIDDEN.test(folder) && folder.trim() !== "" && folder !== "." && folder !== "..";
}

/** `incoming/<partner>/`, possibly deeper (`incoming/acme/daily/`); the final "/" may be left out. */
export function isDropPrefix(prefix: string): boolean {
  const text = prefix.normalize("NFC");
  if (!text.startsWith("incoming/")) return false;
  const folders = text.slice("incoming/".length).replace(/\/$/, "").split("/");
  return folders.every(isPartnerFolder);
}
