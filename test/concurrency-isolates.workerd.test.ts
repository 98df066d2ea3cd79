// End to end in workerd, concurrency across isolates: workers built by createWorker on the run's local Upstash server
// share the slots (sorted sets in Redis) but nothing else, like isolates of one deployment. The origin and tenant caps
// hold across them; the slots of an isolate that stops running come back once they expire (a fake clock moved past
// the slot TTL), while a live isolate's renewals keep its slots.
import { expect, it } from "vitest";
import { createFakeClock, createFakeTimers } from "../src/core/clock.ts";
import { UPSTASH_BINDINGS, upstashWorker } from "./support/admin.ts";
import { asTenant, expectProblem, FROZEN_AT_MS, policyJson } from "./support/gateway.ts";
import { describeWithRedis } from "./support/redis-suite.ts";
import { releaseSlow, slowArrived, testOriginUrl } from "./support/test-origin.ts";

const random = () => crypto.randomUUID().slice(0, 8);

/**
 * Two "isolates" on one Upstash store and one fake clock, each with its own timers, in front of an origin of their
 * own (a path prefix no other test uses: the origin's slots are keyed by ORIGIN_URL).
 */
function isolates(patch: Record<string, unknown>) {
  const clock = createFakeClock(FROZEN_AT_MS);
  const origin = `${testOriginUrl()}/o-${random()}`;
  const env = { ORIGIN_URL: origin, QUOTA_POLICY: policyJson(patch) };
  const timersA = createFakeTimers(clock);
  const timersB = createFakeTimers(clock);
  return {
    clock,
    origin,
    timersA,
    timersB,
    a: upstashWorker(clock, env, timersA),
    b: upstashWorker(clock, env, timersB),
  };
}

/** Expiries (ms) of the origin's slots as the store holds them: one REST call to the run's local Upstash server. */
async function slotExpiries(origin: string): Promise<number[]> {
  const res = await fetch(UPSTASH_BINDINGS.UPSTASH_REDIS_REST_URL as string, {
    method: "POST",
    headers: { authorization: `Bearer ${UPSTASH_BINDINGS.UPSTASH_REDIS_REST_TOKEN as string}` },
    body: JSON.stringify(["ZRANGE", `qg:c:o:${origin}`, 0, -1, "WITHSCORES"]),
  });
  const flat = ((await res.json()) as { result: string[] }).result;
  return flat.filter((_, i) => i % 2 === 1).map(Number);
}

/** Resolves once the store shows a slot expiring at `atMs` (a renewal is sent in the background: the test waits for
 * it to land instead of racing it). Each check is a round trip; the bound only stops a broken build from spinning. */
async function slotRenewedTo(origin: string, atMs: number): Promise<void> {
  for (let i = 0; i < 500; i++) if ((await slotExpiries(origin)).includes(atMs)) return;
  throw new Error(`no slot of ${origin} came to expire at ${atMs}: ${await slotExpiries(origin)}`);
}

const statusAndText = (p: Promise<Response>) =>
  p.then(async (r) => ({ status: r.status, text: await r.text() }));

describeWithRedis("concurrency slots across isolates sharing an Upstash store", () => {
  it("holds the origin's cap across two isolates: 3 in flight, the other 5 refused 503 at once", async () => {
    const { a, b } = isolates({ concurrency: { origin: 3 } });
    const g = `g${random()}`;
    const tenant = `t-${random()}`;
    const sent = [a, b, a, b, a, b, a, b].map((w, i) =>
      statusAndText(w.fetch(`/__loopback/slow/${g}/${i}`, asTenant(`${tenant}-${i % 3}`))),
    );
    expect((await slowArrived(g, 3)).inflight).toBe(3);
    await releaseSlow(g);
    const results = await Promise.all(sent);
    expect(results.filter((r) => r.status === 200)).toHaveLength(3);
    expect(results.filter((r) => r.status === 503)).toHaveLength(5);
    for (const r of results.filter((x) => x.status === 503)) {
      const p = JSON.parse(r.text) as { type: string; limit: number };
      expect(p).toMatchObject({
        type: "https://iana.org/assignments/http-problem-types#temporary-reduced-capacity",
        limit: 3,
      });
    }
    expect(await slowArrived(g, 3)).toMatchObject({ arrived: 3, max_inflight: 3 });
    // Every slot came back with its response's end: three more fit.
    const again = [a, b, a].map((w, i) =>
      statusAndText(w.fetch(`/__loopback/slow/${g}/again-${i}`, asTenant(tenant))),
    );
    await slowArrived(g, 6);
    await releaseSlow(g);
    expect((await Promise.all(again)).map((r) => r.status)).toEqual([200, 200, 200]);
  });

  it("holds a tenant's cap across two isolates", async () => {
    const { a, b } = isolates({
      tiers: { free: { limits: [{ window: "minute", limit: 100 }], concurrency: 2 } },
    });
    const g = `g${random()}`;
    const tenant = `t-${random()}`;
    const first = [statusAndText(a.fetch(`/__loopback/slow/${g}/0`, asTenant(tenant)))];
    first.push(statusAndText(b.fetch(`/__loopback/slow/${g}/1`, asTenant(tenant))));
    await slowArrived(g, 2);
    for (const w of [a, b]) {
      const over = await w.fetch(`/__loopback/slow/${g}/x`, asTenant(tenant));
      expect(await expectProblem(over, 429)).toMatchObject({
        "violated-policies": ["concurrency"],
        limit: 2,
      });
    }
    await releaseSlow(g);
    expect((await Promise.all(first)).map((r) => r.status)).toEqual([200, 200]);
  });

  it("gives back the slots of an isolate that stopped running once they expire; a live isolate keeps its own", async () => {
    const { clock, origin, timersB, a, b } = isolates({ concurrency: { origin: 2, slotTtlSeconds: 30 } });
    const g = `g${random()}`;
    const tenant = `t-${random()}`;
    // A's request never finishes and A never runs again (its timers never fire: no renewal).
    const stranded = statusAndText(a.fetch(`/__loopback/slow/${g}/dead`, asTenant(tenant)));
    // B's request is in flight too, and B lives on (its timers move with the clock: it renews its slot).
    const live = statusAndText(b.fetch(`/__loopback/slow/${g}/live`, asTenant(tenant)));
    await slowArrived(g, 2);
    const full = await b.fetch(`/__loopback/slow/${g}/refused`, asTenant(tenant));
    await expectProblem(full, 503);

    timersB.advance(10_000); // B renews its slot at a third of the TTL: to expire at 40 s
    await slotRenewedTo(origin, FROZEN_AT_MS + 40_000);
    timersB.advance(19_999);
    expect((await b.fetch(`/__loopback/slow/${g}/still`, asTenant(tenant))).status).toBe(503);
    timersB.advance(1); // 30 s: A's slot has expired; B's was renewed
    const next = statusAndText(b.fetch(`/__loopback/slow/${g}/next`, asTenant(tenant)));
    expect(await slowArrived(g, 3)).toMatchObject({ inflight: 3, max_inflight: 3 });
    // Only A's slot was taken over: B's live request still holds its own.
    await expectProblem(await b.fetch(`/__loopback/slow/${g}/over`, asTenant(tenant)), 503);
    expect(clock.now()).toBe(FROZEN_AT_MS + 30_000);

    await releaseSlow(g);
    expect((await Promise.all([stranded, live, next])).map((r) => r.status)).toEqual([200, 200, 200]);
  });
});
