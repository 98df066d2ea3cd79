// End to end in workerd, concurrency aspect (memory store, one isolate, the slow loopback origin): the tenant and origin
// caps hold; a slot comes back when the streamed body ends or the origin fails; requests waiting for the origin are
// admitted round-robin across tenants, so 100 queued requests of one tenant delay another's by at most one turn.
import { describe, expect, inject, it } from "vitest";
import { createFakeClock, createFakeTimers } from "../src/core/clock.ts";
import {
  asTenant,
  expectProblem,
  FROZEN_AT_MS,
  policyJson,
  useGatewayState,
  workerWith,
} from "./support/gateway.ts";
import { burst, queueStatsOf, untilQueued } from "./support/queue.ts";
import { releaseSlow, slowArrived, testOriginUrl } from "./support/test-origin.ts";

useGatewayState();

const QUEUE = { maxWaitSeconds: 60, maxDepth: 200 };

/** A worker in front of the test origin with `patch` applied to the default policy, with time in the test's hands. */
function slowWorker(patch: Record<string, unknown>) {
  const clock = createFakeClock(FROZEN_AT_MS);
  const timers = createFakeTimers(clock);
  const w = workerWith({ ORIGIN_URL: testOriginUrl(), QUOTA_POLICY: policyJson(patch) }, clock, timers);
  return { clock, timers, w };
}

const group = () => `g${crypto.randomUUID().slice(0, 8)}`;
const slowPath = (g: string) => `/__loopback/slow/${g}`;
/** Reads each response to its end as soon as it comes (the end of the body is what releases its slot). */
const consumed = (p: Promise<Response>) => p.then(async (r) => ({ status: r.status, text: await r.text() }));
const holdQuery = (hold: "headers" | "body") => `?hold=${hold}`;

describe("concurrency limits", () => {
  it("holds a tenant's cap: the request over it is refused 429 naming the limit; another tenant is not held back", async () => {
    const { w } = slowWorker({
      tiers: { free: { limits: [{ window: "minute", limit: 100 }], concurrency: 2 } },
    });
    const g = group();
    const first = [0, 1].map((i) => w.fetch(`${slowPath(g)}/${i}`, asTenant("t-cap")));
    await slowArrived(g, 2);
    const over = await w.fetch(`${slowPath(g)}/2`, asTenant("t-cap"));
    const p = await expectProblem(over, 429);
    expect(p.type).toBe("https://iana.org/assignments/http-problem-types#quota-exceeded");
    expect(p).toMatchObject({
      "violated-policies": ["concurrency"],
      limit: 2,
      tenant: "t-cap",
      retry_after: 1,
    });
    expect(over.headers.get("Retry-After")).toBe("1");
    const other = w.fetch(`${slowPath(g)}/3`, asTenant("t-other"));
    expect((await slowArrived(g, 3)).max_inflight).toBe(3);
    await releaseSlow(g);
    for (const r of [...(await Promise.all(first)), await other]) {
      expect(r.status).toBe(200);
      await r.text();
    }
    // Their bodies have ended: the cap is free again.
    expect((await queueStatsOf(w.fetch)).slots_in_use).toEqual({ tenant: 0, origin: 0 });
    const again = w.fetch(`${slowPath(g)}/4`, asTenant("t-cap"));
    await slowArrived(g, 4);
    await releaseSlow(g);
    expect((await again).status).toBe(200);
    // The refused request took nothing from the rate limits: 3 admitted, 3 counted.
    const status = await w.fetch("/quota/status", asTenant("t-cap"));
    expect(((await status.json()) as { limits: Array<{ used: number }> }).limits[0]!.used).toBe(3);
  });

  it("keeps the slot until the end of a streamed body, then hands it to the request waiting for it", async () => {
    const { w } = slowWorker({
      concurrency: { origin: 1 },
      tiers: { free: { limits: [{ window: "minute", limit: 100 }], queue: QUEUE } },
    });
    const g = group();
    const streaming = await w.fetch(`${slowPath(g)}/0${holdQuery("body")}`, asTenant("t-stream"));
    expect(streaming.status).toBe(200);
    const reader = streaming.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toBe("start\n");
    const waiting = w.fetch(`${slowPath(g)}/1`, asTenant("t-next", { Prefer: "wait=30" }));
    await untilQueued(w.fetch, 1);
    expect((await slowArrived(g, 1)).inflight).toBe(1);
    await releaseSlow(g, 1); // the origin ends the first body
    let text = "";
    for (let r = await reader.read(); !r.done; r = await reader.read())
      text += new TextDecoder().decode(r.value);
    expect(text).toBe("end\n");
    const second = await slowArrived(g, 2);
    expect(second.max_inflight).toBe(1);
    await releaseSlow(g);
    const res = await waiting;
    expect(res.status).toBe(200);
    expect(res.headers.get("Preference-Applied")).toBe("wait=30");
  });

  it("gives the slot back when the origin cannot be reached", async () => {
    const clock = createFakeClock(FROZEN_AT_MS);
    const w = workerWith(
      {
        ORIGIN_URL: `http://127.0.0.1:${inject("closedPort")}`,
        QUOTA_POLICY: policyJson({ concurrency: { origin: 1 } }),
      },
      clock,
      createFakeTimers(clock),
    );
    for (let i = 0; i < 3; i++) {
      const res = await w.fetch(`/v1/down/${i}`, asTenant("t-down"));
      // Each one reaches for the origin (502), none is refused for capacity (503): the slot came back each time.
      expect((await expectProblem(res, 502)).type).toBe("urn:quotagate:problem:origin-unreachable");
    }
    expect((await queueStatsOf(w.fetch)).slots_in_use).toEqual({ tenant: 0, origin: 0 });
  });

  it("admits requests waiting for the origin round-robin: 100 queued of one tenant delay another's by one turn", async () => {
    const { w } = slowWorker({
      concurrency: { origin: 1 },
      tiers: {
        free: { limits: [{ window: "minute", limit: 100 }], queue: QUEUE },
        enterprise: { limits: [{ window: "minute", limit: 10_000 }], queue: QUEUE },
      },
      tenants: { ent: { tier: "enterprise" } },
    });
    const g = group();
    const opening = consumed(w.fetch(`${slowPath(g)}/open`, asTenant("ent")));
    await slowArrived(g, 1);
    const queued = burst(w.fetch, "ent", 100, { Prefer: "wait=60" }, slowPath(g)).map(consumed);
    await untilQueued(w.fetch, 100);
    const single = consumed(w.fetch(`${slowPath(g)}/single`, asTenant("free-one", { Prefer: "wait=60" })));
    const stats = await untilQueued(w.fetch, 101);
    expect(stats.depth_by_tenant).toEqual({ ent: 100, "free-one": 1 });

    // Each release ends one response; its slot goes to the next waiting request in turn.
    await releaseSlow(g, 1);
    await slowArrived(g, 2);
    await releaseSlow(g, 1);
    const third = await slowArrived(g, 3);
    expect(third.order).toEqual(["ent", "ent", "free-one"]);
    expect(third.max_inflight).toBe(1);

    // The rest go through one slot at a time: nothing is lost or left hanging.
    for (let i = 4; i <= 102; i++) {
      await releaseSlow(g);
      await slowArrived(g, i);
    }
    await releaseSlow(g);
    const all = await Promise.all([opening, ...queued, single]);
    expect(all.map((r) => r.status)).toEqual(Array(102).fill(200));
    const end = await slowArrived(g, 102);
    expect(end).toMatchObject({ arrived: 102, max_inflight: 1 });
    expect(await queueStatsOf(w.fetch)).toMatchObject({ depth: 0, admitted: 101, expired: 0 });
  });
});
