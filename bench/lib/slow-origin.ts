// A slow origin for the fairness benchmark: every request is answered after a fixed delay, and the origin counts the
// requests it holds at once, so the report shows the in-flight maximum the origin itself saw against the gateway's
// cap (what the gateway believes is not evidence).
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

export interface SlowOrigin {
  url: string;
  /** Requests in flight now, and the most at once since the last reset. */
  inFlight(): { now: number; max: number; served: number };
  reset(): void;
  close(): Promise<void>;
}

export async function startSlowOrigin(delayMs: number): Promise<SlowOrigin> {
  let now = 0;
  let max = 0;
  let served = 0;
  const server = createServer((req, res) => {
    now++;
    max = Math.max(max, now);
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      now--;
    };
    res.on("close", finish);
    req.resume();
    setTimeout(() => {
      served++;
      res.writeHead(200, { "content-type": "text/plain" });
      res.end("ok\n", finish);
    }, delayMs);
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    inFlight: () => ({ now, max, served }),
    reset: () => {
      max = now;
      served = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
