// vitest globalSetup for the workerd project: the demo origin on a free loopback port, shared by every suite.

import { createServer } from "node:net";
import type { TestProject } from "vitest/node";
import { startDemoOrigin } from "../../tools/demo-origin.ts";

declare module "vitest" {
  export interface ProvidedContext {
    /** Loopback port of the demo origin (the worker's ORIGIN_URL is http://127.0.0.1:<originPort>). */
    originPort: number;
    /** A loopback port nothing listens on, for unreachable-origin tests. */
    closedPort: number;
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

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const origin = await startDemoOrigin(0);
  project.provide("originPort", origin.port);
  project.provide("closedPort", await closedLoopbackPort());
  return () => origin.close();
}
