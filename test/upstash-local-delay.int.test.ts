// upstash-local's slow-store knob on the run's redis-server: POST /__delay holds every command request for the set
// time (a timer the test controls), off by default, and the control endpoint itself is not traffic.

import { randomUUID } from "node:crypto";
import { Redis as IORedis } from "ioredis";
import { afterAll, beforeAll, expect, inject, it } from "vitest";
import { startUpstashLocal, type UpstashLocal } from "../tools/upstash-local/server.ts";
import { call } from "./support/private-upstash.ts";
import { describeWithRedis } from "./support/redis-suite.ts";

describeWithRedis("upstash-local delay knob", () => {
  const token = "delay-token";
  /** Each wait the server takes, with the hand that lets its request go on. */
  const waits: Array<{ ms: number; release: () => void }> = [];
  let server: UpstashLocal;
  let direct: IORedis;
  beforeAll(async () => {
    direct = new IORedis(inject("redisUrl"));
    server = await startUpstashLocal({
      redisUrl: inject("redisUrl"),
      token,
      wait: (ms) => new Promise<void>((release) => waits.push({ ms, release })),
    });
  });
  afterAll(async () => {
    for (const w of waits) w.release();
    await server.close();
    await direct.quit();
  });
  const post = (path: string, body: unknown) => call(server.url, path, { token, body: JSON.stringify(body) });
  /** Resolves once the server has taken `n` waits in all. */
  const waited = async (n: number) => {
    while (waits.length < n) await new Promise((resolve) => setImmediate(resolve));
  };

  it("is off by default; then holds each command request for the delay, runs it, and 0 turns it off", async () => {
    const key = `delay:${randomUUID()}`;
    expect((await post("/pipeline", [["set", key, "early"]])).body).toEqual([{ result: "OK" }]);
    expect(waits).toEqual([]);
    expect(await post("/__delay", { ms: 2000 })).toMatchObject({ status: 200, body: { result: 2000 } });
    let answered = false;
    const pending = post("/", ["set", key, "late"]).then((answer) => {
      answered = true;
      return answer;
    });
    await waited(1);
    expect(waits[0]!.ms).toBe(2000);
    // Held: no answer, and the command has not reached Redis.
    expect(await direct.get(key)).toBe("early");
    expect(answered).toBe(false);
    waits[0]!.release();
    expect((await pending).body).toEqual({ result: "OK" });
    const transaction = post("/multi-exec", [["get", key]]);
    await waited(2);
    waits[1]!.release();
    expect((await transaction).body).toEqual([{ result: "late" }]);
    expect((await post("/__delay", { ms: 0 })).body).toEqual({ result: 0 });
    expect((await post("/", ["get", key])).body).toEqual({ result: "late" });
    expect(waits).toHaveLength(2);
  });

  it("refuses a bad delay with 400 and keeps the old one; the knob is not counted as traffic", async () => {
    server.resetStats();
    const bad = await post("/__delay", { ms: -1 });
    expect(bad.status).toBe(400);
    expect(bad.body).toEqual({ error: expect.stringContaining("ms must be an integer from 0 to 60000") });
    expect((await post("/__delay", "2000")).status).toBe(400);
    expect((await call(server.url, "/__delay", { body: '{"ms":1}' })).status).toBe(401);
    expect(server.stats()).toMatchObject({ http_requests: 0, errors: 0 });
    expect((await post("/", ["ping"])).body).toEqual({ result: "PONG" });
    expect(waits).toHaveLength(2);
  });
});
