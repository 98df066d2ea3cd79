// The gateway on the Upstash store in workerd: workers built with UPSTASH_REDIS_REST_* pointing at the run's local
// Upstash-compatible server (a private redis-server behind it), proxying to the real loopback origin.
import { expect, it } from "vitest";
import { UPSTASH_BINDINGS as upstash } from "./support/admin.ts";
import { asTenant, FREE_POLICY_HEADER, useGatewayState, workerWith } from "./support/gateway.ts";
import { describeWithRedis } from "./support/redis-suite.ts";

let seq = 0;
const fresh = (label: string) => `up-${label}-${Date.now().toString(36)}-${seq++}`;

describeWithRedis("gateway on the Upstash store", () => {
  useGatewayState();

  it("selects the Upstash store when UPSTASH_REDIS_REST_URL is set", async () => {
    const res = await workerWith(upstash).fetch("/health");
    expect(await res.json()).toEqual({ status: "ok", store: "upstash" });
  });

  it("admits exactly 100 of 150 requests of a new free tenant in one minute", async () => {
    const w = workerWith(upstash);
    const tenant = fresh("free");
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 150; i++) {
      last = await w.fetch("/anything", asTenant(tenant));
      statuses.push(last.status);
      if (i < 149) await last.arrayBuffer();
    }
    expect(statuses.filter((s) => s === 200)).toHaveLength(100);
    expect(statuses.slice(100).every((s) => s === 429)).toBe(true);
    expect(last!.headers.get("RateLimit-Policy")).toBe(FREE_POLICY_HEADER);
    expect(last!.headers.get("Retry-After")).toBe("30");
    expect(last!.headers.get("RateLimit")).toBe('"requests-minute";r=0;t=30, "requests-day";r=900;t=43170');
    const body = (await last!.json()) as { status: number; "violated-policies": string[] };
    expect(body.status).toBe(429);
    expect(body["violated-policies"]).toEqual(["requests-minute"]);

    const status = await w.fetch("/quota/status", asTenant(tenant));
    const s = (await status.json()) as { limits: Array<{ name: string; used: number; remaining: number }> };
    expect(s.limits.map((l) => [l.name, l.used, l.remaining])).toEqual([
      ["requests-minute", 100, 0],
      ["requests-day", 100, 900],
      ["tokens-minute", 0, 10_000],
      ["tokens-day", 0, 100_000],
    ]);
  });

  it("two workers (isolates with their own caches) share one limit exactly", async () => {
    const policy = JSON.stringify({
      tiers: { free: { limits: [{ window: "minute", limit: 25 }] } },
      identity: { header: { enabled: true } },
    });
    const a = workerWith({ ...upstash, QUOTA_POLICY: policy });
    const b = workerWith({ ...upstash, QUOTA_POLICY: policy });
    const tenant = fresh("shared");
    let allowed = 0;
    for (let i = 0; i < 60; i++) {
      const res = await (i % 2 ? a : b).fetch("/anything", asTenant(tenant));
      await res.arrayBuffer();
      if (res.status === 200) allowed++;
      else expect(res.status).toBe(429);
    }
    expect(allowed).toBe(25);
  });
});
