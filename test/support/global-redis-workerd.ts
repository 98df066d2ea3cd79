// vitest globalSetup for the workerd project: the same private redis-server + local Upstash server as the integration
// project (global-redis.ts), loaded by Node itself. The workerd project's module runner resolves packages for
// workerd, where the CommonJS ioredis loses its named exports ("Redis is not a constructor").
import { createRequire } from "node:module";
import type { TestProject } from "vitest/node";

type Setup = (project: TestProject) => Promise<(() => Promise<void>) | undefined>;

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  // Node's own loader (require of an ES module; Node strips the types of the .ts files it loads).
  const mod = createRequire(import.meta.url)("./global-redis.ts") as { default: Setup };
  return mod.default(project);
}
