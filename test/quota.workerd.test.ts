// End to end in workerd, quota aspect: admission up to the limit and not one request more, the 429 contract,
// GET /quota/status, and a bad policy answered as a problem that names the field.
import { describe, expect, it } from "vitest";
import {
  asTenant,
  DAY_LEFT_S,
  expectProblem,
  FREE_POLICY_HEADER,
  gateway,
  MINUTE_LEFT_S,
  type OriginEcho,
  originEcho,
  policyJson,
  QUOTA_EXCEEDED_TYPE,
  quotaStatus,
  useGatewayState,
  workerWith,
} from "./support/gateway.ts";

useGatewayState();

/** Sorts responses into those the origin answered for `tenant` (its echo names the tenant) and 429s. */
async function tally(responses: Response[], tenant: string) {
  let proxied = 0;
  const denied: Response[] = [];
  for (const res of responses) {
    if (res.status === 429) {
      denied.push(res);
      continue;
    }
    expect(res.status).toBe(200);
    expect(res.headers.get("x-origin")).toBe("demo");
    const echo = (await res.json()) as OriginEcho;
    expect(echo.headers["x-quotagate-tenant"]).toBe(tenant);
    proxied++;
  }
  return { proxied, denied };
}

async function expectQuotaExceeded(res: Response, tenant: string): Promise<void> {
  const problem = await expectProblem(res, 429);
  expect(problem.type).toBe(QUOTA_EXCEEDED_TYPE);
  expect(problem.title).toBe("Quota exceeded");
  expect(problem.detail).toContain(tenant);
  expect(problem.detail).toContain("requests-minute");
  expect(problem["violated-policies"]).toEqual(["requests-minute"]);
  expect(res.headers.get("Retry-After")).toBe(String(MINUTE_LEFT_S));
  expect(res.headers.get("RateLimit-Policy")).toBe(FREE_POLICY_HEADER);
  // The minute is spent; the day counts only the 100 admitted requests (a denied request consumes nothing).
  expect(res.headers.get("RateLimit")).toBe(
    `"requests-minute";r=0;t=${MINUTE_LEFT_S}, "requests-day";r=900;t=${DAY_LEFT_S}`,
  );
  expect(res.headers.get("X-RateLimit-Limit")).toBe("100");
  expect(res.headers.get("X-RateLimit-Remaining")).toBe("0");
  expect(res.headers.get("X-RateLimit-Reset")).toBe(String(MINUTE_LEFT_S));
}

describe("free tier: 100 requests a minute", () => {
  it("proxies exactly 100 of 150 sequential requests and denies the other 50 with 429 problem+json", async () => {
    const tenant = "t-sequential";
    const responses: Response[] = [];
    for (let i = 0; i < 150; i++) responses.push(await gateway(`/v1/work/${i}`, asTenant(tenant)));
    // The first 100 pass, in order; then every request is denied.
    expect(responses.map((r) => r.status)).toEqual([...Array(100).fill(200), ...Array(50).fill(429)]);
    const { proxied, denied } = await tally(responses, tenant);
    expect(proxied).toBe(100);
    expect(denied).toHaveLength(50);
    for (const res of denied) await expectQuotaExceeded(res, tenant);

    const status = await quotaStatus(asTenant(tenant));
    expect(status.limits.map((l) => [l.name, l.used, l.remaining])).toEqual([
      ["requests-minute", 100, 0],
      ["requests-day", 100, 900],
      ["tokens-minute", 0, 10_000],
      ["tokens-day", 0, 100_000],
    ]);
  });

  it("proxies exactly 100 of 150 concurrent requests", async () => {
    const tenant = "t-burst";
    const responses = await Promise.all(
      Array.from({ length: 150 }, (_, i) => gateway(`/v1/burst/${i}`, asTenant(tenant))),
    );
    const { proxied, denied } = await tally(responses, tenant);
    expect(proxied).toBe(100);
    expect(denied).toHaveLength(50);
    for (const res of denied) {
      const problem = await expectProblem(res, 429);
      expect(problem.type).toBe(QUOTA_EXCEEDED_TYPE);
      expect(res.headers.get("Retry-After")).toBe(String(MINUTE_LEFT_S));
    }
    const status = await quotaStatus(asTenant(tenant));
    expect(status.limits.map((l) => l.used)).toEqual([100, 100, 0, 0]);
  });

  it("keeps tenants apart: one tenant's exhaustion does not touch another's quota", async () => {
    for (let i = 0; i < 101; i++) await (await gateway("/v1/a", asTenant("t-greedy"))).arrayBuffer();
    const greedy = await gateway("/v1/a", asTenant("t-greedy"));
    expect(greedy.status).toBe(429);
    await greedy.arrayBuffer();

    const other = await gateway("/v1/a", asTenant("t-modest"));
    expect(other.status).toBe(200);
    expect(other.headers.get("X-RateLimit-Remaining")).toBe("99");
    await other.arrayBuffer();
    const status = await quotaStatus(asTenant("t-modest"));
    expect(status.limits.map((l) => l.used)).toEqual([1, 1, 0, 0]);
  });

  const dayOfFive = () =>
    workerWith({
      QUOTA_POLICY: policyJson({
        tiers: {
          free: {
            limits: [
              { dimension: "requests", window: "minute", limit: 100 },
              { dimension: "requests", window: "day", limit: 5 },
            ],
          },
        },
      }),
    });

  it("enforces the day limit of a tier whose day is the tighter limit", async () => {
    const w = dayOfFive();
    const denied: Response[] = [];
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) {
      const res = await w.fetch("/v1/daily", asTenant("t-daily"));
      statuses.push(res.status);
      if (res.status === 429) denied.push(res);
      else await originEcho(res);
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429, 429]);
    for (const res of denied) {
      const problem = await expectProblem(res, 429);
      expect(problem["violated-policies"]).toEqual(["requests-day"]);
    }
    // The denial that asked the store points at the end of the day.
    expect(denied[0]!.headers.get("Retry-After")).toBe(String(DAY_LEFT_S));
    const status = await quotaStatus(asTenant("t-daily"), w.fetch);
    expect(status.limits.map((l) => [l.name, l.used, l.remaining])).toEqual([
      ["requests-minute", 5, 95],
      ["requests-day", 5, 0],
    ]);
  });

  // Regression: a denial is cached for at most QUOTA_CACHE_TTL, but what it reports is the store's retry instant.
  it("keeps Retry-After at the day's end for denials served from the isolate cache", async () => {
    const w = dayOfFive();
    const retryAfter: Array<string | null> = [];
    for (let i = 0; i < 8; i++) {
      const res = await w.fetch("/v1/daily", asTenant("t-daily-cached"));
      if (res.status === 429) retryAfter.push(res.headers.get("Retry-After"));
      await res.arrayBuffer();
    }
    expect(retryAfter).toEqual([String(DAY_LEFT_S), String(DAY_LEFT_S), String(DAY_LEFT_S)]);
  });
});

describe("quotas switched off (ENABLE_QUOTA=false)", () => {
  it("proxies every request without identification, RateLimit headers or a limit", async () => {
    const w = workerWith({ ENABLE_QUOTA: "false" });
    const responses: Response[] = [];
    for (let i = 0; i < 120; i++) responses.push(await w.fetch(`/v1/free-for-all/${i}`));
    for (const res of responses) {
      expect(res.headers.get("RateLimit")).toBeNull();
      expect(res.headers.get("X-RateLimit-Remaining")).toBeNull();
      await originEcho(res);
    }
  });
});

describe("GET /quota/status", () => {
  it("reports the calling tenant's tier, limits, usage and resets, answered by the gateway", async () => {
    for (let i = 0; i < 3; i++) await (await gateway("/v1/x", asTenant("t-status"))).arrayBuffer();
    const body = await quotaStatus(asTenant("t-status"));
    expect(body).toEqual({
      tenant: "t-status",
      tier: "free",
      identified_by: "header",
      limits: [
        {
          name: "requests-minute",
          dimension: "requests",
          window: "minute",
          limit: 100,
          used: 3,
          remaining: 97,
          reset_at: "2026-11-23T12:01:00.000Z",
          reset_in_seconds: MINUTE_LEFT_S,
          mode: "enforce",
          sync: "strict",
        },
        {
          name: "requests-day",
          dimension: "requests",
          window: "day",
          limit: 1000,
          used: 3,
          remaining: 997,
          reset_at: "2026-11-24T00:00:00.000Z",
          reset_in_seconds: DAY_LEFT_S,
          mode: "enforce",
          sync: "strict",
        },
        expect.objectContaining({ name: "tokens-minute", dimension: "tokens", limit: 10_000, used: 0 }),
        expect.objectContaining({ name: "tokens-day", dimension: "tokens", limit: 100_000, used: 0 }),
      ],
    });
    // Reading the status costs nothing.
    const again = await quotaStatus(asTenant("t-status"));
    expect(again.limits.map((l) => l.used)).toEqual([3, 3, 0, 0]);
  });

  it("shows a tenant it has never seen with nothing used", async () => {
    const body = await quotaStatus(asTenant("t-new"));
    expect(body.limits.map((l) => [l.used, l.remaining])).toEqual([
      [0, 100],
      [0, 1000],
      [0, 10_000],
      [0, 100_000],
    ]);
  });

  it("refuses a caller without a tenant (401 problem+json)", async () => {
    const problem = await expectProblem(await gateway("/quota/status"), 401);
    expect(problem.type).toBe("urn:quotagate:problem:tenant-missing");
  });
});

describe("invalid policy", () => {
  it("answers every request with 500 problem+json naming the offending field", async () => {
    const policy = policyJson({
      tiers: { free: { limits: [{ dimension: "requests", window: "minute", limit: 0 }] } },
    });
    const w = workerWith({ QUOTA_POLICY: policy });
    for (const path of ["/v1/things", "/health", "/quota/status"]) {
      const problem = await expectProblem(await w.fetch(path, asTenant("t-any")), 500);
      expect(problem.type).toBe("urn:quotagate:problem:config-invalid");
      expect(problem.detail).toContain("QUOTA_POLICY.tiers.free.limits.0.limit");
      expect(problem.errors).toEqual([
        { path: "QUOTA_POLICY.tiers.free.limits.0.limit", message: expect.any(String) },
      ]);
      expect(problem.instance).toBe(path);
    }
  });

  it("names every issue of a policy with several", async () => {
    const policy = JSON.stringify({
      defaultTier: "gold",
      tiers: { free: { limits: [{ window: "fortnight", limit: 10 }] } },
      exmpt: ["/health"],
    });
    const problem = await expectProblem(await workerWith({ QUOTA_POLICY: policy }).fetch("/v1/x"), 500);
    const paths = (problem.errors ?? []).map((e) => e.path);
    expect(paths).toContain("QUOTA_POLICY.tiers.free.limits.0.window");
    expect(paths.some((p) => p === "QUOTA_POLICY" || p === "QUOTA_POLICY.exmpt")).toBe(true);
    expect(problem.detail).toContain("fortnight");
    expect(problem.detail).toContain("exmpt");
  });

  it("reports a QUOTA_POLICY that is not JSON", async () => {
    const problem = await expectProblem(
      await workerWith({ QUOTA_POLICY: "{tiers: free}" }).fetch("/v1/x"),
      500,
    );
    expect(problem.detail).toContain("QUOTA_POLICY: not valid JSON");
  });

  it("requires JWT_SECRET when the policy turns JWT identification on", async () => {
    const policy = policyJson({ identity: { jwt: { enabled: true } } });
    const w = workerWith({ QUOTA_POLICY: policy, JWT_SECRET: undefined });
    const problem = await expectProblem(await w.fetch("/v1/x"), 500);
    expect(problem.detail).toContain("JWT_SECRET");
  });
});
