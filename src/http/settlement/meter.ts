// A request on a route with token rules: its estimate becomes part of the cost decided with its other limits (all or
// nothing), its body is forwarded as the same bytes, and the origin's response settles the reservation (the actual
// charge minus what was reserved, booked through the flusher).
import type { Cost, Decision } from "../../core/quota.ts";
import type { QuotaService } from "../../limiter/quota-service.ts";
import type { RoutePricing } from "../../policy/compiled-policy.ts";
import { meterResponse } from "./metered-response.ts";
import { type BodyRead, discardBody, readBounded } from "./request-body.ts";
import { estimateRequest } from "./request-estimate.ts";

export interface Metered {
  /** What the request costs per dimension; the token dimension holds the reservation. */
  cost: Cost;
  /** The body to forward in place of the request's own (already read), if any. */
  forward: { body?: BodyInit | null };
  /** The request was refused: release what was read of its body. */
  discard(): Promise<void>;
  /** Settles the reservation from the origin's response, as it ends; adds X-Quota-Cost. `decidedAtMs`: when the
   * decision was taken (its periods are the ones the reservation was counted in). */
  settle(res: Response, decision: Decision, decidedAtMs: number): Response;
}

const unmetered = (cost: Cost): Metered => ({
  cost,
  forward: {},
  discard: async () => undefined,
  settle: (res) => res,
});

const forwardOf = (read: BodyRead): Metered["forward"] =>
  read.kind === "whole" ? { body: read.bytes } : read.kind === "oversize" ? { body: read.body } : {};

/** Reads and prices a request; throws 400/413 (QuotaGateError) for a body its route's rules refuse. A route without
 * token rules is priced at once, not through a promise. */
export function meterRequest(
  req: Request,
  pricing: RoutePricing,
  quota: Pick<QuotaService, "settle">,
): Metered | Promise<Metered> {
  const rules = pricing.tokens;
  return rules ? meterTokens(req, pricing, rules, quota) : unmetered(pricing.cost);
}

async function meterTokens(
  req: Request,
  pricing: RoutePricing,
  rules: NonNullable<RoutePricing["tokens"]>,
  quota: Pick<QuotaService, "settle">,
): Promise<Metered> {
  const read = await readBounded(req, rules.estimate.maxBodyBytes);
  let estimate: ReturnType<typeof estimateRequest>;
  try {
    estimate = estimateRequest(rules, read, req.headers);
  } catch (err) {
    await discardBody(read);
    throw err;
  }
  const dimension = rules.dimension;
  return {
    cost: { ...pricing.cost, [dimension]: estimate.units },
    forward: forwardOf(read),
    discard: () => discardBody(read),
    settle(res, decision, decidedAtMs) {
      const enforced = decision.states.filter(
        (s) => s.limit.dimension === dimension && s.limit.mode === "enforce",
      );
      return meterResponse(res, {
        rules,
        estimate,
        remaining: enforced.length ? Math.min(...enforced.map((s) => s.remaining)) : undefined,
        settle: (charged) => quota.settle(decision, dimension, charged - estimate.units, decidedAtMs),
      });
    },
  };
}
