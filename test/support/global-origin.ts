// vitest globalSetup for the workerd project: the demo origin and the loopback test origin (with its control port) on
// free loopback ports, shared by every suite, and the fuzz suite's settings (`npm run fuzz` passes them by env).

import { createServer } from "node:net";
import type { TestProject } from "vitest/node";
import { startDemoOrigin } from "../../tools/demo-origin.ts";
import { startLoopbackOrigin } from "./loopback-origin.ts";

declare module "vitest" {
  export interface ProvidedContext {
    /** Loopback port of the demo origin (the worker's ORIGIN_URL is http://127.0.0.1:<originPort>). */
    originPort: number;
    /** A loopback port nothing listens on, for unreachable-origin tests. */
    closedPort: number;
    /** Loopback port of the test origin (loopback-origin.ts): records requests, streams under control. */
    testOriginPort: number;
    /** Its control port, which only tests talk to (the gateway never points there). */
    testOriginControlPort: number;
    /** Cases of the workerd fuzz suite (QUOTAGATE_FUZZ_RUNS; 0: the suite's own default). */
    fuzzRuns: number;
    /** fast-check seed of the fuzz suite (QUOTAGATE_FUZZ_SEED; 0: a random one, printed on failure). */
    fuzzSeed: number;
  }
}

/** A port that was free a moment ago and is now closed: connecting to it is refused. */
async function closedLoopbackPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const intFromEnv = (name: string, min: number): number => {
  const n = Number(process.env[name] ?? 0);
  if (!Number.isSafeInteger(n) || n < min) throw new Error(`${name} must be an integer of at least ${min}`);
  return n;
};

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const origin = await startDemoOrigin(0);
  const testOrigin = await startLoopbackOrigin();
  project.provide("originPort", origin.port);
  project.provide("closedPort", await closedLoopbackPort());
  project.provide("testOriginPort", testOrigin.originPort);
  project.provide("testOriginControlPort", testOrigin.controlPort);
  project.provide("fuzzRuns", intFromEnv("QUOTAGATE_FUZZ_RUNS", 0));
  project.provide("fuzzSeed", intFromEnv("QUOTAGATE_FUZZ_SEED", -(2 ** 31)));
  return async () => {
    await Promise.all([origin.close(), testOrigin.close()]);
  };
}
