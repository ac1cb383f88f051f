import fs from "node:fs";

/** Fail fast, in words, when the stack is not up; Chromium's absence is a skip (see fixtures.ts). */
export default async function globalSetup(): Promise<void> {
  const base = process.env.PI_BASE_URL ?? "http://127.0.0.1:8000";
  const chromium = process.env.PI_CHROMIUM ?? "/usr/bin/chromium";
  if (!fs.existsSync(chromium)) {
    console.warn(`[e2e-ui] SKIPPED: Chromium not found at ${chromium} (apt-get install -y chromium, or set PI_CHROMIUM).`);
    return;
  }
  const deadline = Date.now() + Number(process.env.PI_WAIT_SECONDS ?? 60) * 1000;
  let last = "";
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`${base}/api/health`);
      if (res.ok) return;
      last = `HTTP ${res.status}`;
    } catch (err) {
      last = String(err);
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error(`[e2e-ui] The stack at ${base} is not answering /api/health (${last}). Start it with \`make up\` or set PI_BASE_URL.`);
}
