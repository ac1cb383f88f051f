/// <reference types="vitest/config" />
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// In dev the API (FastAPI, `make up`) runs on 127.0.0.1:8000; the UI is served by Vite and proxies /api.
const apiTarget = process.env.PI_API_URL ?? "http://127.0.0.1:8000";

export default defineConfig({
  plugins: [react()],
  // `@/lib/api` = `src/lib/api` (the same alias is in tsconfig.json for the type checker and ESLint)
  resolve: { alias: { "@": fileURLToPath(new URL("./src", import.meta.url)) } },
  server: {
    host: "127.0.0.1",
    port: 5173,
    proxy: { "/api": { target: apiTarget, changeOrigin: true } },
  },
  build: {
    outDir: "dist",
    sourcemap: true,
    // The whole UI is one ~520 kB bundle (~160 kB gzipped), fetched once and cached by CloudFront;
    // Rollup's default 500 kB advice printed a three-line "consider code-splitting" on every `make up`.
    chunkSizeWarningLimit: 800,
    rollupOptions: {
      onwarn(warning, warn) {
        // zod's own comments confuse Rollup's annotation parser ("contains an annotation that Rollup
        // cannot interpret"): harmless, not ours, and it made every first `make up` look broken.
        if (warning.code === "INVALID_ANNOTATION" && warning.id?.includes("/node_modules/")) return;
        warn(warning);
      },
    },
  },
  test: {
    environment: "jsdom",
    globals: true,
    setupFiles: ["./src/test/setup.ts"],
    include: ["src/**/*.test.{ts,tsx}"],
    restoreMocks: true,
    // the machine running the suite may be busy: typing into forms can take seconds there
    testTimeout: 45_000,
  },
});
