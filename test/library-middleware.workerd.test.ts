// The library in workerd: a small Hono app of its own (not the proxy) that uses `quota` from the package entry gets the
// gateway's decisions, RateLimit headers, 429 and problem+json answers, while its unguarded routes stay untouched.
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { Hono } from "hono";
import { type QuotaEnv, quota } from "quotagate";
import { describe, expect, it } from "vitest";
import { createFakeClock } from "../src/core/clock.ts";
import { UPSTASH_BINDINGS } from "./support/admin.ts";
import { expectProblem, FROZEN_AT_MS, MINUTE_LEFT_S, QUOTA_EXCEEDED_TYPE } from "./support/gateway.ts";
import { describeWithRedis } from "./support/redis-suite.ts";

const policy = {
  defaultTier: "basic",
  tiers: { basic: { limits: [{ window: "minute", limit: 3 }] } },
  routes: [{ method: "POST", path: "/api/batch", cost: { requests: 2 } }],
  identity: { header: { enabled: true } },
};

/** An app of a library user: guarded /api routes that echo the decision, one open route. */
function userApp(middleware: ReturnType<typeof quota>) {
  const app = new Hono<QuotaEnv>();
  app.get("/", (c) => c.text("home"));
  app.use("/api/*", middleware);
  app.all("/api/*", (c) => c.json({ tenant: c.get("quota")?.tenant, tier: c.get("quota")?.tier }));
  return app;
}

/** A request through the app as workerd delivers it, background work (flushes) awaited. */
async function call(app: Hono<QuotaEnv>, path: string, init?: RequestInit, env: unknown = {}) {
  const ctx = createExecutionContext();
  const res = await app.fetch(new Request(`http://app.test${path}`, init), env, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

const as = (tenant: string, method = "GET"): RequestInit => ({ method, headers: { "X-Tenant-ID": tenant } });

describe("quota middleware from the package entry", () => {
  it("puts the RateLimit headers on the app's own responses and refuses the request past the limit with 429", async () => {
    const app = userApp(quota({ policy, clock: createFakeClock(FROZEN_AT_MS) }));
    for (let i = 0; i < 3; i++) {
      const res = await call(app, "/api/things", as("lib-t1"));
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ tenant: "lib-t1", tier: "basic" });
      expect(res.headers.get("ratelimit-policy")).toBe('"requests-minute";q=3;w=60');
      expect(res.headers.get("ratelimit")).toBe(`"requests-minute";r=${2 - i};t=${MINUTE_LEFT_S}`);
      expect(res.headers.get("x-ratelimit-limit")).toBe("3");
      expect(res.headers.get("x-ratelimit-remaining")).toBe(String(2 - i));
      expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    }
    const denied = await call(app, "/api/things", as("lib-t1"));
    const p = await expectProblem(denied, 429);
    expect(p.type).toBe(QUOTA_EXCEEDED_TYPE);
    expect(p).toMatchObject({ tenant: "lib-t1", "violated-policies": ["requests-minute"] });
    expect(denied.headers.get("retry-after")).toBe(String(MINUTE_LEFT_S));
    expect(denied.headers.get("ratelimit")).toBe(`"requests-minute";r=0;t=${MINUTE_LEFT_S}`);
    // Another tenant has its own quota; a route outside the middleware is not counted and carries no headers.
    expect((await call(app, "/api/things", as("lib-t2"))).status).toBe(200);
    const home = await call(app, "/");
    expect(await home.text()).toBe("home");
    expect(home.headers.get("ratelimit")).toBeNull();
  });

  it("puts the headers on a response whose own headers cannot change (a redirect, as fetch() answers are)", async () => {
    const app = new Hono<QuotaEnv>();
    app.use("*", quota({ policy, clock: createFakeClock(FROZEN_AT_MS) }));
    app.get("/go", () => Response.redirect("https://elsewhere.test/there", 302));
    const res = await call(app, "/go", as("lib-immutable"));
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe("https://elsewhere.test/there");
    expect(res.headers.get("ratelimit")).toBe(`"requests-minute";r=2;t=${MINUTE_LEFT_S}`);
    expect(res.headers.get("x-ratelimit-remaining")).toBe("2");
  });

  it("prices requests by the policy's routes and answers bad credentials with problem+json", async () => {
    const app = userApp(quota({ policy, clock: createFakeClock(FROZEN_AT_MS) }));
    const batch = await call(app, "/api/batch", as("lib-price", "POST"));
    expect(batch.headers.get("ratelimit")).toBe(`"requests-minute";r=1;t=${MINUTE_LEFT_S}`);
    expect((await call(app, "/api/batch", as("lib-price", "POST"))).status).toBe(429);
    const anonymous = await expectProblem(await call(app, "/api/things"), 401);
    expect(anonymous.type).toBe("urn:quotagate:problem:tenant-missing");
    await expectProblem(await call(app, "/api/things", as("has space")), 400);
  });

  it("reads options from the app's env on the first request; a bad option is a 500 naming it", async () => {
    const clock = createFakeClock(FROZEN_AT_MS);
    const app = userApp(
      quota((env) => ({ policy, clock, cacheTtlSeconds: Number(env.TTL), enabled: env.OFF !== "1" })),
    );
    expect((await call(app, "/api/x", as("lib-env"), { TTL: "30" })).headers.get("x-ratelimit-limit")).toBe(
      "3",
    );
    const off = userApp(quota((env) => ({ policy, clock, enabled: env.OFF !== "1" })));
    expect((await call(off, "/api/x", as("lib-off"), { OFF: "1" })).headers.get("ratelimit")).toBeNull();
    const bad = userApp(quota(() => ({ policy, cacheTtlSeconds: 0 })));
    const p = await expectProblem(await call(bad, "/api/x", as("lib-bad")), 500);
    expect(p.detail).toContain("cacheTtlSeconds");
  });

  it("throws at construction on a bad object option, naming it", () => {
    expect(() => quota({ policy: { tiers: { basic: { limits: [] } } } })).toThrow(
      /policy\.tiers\.basic\.limits/,
    );
    expect(() => quota({ upstash: { url: "ftp://x", token: "t" } })).toThrow(/upstash\.url/);
    expect(() => quota({ nope: 1 } as never)).toThrow(/nope/);
  });
});

describeWithRedis("quota middleware on Upstash", () => {
  it("shares one quota between two apps (two isolates) through the store", async () => {
    const upstash = {
      url: UPSTASH_BINDINGS.UPSTASH_REDIS_REST_URL,
      token: UPSTASH_BINDINGS.UPSTASH_REDIS_REST_TOKEN,
    };
    const tenant = `lib-shared-${Date.now()}`;
    const a = userApp(quota({ policy, upstash, clock: createFakeClock(FROZEN_AT_MS) }));
    const b = userApp(quota({ policy, upstash, clock: createFakeClock(FROZEN_AT_MS) }));
    const statuses: number[] = [];
    for (const app of [a, b, a, b, a]) statuses.push((await call(app, "/api/s", as(tenant))).status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(3);
    expect(statuses.filter((s) => s === 429)).toHaveLength(2);
  });
});
