// Settlement invariants over random traffic (fast-check): requests reserve a random estimate, stay in flight for a
// random number of later requests while the clock moves across minute windows, then settle by a random outcome under
// random refund rules. After the flush, the store records per window exactly the sum of what the requests were
// charged (actual usage + what the refund rules keep), and no window holds more than its limit plus the overshoots
// (actual - reserved) of its requests.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { grantPeriod } from "../algorithms/limit-window.ts";
import { createFakeClock } from "../core/clock.ts";
import type { Decision, LimitSpec } from "../core/quota.ts";
import { Metrics } from "../metrics/metrics.ts";
import { compilePolicy } from "../policy/compiled-policy.ts";
import { policySchema } from "../policy/policy-schema.ts";
import {
  chargedUnits,
  type SettleOutcome,
  type TokenRules,
  tokenRulesSchema,
} from "../policy/token-rules.ts";
// biome-ignore lint/style/noRestrictedImports: the tests drive the limiter over a concrete store
import { MemoryStore } from "../store/memory/memory-store.ts";
import { Limiter } from "./limiter.ts";
import { PlanResolver } from "./plan-resolver.ts";
import { createQuotaService } from "./quota-service.ts";

const START = Date.UTC(2026, 10, 23, 12, 0, 0);
const rule = fc.constantFrom<"refund" | "keep">("refund", "keep");

const outcomeArb: fc.Arbitrary<SettleOutcome> = fc.oneof(
  fc.record({ kind: fc.constant("usage" as const), units: fc.integer({ min: 0, max: 600 }) }),
  fc.constantFrom<SettleOutcome>({ kind: "error" }, { kind: "abort" }, { kind: "missing" }),
);

const requestArb = fc.record({
  reserved: fc.integer({ min: 1, max: 300 }),
  outcome: outcomeArb,
  /** Requests admitted after this one before it settles. */
  inFlightFor: fc.nat({ max: 3 }),
  advanceMs: fc.constantFrom(0, 0, 500, 7_000, 30_000),
});

interface InFlight {
  decision: Decision;
  decidedAtMs: number;
  reserved: number;
  charged: number;
  left: number;
}

async function stored(store: MemoryStore, limit: LimitSpec, periodId: string): Promise<number> {
  const page = await store.scanUsage(limit, periodId, "0", 100);
  return page.entries.find(([t]) => t === "t")?.[1] ?? 0;
}

describe("token settlement", () => {
  it("after the flush, recorded usage = sum of charges; a window holds at most limit + overshoots", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(50, 500, 5_000),
        fc.record({ onError: rule, onAbort: rule, onMissing: rule }),
        fc.array(requestArb, { maxLength: 40 }),
        async (minuteLimit, refunds, requests) => {
          const clock = createFakeClock(START);
          const store = new MemoryStore();
          const policy = compilePolicy(
            policySchema.parse({
              tiers: {
                free: {
                  limits: [
                    { dimension: "tokens", window: "minute", limit: minuteLimit },
                    { dimension: "tokens", window: "day", limit: 1_000_000 },
                  ],
                },
              },
            }),
          );
          const metrics = new Metrics();
          const limiter = new Limiter({
            store,
            clock,
            metrics,
            cacheSize: 100,
            cacheTtlMs: 60_000,
            storeTimeoutMs: 1_000,
          });
          const resolver = new PlanResolver({
            policy,
            store,
            metrics,
            cacheTtlMs: 60_000,
            storeTimeoutMs: 1_000,
          });
          const quota = createQuotaService(limiter, resolver, clock);
          const rules: TokenRules = tokenRulesSchema.parse(refunds);
          const background: Array<Promise<unknown>> = [];
          const waitUntil = (p: Promise<unknown>) => {
            background.push(p);
          };
          const [minute, day] = policy.plan("t", "free").limits as [LimitSpec, LimitSpec];
          const charged = new Map<string, { charged: number; overshoot: number }>();
          const settle = (r: InFlight) => {
            quota.settle(r.decision, "tokens", r.charged - r.reserved, r.decidedAtMs);
            const id = grantPeriod(minute, r.decidedAtMs).id;
            const c = charged.get(id) ?? { charged: 0, overshoot: 0 };
            c.charged += r.charged;
            c.overshoot += Math.max(0, r.charged - r.reserved);
            charged.set(id, c);
          };
          let inFlight: InFlight[] = [];
          for (const req of requests) {
            clock.advance(req.advanceMs);
            const decision = await quota.admit({ tenant: "t" }, { tokens: req.reserved }, waitUntil);
            await Promise.all(background);
            for (const r of inFlight) r.left--;
            for (const r of inFlight.filter((x) => x.left < 0)) settle(r);
            inFlight = inFlight.filter((x) => x.left >= 0);
            if (decision.allowed)
              inFlight.push({
                decision,
                decidedAtMs: clock.now(),
                reserved: req.reserved,
                charged: chargedUnits(rules, req.reserved, req.outcome),
                left: req.inFlightFor,
              });
          }
          for (const r of inFlight) settle(r);
          await Promise.all(background);
          await limiter.flush({ returnAll: true });

          let total = 0;
          for (const [periodId, c] of charged) {
            const got = await stored(store, minute, periodId);
            expect(got).toBe(c.charged);
            expect(got).toBeLessThanOrEqual(minuteLimit + c.overshoot);
            total += c.charged;
          }
          expect(await stored(store, day, grantPeriod(day, START).id)).toBe(total);
        },
      ),
      { numRuns: 150 },
    );
  });
});
