// Public entry of the quotagate package: `quota(options)`, the gateway's decisions, headers and stores as middleware
// for an existing Hono app (built once per isolate: its own store client, isolate cache and counters), and its types.
import type { MiddlewareHandler } from "hono";
import { buildServices } from "./deps.ts";
import { type QuotaEnv, type QuotaGate, quotaMiddleware } from "./http/middleware/quota.ts";
import { problemFromError } from "./http/problem.ts";
import { parseQuotaOptions, type QuotaOptions } from "./policy/quota-options.ts";

export type { Clock } from "./core/clock.ts";
export type { Decision, LimitState } from "./core/quota.ts";
export type { Identity } from "./http/identity.ts";
export type { QuotaEnv, QuotaVariables } from "./http/middleware/quota.ts";
export type { PolicyInput } from "./policy/policy-schema.ts";
export type { QuotaOptions };

function gateFor(options: QuotaOptions): QuotaGate {
  const config = parseQuotaOptions(options);
  return { config, ...buildServices(config, options.clock ? { clock: options.clock } : {}) };
}

/**
 * The quota middleware. Options given as an object are validated at once (a bad option throws, naming it); given as
 * a function of the app's env bindings (Workers secrets), they are read on the first request, and a bad option
 * answers that request with a 500 problem naming it.
 */
export function quota(
  options: QuotaOptions | ((env: Record<string, unknown>) => QuotaOptions) = {},
): MiddlewareHandler<QuotaEnv> {
  if (typeof options !== "function") return quotaMiddleware(gateFor(options));
  let handler: MiddlewareHandler<QuotaEnv> | undefined;
  return async (c, next) => {
    if (!handler) {
      try {
        handler = quotaMiddleware(gateFor(options((c.env ?? {}) as Record<string, unknown>)));
      } catch (err) {
        return problemFromError(err, new URL(c.req.url).pathname);
      }
    }
    return handler(c, next);
  };
}
