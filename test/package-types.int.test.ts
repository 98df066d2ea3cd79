// The package as a library user gets it: `npm run build:types` emits the declarations that package.json `exports`
// names under `types`, and a consumer's Worker (the README's example) compiles against them alone, with a plain
// strict tsconfig, without reading a single source file of the package.
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);
const root = resolve(import.meta.dirname, "..");
const pkg = JSON.parse(readFileSync(resolve(root, "package.json"), "utf8")) as {
  exports: Record<string, unknown>;
  scripts: Record<string, string>;
};

describe("package exports", () => {
  it("points `types` at the emitted declarations and `default` at the TypeScript entry", () => {
    expect(pkg.exports["."]).toEqual({ types: "./dist/types/lib.d.ts", default: "./src/lib.ts" });
    expect(pkg.scripts.prepare).toBe("npm run build:types");
  });

  it("compiles a consumer's Worker against the emitted declarations only", async () => {
    await run("npm", ["run", "build:types"], { cwd: root });
    const tsc = resolve(root, "node_modules/.bin/tsc");
    const { stdout } = await run(tsc, ["-p", "test/fixtures/consumer", "--listFiles"], { cwd: root }).catch(
      (err: { stdout?: string; message: string }) => {
        throw new Error(`the consumer does not compile:\n${err.stdout ?? err.message}`);
      },
    );
    const ours = stdout.split("\n").filter((f) => f.startsWith(root) && !f.includes("/node_modules/"));
    expect(ours.some((f) => f.endsWith("/dist/types/lib.d.ts"))).toBe(true);
    expect(ours.filter((f) => f.includes("/src/"))).toEqual([]);
  }, 240_000);
});
