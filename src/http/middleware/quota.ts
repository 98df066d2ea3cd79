// The `quota` middleware: applies the deny list, identifies the tenant, prices the request, decides all of its limits
// at once, takes its concurrency slots or lets it wait (the gate), answers a refusal itself (403, 429 or 503
// problem+json) and puts the RateLimit headers on whatever the next handler returns. The worker's proxy runs behind
// it; an existing Hono app uses it through the library entry (src/lib.ts).
import type { Context, MiddlewareHandler } from "hono";
import type { Clock } from "../../core/clock.ts";
import type { DenyEntry } from "../../core/deny.ts";
import type { Decision } from "../../core/quota.ts";
import type { DenyList } from "../../limiter/deny-list.ts";
import type { QuotaService } from "../../limiter/quota-service.ts";
import type { Activity } from "../../metrics/activity.ts";
import type { GateConfig } from "../../policy/config.ts";
import type { Gate } from "../../queue/admission.ts";
import { gateRefusal, releaseWhenDone, waitHeaders } from "../admission-response.ts";
import { type Identity, identify } from "../identity.ts";
import { preferredWaitSeconds } from "../prefer.ts";
import { problem, problemFromError } from "../problem.ts";
import { rateLimitHeaders } from "../ratelimit-headers.ts";
import { type Metered, meterRequest } from "../settlement/meter.ts";

/** What the middleware is handed: the gate's settings and the quota service (never the store). */
export interface QuotaGate {
  config: Pick<GateConfig, "policy" | "jwtSecret" | "enabled">;
  clock: Clock;
  quota: QuotaService;
  deny: DenyList;
  activity: Activity;
  /** Admission: the rate decision, then concurrency slots, then waiting instead of a refusal. */
  gate: Gate;
}

/** Context variables the middleware sets for the handlers behind it (absent on exempt routes or when disabled). */
export interface QuotaVariables {
  /** The decision that admitted the request. */
  quota?: Decision;
  /** Who the request was identified as. */
  quotaIdentity?: Identity;
  /** The request body to forward in place of the request's own, when pricing read it (token estimates). */
  quotaForward?: { body?: BodyInit | null };
}

export type QuotaEnv = { Variables: QuotaVariables };

/** ctx.waitUntil when the runtime gives one (always in Workers); otherwise background work is only logged if it
 * fails (Node servers and test harnesses keep the process alive anyway). */
export function waitUntilOf(c: Context): (p: Promise<unknown>) => void {
  try {
    const ctx = c.executionCtx;
    return (p) => ctx.waitUntil(p);
  } catch {
    return (p) => {
      p.catch((err) => console.error("quotagate: background task failed", err));
    };
  }
}

/** The 429 or 503 answer of a refused request (its headers carry Retry-After already). */
export function refusal(
  decision: Decision,
  headers: Array<[string, string]>,
  path: string,
  nowMs: number,
): Response {
  if (decision.reason === "store_unavailable")
    return problem(
      "store_unavailable",
      "the quota store is unreachable and this tier fails closed; retry shortly",
      {
        instance: path,
        headers,
      },
    );
  const retryAt = decision.retryAtMs ?? nowMs;
  const retryIn = Number.isFinite(retryAt) ? Math.max(1, Math.ceil((retryAt - nowMs) / 1000)) : null;
  const who = `tenant "${decision.tenant}" (tier ${decision.tier})`;
  if (decision.reason === "degraded")
    return problem(
      "quota_exceeded",
      `the quota store is unreachable and ${who} has used this gateway's degraded share of its limits in this window; retry in ${retryIn} s`,
      {
        instance: path,
        headers,
        extensions: { tenant: decision.tenant, tier: decision.tier, retry_after: retryIn },
      },
    );
  const violated = decision.states.filter((s) => s.exceeded && s.limit.mode === "enforce");
  const names = violated.map((s) => `${s.limit.name} (${s.limit.limit})`).join(", ") || "its quota";
  return problem(
    "quota_exceeded",
    retryIn === null
      ? `${who}: this request costs more than ${names} allows in a whole window; it can never be admitted`
      : `${who} exceeded ${names}; retry in ${retryIn} s`,
    {
      instance: path,
      headers,
      extensions: {
        "violated-policies": violated.map((s) => s.limit.name),
        tenant: decision.tenant,
        tier: decision.tier,
        retry_after: retryIn,
      },
    },
  );
}

/** The 403 of a request the deny list refuses. The client learns what matched, never the operator's note. */
function forbidden(entry: DenyEntry, path: string): Response {
  const detail =
    entry.kind === "ip"
      ? "requests from this client address are refused"
      : entry.kind === "key"
        ? "this API key is refused"
        : "this tenant is refused";
  return problem("denied", detail, { instance: path, extensions: { denied: entry.kind } });
}

/** The middleware over a built gate. Bad credentials and refusals are answered here as problem+json, so the app's
 * own error handler never sees quotagate's errors; errors of the handlers behind it are left to the app. */
export function quotaMiddleware(gate: QuotaGate): MiddlewareHandler<QuotaEnv> {
  const { config, clock, quota, deny, activity } = gate;
  const policy = config.policy;
  return async (c, next) => {
    const req = c.req.raw;
    const path = new URL(req.url).pathname;
    let route: ReturnType<typeof policy.normalisePath>;
    try {
      route = policy.normalisePath(path);
    } catch (err) {
      return problemFromError(err, path);
    }
    if (!config.enabled || policy.isExempt(route)) return next();
    activity.sample();
    const refuse = (entry: DenyEntry) => {
      deny.blocked(entry);
      return forbidden(entry, path);
    };
    let admitted: Awaited<ReturnType<Gate["admit"]>>;
    let metered: Metered;
    const waitUntil = waitUntilOf(c);
    try {
      // The deny list is consulted before anything else: a refused address costs no credential check. What is known
      // at once is not awaited: in Workers every await costs a turn of the request's promise machinery.
      const copy = deny.rules();
      const rules = copy instanceof Promise ? await copy : copy;
      const byIp = rules.matchIp(req.headers.get("cf-connecting-ip"));
      if (byIp) return refuse(byIp);
      const who = identify(req, policy.policy.identity, config.jwtSecret);
      const id = who instanceof Promise ? await who : who;
      const byId = rules.matchTenant(id.tenant) ?? rules.matchKey(id.keyHash);
      if (byId) return refuse(byId);
      c.set("quotaIdentity", id);
      // A route with token rules reads the body for its estimate, reserved with the request's other limits.
      const priced = meterRequest(req, policy.route(req.method, route), quota);
      metered = priced instanceof Promise ? await priced : priced;
      const admission = gate.gate.admit({
        who: id,
        cost: metered.cost,
        waitUntil,
        signal: req.signal,
        preferWaitSec: preferredWaitSeconds(req.headers),
      });
      admitted = admission instanceof Promise ? await admission : admission;
    } catch (err) {
      return problemFromError(err, path);
    }
    const { decision, hold } = admitted;
    const decidedAtMs = clock.now();
    activity.record(decision.tenant, admitted.admitted);
    const headers = [...rateLimitHeaders(decision, decidedAtMs), ...waitHeaders(admitted)];
    if (!admitted.admitted) {
      await metered.discard();
      return gateRefusal(admitted, headers, path) ?? refusal(decision, headers, path, decidedAtMs);
    }
    c.set("quota", decision);
    c.set("quotaForward", metered.forward);
    await next();
    // The response settles the reservation as it ends (usage read on the fly; streams stay streams). Concurrency
    // slots are held until the response's body ends, the client leaves or the origin fails. Each of these returns
    // the response itself when it has nothing to do: it is then left in place, since every assignment to c.res
    // copies the response and its headers.
    const res = c.res;
    const out = releaseWhenDone(metered.settle(res, decision, decidedAtMs), hold, waitUntil, req.signal);
    if (out !== res) c.res = out;
    setHeaders(c, headers);
  };
}

/** Sets headers on the context's response in place. hono's c.header would copy the whole response for each one; only
 * a response whose headers cannot change (a fetch() response passed through as it came) needs that copy. */
function setHeaders(c: Context, headers: Array<[string, string]>): void {
  try {
    for (const [k, v] of headers) c.res.headers.set(k, v);
  } catch {
    for (const [k, v] of headers) c.header(k, v);
  }
}
