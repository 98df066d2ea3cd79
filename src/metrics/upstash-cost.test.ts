// Cost estimates: commands per request, dollars per million requests and per day at a price per 100k commands.
import { describe, expect, it } from "vitest";
import { dailyCost, requestCost } from "./upstash-cost.ts";

describe("requestCost", () => {
  it("prices commands per request at the price per 100k", () => {
    // 0.05 commands per request at $0.20 / 100k: 50,000 commands per million requests = $0.10.
    expect(requestCost(500, 10_000, 0.2)).toEqual({
      store_commands: 500,
      requests: 10_000,
      commands_per_request: 0.05,
      usd_per_million_requests: 0.1,
    });
    // A per-request limiter at 2 commands: $4 per million requests.
    expect(requestCost(2_000, 1_000, 0.2).usd_per_million_requests).toBe(4);
    expect(requestCost(5, 0, 0.2)).toMatchObject({ commands_per_request: 0, usd_per_million_requests: 0 });
    expect(requestCost(500, 10_000, 0).usd_per_million_requests).toBe(0);
  });
});

describe("dailyCost", () => {
  it("carries today's rate over a whole day", () => {
    // 100k commands in the first 6 hours: $0.20 so far, $0.80 over the day.
    const c = dailyCost(100_000, 1_000_000, 6 * 3_600_000, 0.2);
    expect(c).toMatchObject({ usd_today: 0.2, usd_per_day: 0.8, commands_per_request: 0.1 });
  });

  it("reads the rate over at least ten minutes, and never beyond the day", () => {
    expect(dailyCost(1_000, 10, 1_000, 0.2).usd_per_day).toBe(0.288); // as if 600 s had passed
    expect(dailyCost(100_000, 10, 86_400_000 + 5, 0.2).usd_per_day).toBe(0.2);
  });
});
