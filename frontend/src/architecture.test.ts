// @vitest-environment node
import path from "node:path";
import { ESLint } from "eslint";
import { describe, expect, it } from "vitest";

/** The import boundaries of eslint.config.js (bulletproof-react's rooms) catch what they are meant to. */
const root = path.resolve(__dirname, "..");
const eslint = new ESLint({ cwd: root });

async function problems(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(root, file) });
  return (result?.messages ?? []).map((m) => `${m.ruleId}: ${m.message}`);
}

describe("import boundaries", () => {
  it("refuses a feature importing another feature, by alias or by relative path", async () => {
    const byAlias = await problems("src/features/products/x.ts", 'import { importKeys } from "@/features/imports/api/imports";\nexport const k = importKeys;\n');
    expect(byAlias.join("\n")).toMatch(/no-restricted-paths: .*Features do not import each other/);
    const byPath = await problems("src/features/products/api/x.ts", 'import { importKeys } from "../../imports/api/imports";\nexport const k = importKeys;\n');
    expect(byPath.join("\n")).toMatch(/Features do not import each other|Use the @\/ alias/);
  });

  it("refuses shared code importing a feature or the app", async () => {
    const lib = await problems("src/lib/x.ts", 'import { productKeys } from "@/features/products/api/products";\nexport const k = productKeys;\n');
    expect(lib.join("\n")).toMatch(/Shared code .* must not depend on features/);
    const component = await problems("src/components/x.tsx", 'import { App } from "@/App";\nexport const A = App;\n');
    expect(component.join("\n")).toMatch(/Shared code .* must not depend on features or the app/);
  });

  it("lets a feature use shared code and its own modules", async () => {
    const ok = await problems(
      "src/features/products/api/x.ts",
      'import { apiRequest } from "@/lib/api";\nimport { productSchema } from "./schemas";\nexport const k = [apiRequest, productSchema];\n',
    );
    expect(ok).toEqual([]);
  });
}, 60_000);
