// Several isolates of the real worker: the wrangler bundle run by N Miniflare (workerd) instances, each with its own
// module state, for multi-isolate tests and the live benchmark.
import { execFile } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { convertV4MiniflareOptions, Miniflare } from "miniflare";

const run = promisify(execFile);
const root = resolve(import.meta.dirname, "..");

let builds = 0;

/** Bundles the worker exactly as `wrangler deploy` would, into `outDir` (by default a fresh folder per call, so
 * concurrent test files never overwrite each other's bundle); returns the script path. */
export async function buildWorker(
  outDir = join(root, ".build", `${process.pid}-${builds++}`),
): Promise<string> {
  mkdirSync(outDir, { recursive: true });
  await run("npx", ["wrangler", "deploy", "--dry-run", "--outdir", outDir], {
    cwd: root,
    env: {
      ...process.env,
      WRANGLER_SEND_METRICS: "false",
      CLOUDFLARE_CF_FETCH_ENABLED: "false",
      DO_NOT_TRACK: "1",
    },
  });
  return join(outDir, "index.js");
}

export interface Isolates {
  /** Base URL of each instance (http://127.0.0.1:<port>). */
  urls: string[];
  fetch(i: number, path: string, init?: RequestInit): Promise<Response>;
  dispose(): Promise<void>;
}

export async function startIsolates(
  n: number,
  scriptPath: string,
  bindings: Record<string, string>,
): Promise<Isolates> {
  const instances: Miniflare[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const mf = new Miniflare(
        convertV4MiniflareOptions({
          modules: true,
          scriptPath,
          compatibilityDate: "2026-11-01",
          // As wrangler.toml: enable_request_signal aborts request.signal when the client goes away.
          compatibilityFlags: ["nodejs_compat", "enable_request_signal"],
          bindings,
          host: "127.0.0.1",
          port: 0,
          cf: false,
        } as Parameters<typeof convertV4MiniflareOptions>[0]),
      );
      instances.push(mf);
    }
    const urls = (await Promise.all(instances.map((mf) => mf.ready))).map((u) => u.origin);
    return {
      urls,
      fetch: (i, path, init) => fetch(`${urls[i]}${path}`, init),
      dispose: async () => {
        await Promise.all(instances.map((mf) => mf.dispose()));
      },
    };
  } catch (err) {
    await Promise.all(instances.map((mf) => mf.dispose().catch(() => undefined)));
    throw err;
  }
}
