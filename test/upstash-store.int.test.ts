// The Store contract against UpstashStore, through the local Upstash-compatible server on a private redis-server.
import { inject } from "vitest";
import { describeStoreContract } from "../src/store/contract.case.ts";
import { createUpstashStore } from "../src/store/upstash/upstash-store.ts";

const available = inject("redisAvailable");
if (available) {
  describeStoreContract("UpstashStore", () => ({
    store: createUpstashStore({ url: inject("upstashUrl"), token: inject("upstashToken"), timeoutMs: 5_000 }),
  }));
} else {
  // Only reachable outside CI (global-redis fails the run in CI when redis-server is missing).
  console.warn("[quotagate] redis-server not installed: the UpstashStore contract suite did not run");
}
