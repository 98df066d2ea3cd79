// Worker entry: validates the configuration once per isolate (a bad config fails at startup, naming the field),
// builds the dependencies and serves the Hono app.
import { env as startupEnv } from "cloudflare:workers";
import { type BuildOptions, buildDeps } from "./deps.ts";
import { createApp } from "./http/app.ts";
import { problemFromError } from "./http/problem.ts";

type Handler = ExportedHandler<Record<string, unknown>>;

function build(env: Record<string, unknown>, opts: BuildOptions = {}) {
  return createApp(buildDeps(env, opts));
}

/** Builds a worker for an env; a config error becomes a worker that answers every request with that problem.
 * `opts.clock` lets tests drive time (e.g. past QUOTA_CACHE_TTL) without sleeping. */
export function createWorker(env: Record<string, unknown>, opts: BuildOptions = {}): Handler {
  try {
    const app = build(env, opts);
    return { fetch: (req, e, ctx) => app.fetch(req, e, ctx) };
  } catch (err) {
    console.error(String((err as Error).message ?? err));
    return { fetch: (req) => problemFromError(err, new URL(req.url).pathname) };
  }
}

// Startup validation: a throw here makes `wrangler dev` and `wrangler deploy` fail with the offending field.
let current = build(startupEnv as unknown as Record<string, unknown>);

/** Test hook: a fresh isolate state (new store, cache and counters). */
export function resetForTests(): void {
  current = build(startupEnv as unknown as Record<string, unknown>);
}

export default {
  fetch(req, env, ctx) {
    return current.fetch(req, env, ctx);
  },
} satisfies Handler;
