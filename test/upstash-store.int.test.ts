// The Store contract against UpstashStore, through the local Upstash-compatible server on a private redis-server.
import { inject } from "vitest";
import { describeStoreContract } from "../src/store/contract.case.ts";
import { createUpstashStore } from "../src/store/upstash/upstash-store.ts";
import { describeWithRedis } from "./support/redis-suite.ts";

describeWithRedis("UpstashStore on real Redis", () => {
  describeStoreContract("UpstashStore", () => ({
    store: createUpstashStore({ url: inject("upstashUrl"), token: inject("upstashToken"), timeoutMs: 5_000 }),
  }));
});
