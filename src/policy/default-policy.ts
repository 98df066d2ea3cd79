// The policy bundled with the worker; a QUOTA_POLICY var holding JSON replaces it. Documented in the README.
import type { PolicyInput } from "./policy-schema.ts";

export const defaultPolicy: PolicyInput = {
  defaultTier: "free",
  tiers: {
    free: {
      limits: [
        { dimension: "requests", window: "minute", limit: 100 },
        { dimension: "requests", window: "day", limit: 1_000 },
        { dimension: "tokens", window: "minute", limit: 10_000 },
        { dimension: "tokens", window: "day", limit: 100_000 },
      ],
      // A request that asks (Prefer: wait=<s>) may wait up to two minutes for its allowance instead of a 429.
      queue: { maxWaitSeconds: 120 },
    },
    pro: {
      limits: [
        { dimension: "requests", window: "minute", limit: 1_000 },
        { dimension: "requests", window: "day", limit: 100_000 },
        { dimension: "tokens", window: "minute", limit: 100_000 },
        { dimension: "tokens", window: "day", limit: 5_000_000 },
      ],
      queue: { maxWaitSeconds: 120 },
    },
    enterprise: {
      limits: [
        { dimension: "requests", window: "minute", limit: 10_000 },
        { dimension: "requests", window: "day", limit: 10_000_000 },
        { dimension: "tokens", window: "minute", limit: 1_000_000 },
        { dimension: "tokens", window: "day", limit: 100_000_000 },
      ],
      queue: { maxWaitSeconds: 120 },
    },
  },
  // LLM calls reserve an estimate of their tokens (prompt bytes / 4 + max_tokens) and settle the origin's usage.
  routes: [{ method: "POST", path: "/v1/chat/completions", tokens: {} }],
  exempt: ["/health"],
  identity: {
    // The dev default: trust X-Tenant-ID. Turn it off in production unless an authenticating proxy sets it.
    header: { enabled: true, name: "X-Tenant-ID" },
    ip: { enabled: false, tier: "free" },
  },
  failure: "open",
};
