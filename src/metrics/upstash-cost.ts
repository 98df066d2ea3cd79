// Upstash cost estimates from the counted Redis commands: commands per request, US dollars per million requests and
// per day, at a price per 100,000 commands (UPSTASH_PRICE_PER_100K; pay-as-you-go by default).
import type { Metrics } from "./metrics.ts";

export interface RequestCost {
  store_commands: number;
  requests: number;
  /** Redis commands per quota decision (0 before the first one). */
  commands_per_request: number;
  usd_per_million_requests: number;
}

export interface DailyCost extends RequestCost {
  /** Dollars of today's commands so far (UTC day). */
  usd_today: number;
  /** Today's rate carried over a whole day. */
  usd_per_day: number;
}

const DAY_MS = 86_400_000;
/** Today's rate is read over at least this much of the day, so that the first seconds do not project wildly. */
const MIN_ELAPSED_MS = 600_000;

const round = (x: number, digits: number) => {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
};

export const usdOf = (commands: number, pricePer100k: number) => (commands / 100_000) * pricePer100k;

export function requestCost(commands: number, requests: number, pricePer100k: number): RequestCost {
  const perRequest = requests > 0 ? commands / requests : 0;
  return {
    store_commands: commands,
    requests,
    commands_per_request: round(perRequest, 4),
    usd_per_million_requests: round(usdOf(perRequest * 1_000_000, pricePer100k), 4),
  };
}

/** Cost of a UTC day's counters, `msIntoDay` after its start. */
export function dailyCost(
  commands: number,
  requests: number,
  msIntoDay: number,
  pricePer100k: number,
): DailyCost {
  const today = usdOf(commands, pricePer100k);
  const elapsed = Math.min(DAY_MS, Math.max(MIN_ELAPSED_MS, msIntoDay));
  return {
    ...requestCost(commands, requests, pricePer100k),
    usd_today: round(today, 6),
    usd_per_day: round((today * DAY_MS) / elapsed, 6),
  };
}

/** Sets the cost gauges of the Prometheus exposition from the isolate's counters. */
export function setCostGauges(m: Metrics, pricePer100k: number): void {
  const c = requestCost(
    m.total("quotagate_store_commands_total"),
    m.total("quotagate_decisions_total"),
    pricePer100k,
  );
  m.set("quotagate_upstash_command_price_usd", pricePer100k / 100_000);
  m.set("quotagate_store_commands_per_request", c.commands_per_request);
  m.set("quotagate_upstash_usd_per_million_requests", c.usd_per_million_requests);
}
