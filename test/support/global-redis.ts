// vitest globalSetup for the integration project: a private redis-server behind tools/upstash-local, shared by every suite.

import { randomBytes } from "node:crypto";
import type { TestProject } from "vitest/node";
import { startUpstashLocal, type UpstashLocal } from "../../tools/upstash-local/server.ts";
import { requireRedisServer, startRedisServer } from "./redis-server.ts";

declare module "vitest" {
  export interface ProvidedContext {
    /** redis:// URL of the private redis-server ("" when redisAvailable is false). */
    redisUrl: string;
    /** http:// URL of the local Upstash REST server in front of it. */
    upstashUrl: string;
    /** Bearer token for upstashUrl, random per run. */
    upstashToken: string;
    /** false when redis-server is missing outside CI; suites then skip. */
    redisAvailable: boolean;
  }
}

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  // Throws in CI when redis-server is missing; locally prints a notice and the suites skip.
  if (!requireRedisServer()) {
    project.provide("redisAvailable", false);
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
  project.provide("redisUrl", redis.url);
  project.provide("upstashUrl", upstash.url);
  project.provide("upstashToken", token);
  return async () => {
    await upstash.close();
    await redis.stop();
  };
}
