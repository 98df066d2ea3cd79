// End to end in workerd, waiting aspect (memory store, fake clock and timers): a request that would be refused waits
// when it asks (Prefer: wait) and is admitted when its window turns; the bound applies, nonsense is ignored, a full
// queue answers 429 naming its bound, a client that leaves frees its place at once; stats, health and metrics.
import { describe, expect, it } from "vitest";
import { createFakeClock, createFakeTimers } from "../src/core/clock.ts";
import { adminHealthResponseSchema, statsResponseSchema } from "../src/http/admin/schemas.ts";
import { adminJson, BEARER } from "./support/admin.ts";
import {
  asTenant,
  expectProblem,
  FROZEN_AT_MS,
  MINUTE_LEFT_S,
  policyJson,
  QUOTA_EXCEEDED_TYPE,
  traffic,
  useGatewayState,
  workerWith,
} from "./support/gateway.ts";
import { burst, queueStatsOf, untilQueued } from "./support/queue.ts";

useGatewayState();

/** A worker on the default policy (free: 100 a minute, waits up to 120 s when asked) with time in the test's hands. */
function waitingWorker(overrides: Record<string, unknown> = {}) {
  const clock = createFakeClock(FROZEN_AT_MS);
  const timers = createFakeTimers(clock);
  return { clock, timers, w: workerWith(overrides, clock, timers) };
}

const freeTier = (queue: Record<string, number>) =>
  policyJson({
    tiers: {
      free: {
        limits: [{ window: "minute", limit: 100 }],
        queue: { maxWaitSeconds: 120, ...queue },
      },
    },
  });

describe("Prefer: wait", () => {
  it("admits 100 of a free tenant's 150 requests at once and the other 50 when the minute turns: no 429", async () => {
    const { timers, w } = waitingWorker();
    const pending = burst(w.fetch, "t-wait", 150, { Prefer: "wait=90" });
    const stats = await untilQueued(w.fetch, 50);
    expect(stats.depth_by_tenant).toEqual({ "t-wait": 50 });
    timers.advance(MINUTE_LEFT_S * 1000 - 1);
    expect((await queueStatsOf(w.fetch)).depth).toBe(50);
    timers.advance(1); // 12:01:00: the new minute's allowance
    const responses = await Promise.all(pending);
    expect(responses.map((r) => r.status)).toEqual(Array(150).fill(200));
    const waited = responses.map((r) => r.headers.get("X-Quota-Waited-Ms"));
    expect(waited.filter((v) => v === "0")).toHaveLength(100);
    expect(waited.filter((v) => v === "30000")).toHaveLength(50);
    for (const r of responses) {
      expect(r.headers.get("Preference-Applied")).toBe("wait=90");
      expect(r.headers.get("x-origin")).toBe("demo");
      await r.arrayBuffer();
    }
    const after = await queueStatsOf(w.fetch);
    expect(after).toMatchObject({
      depth: 0,
      admitted: 50,
      expired: 0,
      avg_wait_ms: 30_000,
      max_wait_ms: 30_000,
    });
    expect(after.depth_by_tenant).toBeUndefined(); // the public view names no tenant
  });

  it("grants at most the tier's bound, ignores a value that is not delta-seconds, and refuses at once a wait that would pass its bound", async () => {
    const { timers, w } = waitingWorker({ QUOTA_POLICY: freeTier({ maxWaitSeconds: 40 }) });
    expect(await traffic("t-bound", 100, w.fetch)).toEqual(Array(100).fill(200));

    const nonsense = await w.fetch("/v1/x", asTenant("t-bound", { Prefer: "wait=soon" }));
    const p = await expectProblem(nonsense, 429);
    expect(p.type).toBe(QUOTA_EXCEEDED_TYPE);
    expect(nonsense.headers.get("Preference-Applied")).toBeNull();
    expect(nonsense.headers.get("X-Quota-Waited-Ms")).toBeNull();

    // The minute turns in 30 s: more than a 20 s wait, so no use waiting.
    const short = await w.fetch("/v1/x", asTenant("t-bound", { Prefer: "wait=20" }));
    await expectProblem(short, 429);
    expect(short.headers.get("Retry-After")).toBe(String(MINUTE_LEFT_S));
    expect(short.headers.get("Preference-Applied")).toBe("wait=20");
    expect(short.headers.get("X-Quota-Waited-Ms")).toBe("0");

    const long = w.fetch("/v1/x", asTenant("t-bound", { Prefer: "wait=3600" }));
    await untilQueued(w.fetch, 1);
    timers.advance(MINUTE_LEFT_S * 1000);
    const res = await long;
    expect(res.status).toBe(200);
    expect(res.headers.get("Preference-Applied")).toBe("wait=40");
    expect(res.headers.get("X-Quota-Waited-Ms")).toBe("30000");
  });

  it("answers 429 problem+json naming the per-tenant or the global bound when the queue is full", async () => {
    const policy = JSON.parse(freeTier({ maxDepth: 2 }));
    const { timers, w } = waitingWorker({
      QUOTA_POLICY: JSON.stringify({ ...policy, queue: { maxDepth: 3 } }),
    });
    for (const t of ["t-a", "t-b", "t-c"]) await traffic(t, 100, w.fetch);
    const waiting = [
      ...burst(w.fetch, "t-a", 2, { Prefer: "wait=60" }),
      ...burst(w.fetch, "t-b", 1, { Prefer: "wait=60" }),
    ];
    await untilQueued(w.fetch, 3);

    const tenantFull = await w.fetch("/v1/x", asTenant("t-a", { Prefer: "wait=60" }));
    const p = await expectProblem(tenantFull, 429);
    expect(p.type).toBe("urn:quotagate:problem:queue-full");
    expect(p).toMatchObject({ bound: "tenant", max_depth: 2, tenant: "t-a", retry_after: MINUTE_LEFT_S });
    expect(p.detail).toContain("per-tenant bound 2");
    expect(tenantFull.headers.get("Retry-After")).toBe(String(MINUTE_LEFT_S));

    const globalFull = await w.fetch("/v1/x", asTenant("t-c", { Prefer: "wait=60" }));
    const g = await expectProblem(globalFull, 429);
    expect(g).toMatchObject({ bound: "global", max_depth: 3 });
    expect(g.detail).toContain("global bound 3");
    expect((await queueStatsOf(w.fetch)).rejected).toBe(2);

    timers.advance(MINUTE_LEFT_S * 1000);
    expect((await Promise.all(waiting)).map((r) => r.status)).toEqual([200, 200, 200]);
  });

  it("frees the place of a client that disconnects at once, and never admits its request", async () => {
    const { timers, w } = waitingWorker();
    await traffic("t-gone", 100, w.fetch);
    const gone = new AbortController();
    const pending = w.fetch("/v1/x", { ...asTenant("t-gone", { Prefer: "wait=60" }), signal: gone.signal });
    const stays = w.fetch("/v1/y", asTenant("t-gone", { Prefer: "wait=60" }));
    await untilQueued(w.fetch, 2);
    gone.abort();
    const stats = await queueStatsOf(w.fetch, true);
    expect(stats).toMatchObject({ depth: 1, aborted: 1, depth_by_tenant: { "t-gone": 1 } });
    await pending.then(
      (r) => r.arrayBuffer(),
      () => undefined,
    );
    timers.advance(MINUTE_LEFT_S * 1000);
    expect((await stays).status).toBe(200);
    expect(await queueStatsOf(w.fetch)).toMatchObject({ depth: 0, admitted: 1, aborted: 1 });
    // The next minute counts the one admitted request only: the aborted one took nothing.
    const status = await (await w.fetch("/quota/status", asTenant("t-gone"))).json();
    expect((status as { limits: Array<{ used: number }> }).limits[0]!.used).toBe(1);
  });
});

describe("queue visibility", () => {
  it("reports depth per tenant to the admin only, and degrades health past 50 waiting requests of one tenant", async () => {
    const { timers, w } = waitingWorker();
    const pending = burst(w.fetch, "t-deep", 151, { Prefer: "wait=60" });
    await untilQueued(w.fetch, 51);
    const pub = await queueStatsOf(w.fetch);
    expect(pub).toMatchObject({ scope: "isolate", depth: 51, max_depth: 5000, tenants_waiting: 1 });
    expect(pub.depth_by_tenant).toBeUndefined();
    // A credential that is not the admin token (a tenant's bearer JWT, say) gets the public view.
    const other = await w.fetch("/queue/stats", { headers: { authorization: "Bearer not-the-token" } });
    expect(((await other.json()) as Record<string, unknown>).depth_by_tenant).toBeUndefined();

    const stats = await adminJson(w.fetch, "/admin/quota/stats", statsResponseSchema);
    expect(stats.queue).toMatchObject({ depth: 51, depth_by_tenant: { "t-deep": 51 } });
    const health = await adminJson(w.fetch, "/admin/quota/health", adminHealthResponseSchema);
    expect(health.status).toBe("degraded");
    expect(health.checks.queue).toMatchObject({ status: "warn", depth: 51, max_tenant_depth: 51 });
    expect(health.checks.queue.reasons.join(" ")).toContain('tenant "t-deep" has 51 waiting requests');
    const metrics = await (await w.fetch("/admin/metrics", { headers: BEARER })).text();
    expect(metrics).toMatch(/^quotagate_queue_depth 51$/m);

    timers.advance(MINUTE_LEFT_S * 1000);
    for (const r of await Promise.all(pending)) expect(r.status).toBe(200);
    const after = await adminJson(w.fetch, "/admin/quota/health", adminHealthResponseSchema);
    expect(after.checks.queue).toMatchObject({ status: "ok", depth: 0 });
    const text = await (await w.fetch("/admin/metrics", { headers: BEARER })).text();
    expect(text).toMatch(/^quotagate_queue_depth 0$/m);
    expect(text).toMatch(/^quotagate_queue_requests_total\{outcome="admitted"\} 51$/m);
    expect(text).toMatch(/^quotagate_queue_wait_seconds_count\{outcome="admitted"\} 51$/m);
    expect(text).toMatch(/^quotagate_queue_wait_seconds_bucket\{outcome="admitted",le="30"\} 51$/m);
  });
});
