// Plan resolution: the admin record replaces the policy's static entry whole, tenant ids never reach the object
// prototype, plans are cached in the tenant's book for the TTL, and the policy alone serves briefly when the store fails.
import { describe, expect, it } from "vitest";
import { TenantBook } from "../cache/tenant-book.ts";
import { createFakeClock } from "../core/clock.ts";
import { Metrics } from "../metrics/metrics.ts";
import { parseConfig } from "../policy/config.ts";
import { defaultPolicy } from "../policy/default-policy.ts";
// biome-ignore lint/style/noRestrictedImports: the tests resolve over a concrete store
import { MemoryStore } from "../store/memory/memory-store.ts";
import type { TenantRecord } from "../store/store.ts";
import { PlanResolver, resolvePlan } from "./plan-resolver.ts";

const policy = parseConfig({
  ORIGIN_URL: "https://origin.test",
  QUOTA_POLICY: JSON.stringify({
    ...defaultPolicy,
    tenants: { "t-static": { tier: "pro", overrides: { limits: [{ window: "minute", limit: 3 }] } } },
  }),
}).policy;

const record = (tier: string, overrides?: TenantRecord["overrides"]): TenantRecord => ({
  tier,
  ...(overrides ? { overrides } : {}),
  version: 1,
  updatedAtMs: 0,
});

describe("resolvePlan", () => {
  it("an admin record replaces the static entry whole: no overrides in the record means none", () => {
    const r = resolvePlan(policy, { tenant: "t-static" }, record("enterprise"));
    expect(r.source).toBe("admin");
    expect(r.plan.tier).toBe("enterprise");
    expect(r.plan.limits.find((l) => l.id === "requests:minute")!.limit).toBe(
      policy.plan("x", "enterprise").limits.find((l) => l.id === "requests:minute")!.limit,
    );
  });

  it("without a record: the static entry with its overrides, then the credential's tier, then the default", () => {
    const fixed = resolvePlan(policy, { tenant: "t-static" }, null);
    expect(fixed).toMatchObject({ source: "policy", plan: { tier: "pro" } });
    expect(fixed.plan.limits.find((l) => l.id === "requests:minute")!.limit).toBe(3);
    expect(resolvePlan(policy, { tenant: "t-x", tierHint: "pro" }, null)).toMatchObject({
      source: "credential",
      plan: { tier: "pro" },
    });
    expect(resolvePlan(policy, { tenant: "t-x", tierHint: "nope" }, null).source).toBe("default");
  });

  it("a record naming a tier the policy no longer has is ignored", () => {
    expect(resolvePlan(policy, { tenant: "t-static" }, record("gone")).source).toBe("policy");
  });

  it("tenant ids named like Object.prototype members are ordinary tenants", () => {
    for (const tenant of ["constructor", "__proto__", "toString", "hasOwnProperty"])
      expect(resolvePlan(policy, { tenant }, null).source).toBe("default");
  });
});

describe("PlanResolver.planFor", () => {
  it("caches the plan in the book for the TTL, and falls back to the policy for 5 s when the store fails", async () => {
    const clock = createFakeClock();
    const store = new MemoryStore();
    let down = false;
    let reads = 0;
    const getTenant = store.getTenant.bind(store);
    store.getTenant = async (t) => {
      reads++;
      if (down) throw new Error("store down");
      return getTenant(t);
    };
    const resolver = new PlanResolver({
      policy,
      store,
      metrics: new Metrics(),
      cacheTtlMs: 10_000,
      storeTimeoutMs: 1_000,
    });
    const book = new TenantBook("t-1");
    await store.putTenant("t-1", { tier: "pro" }, clock.now());
    expect((await resolver.planFor(book, { tenant: "t-1" }, clock.now())).tier).toBe("pro");
    expect((await resolver.planFor(book, { tenant: "t-1" }, clock.now())).tier).toBe("pro");
    expect(reads).toBe(1);
    clock.advance(10_000);
    down = true;
    expect((await resolver.planFor(book, { tenant: "t-1" }, clock.now())).tier).toBe("free");
    expect(book.plan?.source).toBe("fallback");
    down = false;
    clock.advance(4_999);
    expect((await resolver.planFor(book, { tenant: "t-1" }, clock.now())).tier).toBe("free");
    clock.advance(1);
    expect((await resolver.planFor(book, { tenant: "t-1" }, clock.now())).tier).toBe("pro");
    expect(reads).toBe(3);
  });
});
