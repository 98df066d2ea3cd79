// CORS for browser clients, from the policy's `cors`: the gateway answers preflights itself (uncharged, no
// credential needed) for the listed origins and refuses them for others (403), and puts the CORS headers on every
// other response to a listed origin (proxied, 429, errors), exposing the RateLimit headers. The admin API gets none.
//
// Preflights are answered by hono's `cors`. The headers of actual responses are set here: hono's helper sets them
// before the route runs, so they could not replace CORS headers the origin sends (the gateway owns CORS once the
// policy configures it), and it answers every OPTIONS request, where only preflights are the gateway's to answer.
import type { MiddlewareHandler } from "hono";
import { cors } from "hono/cors";
import type { CompiledPolicy } from "../policy/compiled-policy.ts";
import { isAdminPath } from "../policy/path.ts";
import { problem } from "./problem.ts";

/** Response headers a page may read: the quota state the gateway adds. */
export const EXPOSED_HEADERS = [
  "RateLimit",
  "RateLimit-Policy",
  "Retry-After",
  "X-RateLimit-Limit",
  "X-RateLimit-Remaining",
  "X-RateLimit-Reset",
];

const passThrough: MiddlewareHandler = (_c, next) => next();

function isAdminRequest(policy: CompiledPolicy, url: string): boolean {
  try {
    return isAdminPath(policy.normalisePath(new URL(url).pathname));
  } catch {
    return false; // refused later with a 400, which gets the CORS headers
  }
}

/** The CORS middleware of a policy; a no-op without `cors` (preflights are then ordinary requests). */
export function corsPolicy(policy: CompiledPolicy): MiddlewareHandler {
  const config = policy.policy.cors;
  if (!config) return passThrough;
  const identity = policy.policy.identity;
  const allowHeaders = config.headers ?? [
    "Authorization",
    "Content-Type",
    ...(identity.apiKey.enabled ? [identity.apiKey.header] : []),
    ...(identity.header.enabled ? [identity.header.name] : []),
  ];
  const wildcard = config.origins.includes("*");
  const allowed = (origin: string) => wildcard || config.origins.includes(origin);
  const preflight = cors({
    origin: (origin) => (allowed(origin) ? (wildcard ? "*" : origin) : null),
    allowMethods: config.methods,
    allowHeaders,
    exposeHeaders: EXPOSED_HEADERS,
    maxAge: config.maxAgeSec,
    credentials: config.credentials,
  });

  return async (c, next) => {
    const origin = c.req.header("origin");
    if (origin === undefined || isAdminRequest(policy, c.req.url)) return next();
    const isPreflight =
      c.req.method === "OPTIONS" && c.req.header("access-control-request-method") !== undefined;
    if (isPreflight) {
      if (allowed(origin)) return preflight(c, next);
      return problem("forbidden", `CORS: origin ${origin} is not allowed (policy cors.origins)`, {
        instance: new URL(c.req.url).pathname,
        headers: { vary: "Origin" },
      });
    }
    await next();
    const headers = c.res.headers;
    for (const name of [...headers.keys()]) if (name.startsWith("access-control-")) headers.delete(name);
    if (!wildcard) headers.append("vary", "Origin");
    if (!allowed(origin)) return;
    headers.set("access-control-allow-origin", wildcard ? "*" : origin);
    if (config.credentials) headers.set("access-control-allow-credentials", "true");
    headers.set("access-control-expose-headers", EXPOSED_HEADERS.join(", "));
  };
}
