// End to end in workerd on the Upstash store: a tampered usage cursor is bad input (400 problem+json naming the
// cursor), never a store round trip that fails with the store's error text.
import { expect, it } from "vitest";
import { createFakeClock } from "../src/core/clock.ts";
import { encodeUsageCursor } from "../src/limiter/usage-report.ts";
import { adminInit, upstashWorker } from "./support/admin.ts";
import { expectProblem } from "./support/gateway.ts";
import { describeWithRedis } from "./support/redis-suite.ts";

describeWithRedis("tampered usage cursor on the Upstash store", () => {
  it("answers 400 for a scan position beyond 2^64 - 1, without asking Redis", async () => {
    const w = upstashWorker(createFakeClock());
    for (const c of ["3:18446744073709551616", "3:99999999999999999999", "15:00000000000000000001"]) {
      const cursor = encodeUsageCursor({ l: "requests:day", p: "20261123", c, n: 10 });
      const res = await w.fetch(`/admin/quota/usage?cursor=${cursor}`, adminInit());
      const problem = await expectProblem(res, 400);
      expect(problem.errors?.map((e) => e.path)).toEqual(["cursor"]);
      expect(JSON.stringify(problem)).not.toMatch(/hscan|redis|\bERR\b/i);
    }
  });

  it("still pages with the largest position a u64 holds (Redis answers an empty batch)", async () => {
    const w = upstashWorker(createFakeClock());
    const cursor = encodeUsageCursor({
      l: "requests:day",
      p: "20261123",
      c: "3:18446744073709551615",
      n: 10,
    });
    const res = await w.fetch(`/admin/quota/usage?cursor=${cursor}`, adminInit());
    expect(res.status).toBe(200);
  });
});
