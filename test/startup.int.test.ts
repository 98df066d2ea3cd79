// Startup validation in workerd: the real bundle with an invalid QUOTA_POLICY refuses to start, and the error names
// the offending field (what `wrangler dev` and `wrangler deploy` then show the operator).
import { beforeAll, describe, expect, it } from "vitest";
import { buildWorker, startIsolates } from "../tools/isolates.ts";

describe("startup configuration check", () => {
  let script: string;
  beforeAll(async () => {
    script = await buildWorker();
  }, 120_000);

  it("fails to start with an invalid policy, naming the field", async () => {
    const bad = JSON.stringify({ tiers: { free: { limits: [{ window: "minute", limit: -5 }] } } });
    const started = startIsolates(1, script, { ORIGIN_URL: "http://127.0.0.1:9", QUOTA_POLICY: bad });
    await expect(started).rejects.toThrow(/QUOTA_POLICY\.tiers\.free\.limits\.0\.limit/);
  }, 120_000);

  it("fails to start without ORIGIN_URL, naming it", async () => {
    await expect(startIsolates(1, script, {})).rejects.toThrow(/ORIGIN_URL/);
  }, 120_000);

  it("starts with a valid configuration", async () => {
    const iso = await startIsolates(1, script, { ORIGIN_URL: "http://127.0.0.1:9" });
    try {
      const res = await iso.fetch(0, "/health");
      expect(await res.json()).toEqual({ status: "ok", store: "memory" });
    } finally {
      await iso.dispose();
    }
  }, 120_000);
});
