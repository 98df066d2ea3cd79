// RateLimit-Policy / RateLimit (IETF httpapi ratelimit-headers draft-10, Structured Field lists) and the legacy
// X-RateLimit-Limit/-Remaining/-Reset trio (reset in delta seconds, like `t`).

import { windowSec } from "../algorithms/limit-window.ts";
import type { Decision, LimitState } from "../core/quota.ts";

const secondsUntil = (atMs: number, nowMs: number) => Math.max(0, Math.ceil((atMs - nowMs) / 1000));

/** The limit a client should watch: a violated one, else the enforced one with the smallest share left. */
function tightest(states: LimitState[]): LimitState | undefined {
  const enforced = states.filter((s) => s.limit.mode === "enforce");
  const pool = enforced.length ? enforced : states;
  const violated = pool.find((s) => s.exceeded);
  if (violated) return violated;
  return pool.reduce<LimitState | undefined>(
    (best, s) => (!best || s.remaining / s.limit.limit < best.remaining / best.limit.limit ? s : best),
    undefined,
  );
}

export function rateLimitHeaders(decision: Decision, nowMs: number): Array<[string, string]> {
  const states = decision.states.filter((s) => s.limit.mode === "enforce");
  if (states.length === 0) return [];
  // An infinite retry time (a cost above the limit itself) has no Retry-After: waiting will not help.
  const retryAfter =
    decision.retryAtMs === undefined || !Number.isFinite(decision.retryAtMs)
      ? undefined
      : Math.max(1, secondsUntil(decision.retryAtMs, nowMs));
  const policy = states
    .map((s) => {
      const unit = s.limit.dimension === "requests" ? "" : `;qg-unit="${s.limit.dimension}"`;
      return `"${s.limit.name}";q=${s.limit.limit};w=${windowSec(s.limit, nowMs)}${unit}`;
    })
    .join(", ");
  const limits = states
    .map((s) => {
      // Retry-After must not point earlier than `t` (draft-10 §5): a violated limit reports the retry delay.
      const t = s.exceeded && retryAfter !== undefined ? retryAfter : secondsUntil(s.resetAtMs, nowMs);
      return `"${s.limit.name}";r=${s.remaining};t=${t}`;
    })
    .join(", ");
  const out: Array<[string, string]> = [
    ["RateLimit-Policy", policy],
    ["RateLimit", limits],
  ];
  const top = tightest(states);
  if (top) {
    out.push(
      ["X-RateLimit-Limit", String(top.limit.limit)],
      ["X-RateLimit-Remaining", String(top.remaining)],
      [
        "X-RateLimit-Reset",
        String(top.exceeded && retryAfter !== undefined ? retryAfter : secondsUntil(top.resetAtMs, nowMs)),
      ],
    );
  }
  if (!decision.allowed && retryAfter !== undefined) out.push(["Retry-After", String(retryAfter)]);
  return out;
}
