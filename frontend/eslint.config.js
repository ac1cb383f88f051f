// ESLint (flat config). Architecture as bulletproof-react enforces it: shared code (src/components, src/lib,
// src/test) imports no feature and not the app; a feature imports shared code and nothing of another feature;
// only the app (src/App.tsx, src/main.tsx) puts features together. `@/` is src/.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import js from "@eslint/js";
import { createTypeScriptImportResolver } from "eslint-import-resolver-typescript";
import { importX } from "eslint-plugin-import-x";
import reactHooks from "eslint-plugin-react-hooks";
import globals from "globals";
import tseslint from "typescript-eslint";

const here = path.dirname(fileURLToPath(import.meta.url));
// every folder under src/features is a feature: a new one is fenced in without touching this file
const features = fs
  .readdirSync(path.join(here, "src/features"), { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name);

const featureZones = features.map((feature) => ({
  target: `./src/features/${feature}`,
  from: "./src/features",
  except: [`./${feature}`],
  message: `Features do not import each other: move what "${feature}" needs into src/components or src/lib, or compose the features in src/App.tsx.`,
}));

export default tseslint.config(
  { ignores: ["dist", "node_modules", "test-results", "playwright-report"] },
  {
    files: ["src/**/*.{ts,tsx}"],
    extends: [js.configs.recommended, ...tseslint.configs.recommended],
    languageOptions: { ecmaVersion: 2022, globals: globals.browser },
    plugins: { "import-x": importX, "react-hooks": reactHooks },
    settings: {
      "import-x/resolver-next": [createTypeScriptImportResolver({ project: path.join(here, "tsconfig.json") })],
    },
    rules: {
      "react-hooks/rules-of-hooks": "error",
      "react-hooks/exhaustive-deps": "error",
      "import-x/no-restricted-paths": [
        "error",
        {
          zones: [
            ...featureZones,
            {
              target: ["./src/components", "./src/lib", "./src/test"],
              from: ["./src/features", "./src/App.tsx", "./src/main.tsx"],
              message: "Shared code (components, lib, test) must not depend on features or the app.",
            },
            {
              target: "./src/features",
              from: ["./src/App.tsx", "./src/main.tsx"],
              message: "Features do not import the app; the app imports features.",
            },
          ],
        },
      ],
      // reach shared code through the alias, not ../../../lib/...
      "no-restricted-imports": [
        "error",
        { patterns: [{ group: ["../../../*"], message: "Use the @/ alias (e.g. @/lib/api) instead of a long relative path." }] },
      ],
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": ["error", { fixStyle: "inline-type-imports" }],
    },
  },
);
