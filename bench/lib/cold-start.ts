// Cold start: the worker bundle's size as `wrangler deploy --dry-run` writes it, and how long a fresh workerd
// instance (Miniflare) takes to come up and answer its first request, against a trivial worker as the baseline.
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { gzipSync } from "node:zlib";
import { convertV4MiniflareOptions, Miniflare } from "miniflare";

const run = promisify(execFile);

export interface Timing {
  medianMs: number;
  minMs: number;
  maxMs: number;
  samplesMs: number[];
}

export interface StartupTimes {
  /** From `new Miniflare(...)` to `ready` (workerd started, the bundle loaded and its top level evaluated). */
  ready: Timing;
  /** From `new Miniflare(...)` to the first response's body (GET /health), loopback. */
  firstResponse: Timing;
}

export interface ColdStartResult {
  /** Modules the isolate loads (JavaScript and WebAssembly; not source maps or wrangler's README), as written by
   * wrangler. */
  files: Array<{ name: string; bytes: number; gzipBytes: number }>;
  rawBytes: number;
  /** zlib level 9, summed over the modules. */
  gzipBytes: number;
  /** Source maps wrangler writes next to the modules (uploaded, never loaded by the isolate). */
  sourceMapBytes: number;
  /** wrangler's own "Total Upload: ... / gzip: ..." line. */
  wranglerReport: string | null;
  runs: number;
  quotagate: StartupTimes;
  /** The same measurement for a worker that only answers "ok": what workerd itself costs. */
  baseline: StartupTimes;
  wallMs: number;
}

const BASELINE_SCRIPT = 'export default { fetch() { return new Response("ok"); } };\n';

function timing(samples: number[]): Timing {
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { medianMs: median, minMs: sorted[0]!, maxMs: sorted.at(-1)!, samplesMs: samples };
}

/** One fresh instance: time to ready and to the first answer, then disposed. */
async function startOnce(scriptPath: string, bindings: Record<string, string>) {
  const t0 = performance.now();
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      modules: true,
      scriptPath,
      compatibilityDate: "2026-11-01",
      compatibilityFlags: ["nodejs_compat"],
      bindings,
      host: "127.0.0.1",
      port: 0,
      cf: false,
    } as Parameters<typeof convertV4MiniflareOptions>[0]),
  );
  try {
    const url = await mf.ready;
    const ready = performance.now() - t0;
    const res = await fetch(new URL("/health", url));
    await res.text();
    if (!res.ok) throw new Error(`cold start: GET /health answered ${res.status}`);
    return { ready, firstResponse: performance.now() - t0 };
  } finally {
    await mf.dispose();
  }
}

/** Builds the bundle into a temporary folder and measures `runs` fresh instances of it and of the baseline,
 * alternating, so a drift of the (shared) machine hits both alike. */
export async function measureColdStart(root: string, runs: number): Promise<ColdStartResult> {
  const started = performance.now();
  // Under the project (git-ignored): workerd refuses module paths that climb out of the working directory.
  mkdirSync(join(root, "bench", ".build"), { recursive: true });
  const dir = mkdtempSync(join(root, "bench", ".build", "cold-"));
  try {
    const out = join(dir, "bundle");
    const { stdout } = await run("npx", ["wrangler", "deploy", "--dry-run", "--outdir", out], {
      cwd: root,
      env: {
        ...process.env,
        WRANGLER_SEND_METRICS: "false",
        CLOUDFLARE_CF_FETCH_ENABLED: "false",
        DO_NOT_TRACK: "1",
      },
    });
    const names = readdirSync(out).filter((f) => statSync(join(out, f)).isFile());
    const files = names
      .filter((f) => /\.(m?js|cjs|wasm)$/.test(f))
      .map((name) => {
        const buf = readFileSync(join(out, name));
        return { name, bytes: buf.length, gzipBytes: gzipSync(buf, { level: 9 }).length };
      });
    const sourceMapBytes = names
      .filter((f) => f.endsWith(".map"))
      .reduce((s, f) => s + statSync(join(out, f)).size, 0);
    const baselinePath = join(dir, "baseline.mjs");
    writeFileSync(baselinePath, BASELINE_SCRIPT);
    // The Upstash store configured at a loopback port nobody listens on: /health never reaches the store.
    const bindings = {
      ORIGIN_URL: "http://127.0.0.1:9",
      UPSTASH_REDIS_REST_URL: "http://127.0.0.1:9",
      UPSTASH_REDIS_REST_TOKEN: "cold-start-token",
    };
    const q = { ready: [] as number[], firstResponse: [] as number[] };
    const b = { ready: [] as number[], firstResponse: [] as number[] };
    for (let i = 0; i < runs; i++) {
      const pair = [
        async () => {
          const t = await startOnce(join(out, "index.js"), bindings);
          q.ready.push(t.ready);
          q.firstResponse.push(t.firstResponse);
        },
        async () => {
          const t = await startOnce(baselinePath, {});
          b.ready.push(t.ready);
          b.firstResponse.push(t.firstResponse);
        },
      ];
      for (const step of i % 2 === 0 ? pair : pair.reverse()) await step();
    }
    return {
      files,
      rawBytes: files.reduce((s, f) => s + f.bytes, 0),
      gzipBytes: files.reduce((s, f) => s + f.gzipBytes, 0),
      sourceMapBytes,
      wranglerReport: /Total Upload:[^\n]*/.exec(stdout)?.[0]?.trim() ?? null,
      runs,
      quotagate: { ready: timing(q.ready), firstResponse: timing(q.firstResponse) },
      baseline: { ready: timing(b.ready), firstResponse: timing(b.firstResponse) },
      wallMs: Math.round(performance.now() - started),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
