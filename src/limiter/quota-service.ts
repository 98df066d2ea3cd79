// What the http layer asks of the limiter for a request: its plan, its decision, its tenant's live status. The
// tenant's book is looked up once per request and handed from plan resolution to the decision.
import { grantPeriod } from "../algorithms/limit-window.ts";
import type { Clock } from "../core/clock.ts";
import { type Cost, type Decision, type LimitState, needsOf, type Plan } from "../core/quota.ts";
import type { WaitUntil } from "./flusher.ts";
import type { Limiter } from "./limiter.ts";
import type { PlanRequest, PlanResolver } from "./plan-resolver.ts";
import { type Ruling, refund } from "./refund.ts";

export type { Ruling };

export interface QuotaService {
  /** Resolves the tenant's plan and decides the request's cost against it, all limits at once. */
  admit(who: PlanRequest, cost: Cost, waitUntil: WaitUntil): Promise<Decision>;
  /** The plan a tenant's requests are decided under now. */
  plan(who: PlanRequest): Promise<Plan>;
  /** Live usage of each of the plan's limits (throws store_unavailable when the store cannot be read). */
  status(plan: Plan): Promise<LimitState[]>;
  /** Books `units` more (negative: fewer) of `dimension` than an allowed request reserved, in every limit of that
   * dimension it was decided against, in the periods current at `reservedAtMs`. No I/O: sent by the next flush. */
  settle(decision: Decision, dimension: string, units: number, reservedAtMs: number): void;
  /** admit(), keeping the plan and what a refund of the decision needs. Not a promise when the isolate decided alone
   * (plan cached, allowance leased): the usual case, spared the awaits. */
  rule(who: PlanRequest, cost: Cost, waitUntil: WaitUntil): Ruling | Promise<Ruling>;
  /** Gives back what an allowed ruling took: its request was refused after all, or never reached the origin. */
  refund(ruling: Ruling): void;
}

export function createQuotaService(limiter: Limiter, resolver: PlanResolver, clock: Clock): QuotaService {
  return {
    async admit(who, cost, waitUntil) {
      return (await this.rule(who, cost, waitUntil)).decision;
    },
    async plan(who) {
      const now = clock.now();
      return resolver.planFor(limiter.books.open(who.tenant, now), who, now);
    },
    status: (plan) => limiter.status(plan),
    settle(decision, dimension, units, reservedAtMs) {
      if (!decision.allowed || units === 0) return;
      for (const { limit } of decision.states)
        if (limit.dimension === dimension)
          limiter.settle(decision.tenant, limit, grantPeriod(limit, reservedAtMs).id, units);
    },
    rule(who, cost, waitUntil) {
      const fromMs = clock.now();
      const book = limiter.books.open(who.tenant, fromMs);
      const decideUnder = (plan: Plan): Ruling | Promise<Ruling> => {
        const needs = needsOf(plan, cost);
        const ruled = (decision: Decision): Ruling => ({ plan, decision, needs, fromMs, toMs: clock.now() });
        const decision = limiter.decideIn(book, plan, needs, waitUntil);
        return decision instanceof Promise ? decision.then(ruled) : ruled(decision);
      };
      const plan = resolver.planFor(book, who, fromMs);
      return plan instanceof Promise ? plan.then(decideUnder) : decideUnder(plan);
    },
    refund: (ruling) => refund(limiter, ruling),
  };
}
