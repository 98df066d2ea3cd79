// Exactness and no lost units under concurrency: several Limiters (isolates) share one store whose every call is delayed
// and reordered by fast-check's scheduler; random requests over random tenants, limits (L in {1, 10, 1000}) and
// costs, in strict mode. Admitted units per (tenant, limit, period) never exceed the limit, and once every limiter
// has flushed with returnAll the store records exactly the admitted units.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { grantPeriod } from "../algorithms/limit-window.ts";
import { previousWeight, slidingBuckets } from "../algorithms/sliding-window.ts";
import { createFakeClock } from "../core/clock.ts";
import type { Cost, Decision, FailurePolicy, LimitMode, LimitSpec, Plan } from "../core/quota.ts";
import { Metrics } from "../metrics/metrics.ts";
import { compileLimit } from "../policy/compiled-policy.ts";
// biome-ignore lint/style/noRestrictedImports: the tests drive the limiter over a concrete store
import { MemoryStore } from "../store/memory/memory-store.ts";
import type { AcquireItem, AcquireResult, FlushBatch, Store } from "../store/store.ts";
import { Limiter, type WaitUntil } from "./limiter.ts";

const START = Date.UTC(2026, 10, 23, 12, 0, 56); // four seconds before a minute boundary (prefetch lead: 5 s)

/** The shared store as isolates see it over the network: each call waits for the scheduler before it reaches the
 * store and again before its answer comes back, so calls of different isolates interleave in any order. When
 * `down`, calls fail before reaching the store. */
class ScheduledStore {
  down = false;
  readonly locality = "remote" as const;
  readonly inner: MemoryStore;
  private readonly s: fc.Scheduler;

  constructor(inner: MemoryStore, s: fc.Scheduler) {
    this.inner = inner;
    this.s = s;
  }

  private async call<T>(label: string, run: () => Promise<T>): Promise<T> {
    await this.s.schedule(Promise.resolve(), `${label}:send`);
    if (this.down) throw new Error("store down");
    const out = await run();
    return this.s.schedule(Promise.resolve(out), `${label}:reply`);
  }

  acquire(tenant: string, items: AcquireItem[], nowMs: number, caller?: string): Promise<AcquireResult> {
    return this.call(`acquire ${tenant} ${caller}`, () => this.inner.acquire(tenant, items, nowMs, caller));
  }

  flush(batch: FlushBatch): Promise<number[]> {
    return this.call("flush", () => this.inner.flush(batch));
  }

  asStore(): Store {
    const inner = this.inner;
    return {
      locality: this.locality,
      acquire: this.acquire.bind(this),
      flush: this.flush.bind(this),
      read: inner.read.bind(inner),
      reset: inner.reset.bind(inner),
      getTenant: inner.getTenant.bind(inner),
      putTenant: inner.putTenant.bind(inner),
      scanUsage: inner.scanUsage.bind(inner),
      usageSize: inner.usageSize.bind(inner),
      getDenyList: inner.getDenyList.bind(inner),
      putDeny: inner.putDeny.bind(inner),
      deleteDeny: inner.deleteDeny.bind(inner),
      getStats: inner.getStats.bind(inner),
      ping: inner.ping.bind(inner),
      acquireSlots: inner.acquireSlots.bind(inner),
      releaseSlots: inner.releaseSlots.bind(inner),
      renewSlots: inner.renewSlots.bind(inner),
    };
  }
}

interface LimitChoice {
  dimension: "requests" | "tokens";
  window: string;
  amount: number;
  mode: LimitMode;
}

const limitChoiceArbOf = (windows: string[], amounts: number[]): fc.Arbitrary<LimitChoice> =>
  fc.record({
    dimension: fc.constantFrom("requests" as const, "tokens" as const),
    window: fc.constantFrom(...windows),
    amount: fc.constantFrom(...amounts),
    mode: fc.constantFrom<LimitMode>("enforce", "enforce", "enforce", "shadow"),
  });

const tenantArbOf = (choice: fc.Arbitrary<LimitChoice>) =>
  fc.uniqueArray(choice, { minLength: 1, maxLength: 3, selector: (l) => `${l.dimension}:${l.window}` });

const tenantArb = tenantArbOf(
  limitChoiceArbOf(["second", "minute", "hour", "sliding:10s", "sliding:1m"], [1, 10, 1_000]),
);
/** Calendar windows with room to spare, so that requests near a window's end are decided locally and the next
 * window's allowance is fetched ahead. */
const boundaryTenantArb = tenantArbOf(limitChoiceArbOf(["second", "minute", "hour"], [10, 1_000, 1_000]));

const requestArb = fc.record({
  isolate: fc.nat(3),
  tenant: fc.nat(2),
  requests: fc.constantFrom(0, 1, 1, 1, 2),
  tokens: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 60 })),
});

const batchArbWith = (advanceMs: fc.Arbitrary<number>) =>
  fc.record({
    advanceMs,
    requests: fc.array(requestArb, { minLength: 1, maxLength: 12 }),
    flushes: fc.array(fc.nat(3), { maxLength: 2 }),
    /** The store is unreachable during this batch (only in the outage properties). */
    down: fc.boolean(),
  });

/** Time moves by anything from nothing to several lease lifetimes (idle isolates, expired leases). */
const batchArb = batchArbWith(
  fc.oneof(
    { weight: 6, arbitrary: fc.nat(2_000) },
    { weight: 3, arbitrary: fc.nat(70_000) },
    { weight: 1, arbitrary: fc.nat(400_000) },
  ),
);
/** Time moves in small steps across window boundaries (prefetched next-window allowance, promotion). */
const boundaryBatchArb = batchArbWith(fc.nat(1_500));

interface Batch {
  advanceMs: number;
  requests: Array<{ isolate: number; tenant: number; requests: number; tokens: number }>;
  flushes: number[];
  down: boolean;
}

interface Scenario {
  isolates: number;
  cacheSize: number;
  tenants: LimitChoice[][];
  batches: Batch[];
}

const scenarioArb: fc.Arbitrary<Scenario> = fc.record({
  isolates: fc.integer({ min: 1, max: 4 }),
  cacheSize: fc.constantFrom(3, 8, 1_000),
  tenants: fc.array(tenantArb, { minLength: 1, maxLength: 3 }),
  batches: fc.array(batchArb, { minLength: 1, maxLength: 12 }),
});

const boundaryScenarioArb: fc.Arbitrary<Scenario> = fc.record({
  isolates: fc.integer({ min: 1, max: 3 }),
  cacheSize: fc.constantFrom(8, 1_000),
  tenants: fc.array(boundaryTenantArb, { minLength: 1, maxLength: 2 }),
  batches: fc.array(boundaryBatchArb, { minLength: 1, maxLength: 25 }),
});

const keyOf = (tenant: string, limit: LimitSpec, periodId: string) => `${tenant}|${limit.id}|${periodId}`;

async function recorded(store: Store, tenant: string, limit: LimitSpec, periodId: string): Promise<number> {
  let cursor = "0";
  let units = 0;
  do {
    const page = await store.scanUsage(limit, periodId, cursor, 1_000);
    for (const [t, n] of page.entries) if (t === tenant) units += n;
    cursor = page.cursor;
  } while (cursor !== "0");
  return units;
}

interface RunOptions {
  failure: FailurePolicy;
  /** Whether batches may take the store down. */
  outages: boolean;
}

async function runScenario(sc: Scenario, s: fc.Scheduler, opts: RunOptions): Promise<void> {
  const clock = createFakeClock(START);
  const shared = new ScheduledStore(new MemoryStore(), s);
  const store = shared.asStore();
  const limiters = Array.from(
    { length: sc.isolates },
    () =>
      new Limiter({
        store,
        clock,
        metrics: new Metrics(),
        cacheSize: sc.cacheSize,
        cacheTtlMs: 60_000,
        storeTimeoutMs: 600_000, // never: the scheduler decides when the store answers
      }),
  );
  const plans: Plan[] = sc.tenants.map((choices, i) => ({
    tenant: `t${i}`,
    tier: "prop",
    failure: opts.failure,
    degradedShare: 0.1,
    limits: choices.map((c) =>
      compileLimit({ dimension: c.dimension, window: c.window, limit: c.amount, mode: c.mode }),
    ),
  }));

  /** Admitted units per (tenant, limit, period), and every (tenant, limit, period) the run went through. */
  const admitted = new Map<string, number>();
  const visited = new Map<string, { tenant: string; limit: LimitSpec; periodId: string }>();
  const failOpen: Decision[] = [];

  // Everything handed to waitUntil or started by the test, awaited through the scheduler.
  const tracked: Array<{ p: Promise<unknown>; done: boolean }> = [];
  const track = (p: Promise<unknown>): void => {
    const t = { p, done: false };
    tracked.push(t);
    // drain() awaits every tracked promise (and so surfaces its failure); this only marks it settled.
    p.finally(() => {
      t.done = true;
    }).catch(() => undefined);
  };
  const waitUntil: WaitUntil = track;
  const drain = async () => {
    for (let i = 0; tracked.some((t) => !t.done); i++) {
      if (i > 10_000) throw new Error("scheduler did not drain");
      await s.waitIdle();
      await Promise.resolve();
    }
    // Surface failures of the tasks the test itself started.
    await Promise.all(tracked.splice(0).map((t) => t.p));
  };

  for (const batch of sc.batches) {
    clock.advance(batch.advanceMs);
    const now = clock.now();
    shared.down = opts.outages && batch.down;
    for (const plan of plans)
      for (const l of plan.limits) {
        const periodId = grantPeriod(l, now).id;
        visited.set(keyOf(plan.tenant, l, periodId), { tenant: plan.tenant, limit: l, periodId });
      }

    for (const r of batch.requests) {
      const limiter = limiters[r.isolate % limiters.length]!;
      const plan = plans[r.tenant % plans.length]!;
      const cost: Cost = { requests: r.requests, tokens: r.tokens };
      track(
        s
          .schedule(Promise.resolve(), `request ${plan.tenant}`)
          .then(() => limiter.decide(plan, cost, waitUntil))
          .then((d) => {
            expect(d.tenant).toBe(plan.tenant);
            for (const st of d.states) {
              expect(st.remaining).toBeGreaterThanOrEqual(0);
              expect(st.remaining).toBeLessThanOrEqual(st.limit.limit);
            }
            if (!d.allowed) return;
            if (d.reason === "fail_open") failOpen.push(d);
            else expect(d.reason).toBe("ok");
            for (const l of plan.limits) {
              const c = cost[l.dimension] ?? 0;
              if (c === 0) continue;
              const k = keyOf(plan.tenant, l, grantPeriod(l, clock.now()).id);
              admitted.set(k, (admitted.get(k) ?? 0) + c);
            }
          }),
      );
    }
    for (const i of batch.flushes) {
      const limiter = limiters[i % limiters.length]!;
      track(s.schedule(Promise.resolve(), "flush").then(() => limiter.flush()));
    }
    await drain();

    // §7.1: strict, enforced limits never admit more than the limit in a period (fail-open excepted).
    if (failOpen.length === 0) {
      for (const plan of plans)
        for (const l of plan.limits) {
          if (l.mode !== "enforce") continue;
          const got = admitted.get(keyOf(plan.tenant, l, grantPeriod(l, now).id)) ?? 0;
          expect(got, `${plan.tenant} ${l.id}`).toBeLessThanOrEqual(l.limit);
          const w = l.window;
          if (w.kind === "sliding") {
            // ...and for a sliding window, the weighted estimate over what was admitted stays within the limit.
            const b = slidingBuckets(w.sizeMs, now);
            const prev = admitted.get(keyOf(plan.tenant, l, `s${b.index - 1}`)) ?? 0;
            expect(previousWeight(prev, w.sizeMs, b.elapsedMs) + got).toBeLessThanOrEqual(l.limit);
          }
        }
    }
  }

  // §7.4: the store back, every isolate returns what it holds and sends what it owes; then usage = admitted.
  shared.down = false;
  for (const limiter of limiters) {
    track(limiter.flush({ returnAll: true }));
    await drain();
    expect(limiter.snapshot().pendingDeltas).toBe(0);
  }
  for (const { tenant, limit, periodId } of visited.values()) {
    const want = admitted.get(keyOf(tenant, limit, periodId)) ?? 0;
    expect(await recorded(shared.inner, tenant, limit, periodId), `${tenant} ${limit.id} ${periodId}`).toBe(
      want,
    );
  }
}

describe("Limiter across isolates sharing one store (property)", () => {
  it("strict mode: no over-admission, and recorded usage = admitted units after flush", async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArb, fc.scheduler(), async (sc, s) => {
        await runScenario(sc, s, { failure: "closed", outages: false });
      }),
      { numRuns: 200 },
    );
  }, 60_000);

  it("strict mode across window boundaries (next-window allowance fetched ahead)", async () => {
    await fc.assert(
      fc.asyncProperty(boundaryScenarioArb, fc.scheduler(), async (sc, s) => {
        await runScenario(sc, s, { failure: "closed", outages: false });
      }),
      { numRuns: 150 },
    );
  }, 60_000);

  it("fail-closed through store outages: still no over-admission, and usage = admitted once the store is back", async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArb, fc.scheduler(), async (sc, s) => {
        await runScenario(sc, s, { failure: "closed", outages: true });
      }),
      { numRuns: 100 },
    );
  }, 60_000);

  it("fail-open through store outages: no admitted unit is lost once the store is back", async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArb, fc.scheduler(), async (sc, s) => {
        await runScenario(sc, s, { failure: "open", outages: true });
      }),
      { numRuns: 100 },
    );
  }, 60_000);
});
