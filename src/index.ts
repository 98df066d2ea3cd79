// Worker entry: validates the configuration once per isolate (a bad config fails at startup, naming the field),
// builds the dependencies and serves the Hono app.
import { env as startupEnv } from "cloudflare:workers";
import type { Clock } from "./core/clock.ts";
import { buildDeps, type Deps } from "./deps.ts";
import { createApp } from "./http/app.ts";
import { problemFromError } from "./http/problem.ts";

interface Worker {
  deps: Deps;
  app: ReturnType<typeof createApp>;
}

/** Builds a worker for an env; a config error becomes a worker that answers every request with that problem.
 * `overrides.clock` lets tests drive time (e.g. past QUOTA_CACHE_TTL) without sleeping. */
export function createWorker(
  env: Record<string, unknown>,
  overrides: { clock?: Clock } = {},
): ExportedHandler<Record<string, unknown>> & { worker?: Worker } {
  let worker: Worker;
  try {
    const deps = buildDeps(env, overrides);
    worker = { deps, app: createApp(deps) };
  } catch (err) {
    console.error(String((err as Error).message ?? err));
    return { fetch: (req) => problemFromError(err, new URL(req.url).pathname) };
  }
  return { worker, fetch: (req, e, ctx) => worker.app.fetch(req, e, ctx) };
}

// Startup validation: a throw here makes `wrangler dev` and `wrangler deploy` fail with the offending field.
let current: Worker = (() => {
  const deps = buildDeps(startupEnv as unknown as Record<string, unknown>);
  return { deps, app: createApp(deps) };
})();

/** Test hook: a fresh isolate state (new store, cache and counters). */
export function resetForTests(): Deps {
  const deps = buildDeps(startupEnv as unknown as Record<string, unknown>);
  current = { deps, app: createApp(deps) };
  return deps;
}

export function currentDeps(): Deps {
  return current.deps;
}

export default {
  fetch(req, env, ctx) {
    return current.app.fetch(req, env, ctx);
  },
} satisfies ExportedHandler<Record<string, unknown>>;
