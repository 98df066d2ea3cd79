// vitest globalSetup for the integration project: a private redis-server behind tools/upstash-local, shared by every suite.

import { randomBytes } from "node:crypto";
import type { TestProject } from "vitest/node";
import { startUpstashLocal, type UpstashLocal } from "../../tools/upstash-local/server.ts";
import { redisMissingReason, redisRequired, startRedisServer } from "./redis-server.ts";

declare module "vitest" {
  export interface ProvidedContext {
    /** redis:// URL of the private redis-server ("" when redisAvailable is false). */
    redisUrl: string;
    /** http:// URL of the local Upstash REST server in front of it. */
    upstashUrl: string;
    /** Bearer token for upstashUrl, random per run. */
    upstashToken: string;
    /** false when redis-server is missing; describeWithRedis (redis-suite.ts) then fails or skips the suites. */
    redisAvailable: boolean;
    /** true in CI: a missing redis-server fails the Redis-backed suites instead of skipping them. */
    redisRequired: boolean;
    /** Why redis-server is missing and how to install it ("" when it is there). */
    redisMissingReason: string;
  }
}

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  project.provide("redisRequired", redisRequired());
  const missing = redisMissingReason();
  if (missing !== undefined) {
    // The suites report it one by one (describeWithRedis); this line makes it visible once at the top.
    const outcome = redisRequired() ? "FAIL (CI is set)" : "are SKIPPED";
    console.warn(`\n[${project.name}] the real-Redis suites ${outcome}: ${missing}\n`);
    project.provide("redisAvailable", false);
    project.provide("redisMissingReason", missing);
    project.provide("redisUrl", "");
    project.provide("upstashUrl", "");
    project.provide("upstashToken", "");
    return undefined;
  }
  const redis = await startRedisServer();
  const token = randomBytes(16).toString("hex");
  let upstash: UpstashLocal;
  try {
    upstash = await startUpstashLocal({ redisUrl: redis.url, token });
  } catch (error) {
    await redis.stop();
    throw error;
  }
  project.provide("redisAvailable", true);
  project.provide("redisMissingReason", "");
  project.provide("redisUrl", redis.url);
  project.provide("upstashUrl", upstash.url);
  project.provide("upstashToken", token);
  return async () => {
    await upstash.close();
    await redis.stop();
  };
}
