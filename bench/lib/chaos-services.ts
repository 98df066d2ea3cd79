// Worker thread of the outage drill: the local Upstash server (stopped and started again on the same port on request)
// and the demo origin, kept off the thread that runs the load so they do not share its event loop.
import { parentPort, workerData } from "node:worker_threads";
import { startDemoOrigin } from "../../tools/demo-origin.ts";
import { startUpstashLocal, type UpstashLocal } from "../../tools/upstash-local/server.ts";

export type ServicesRequest = { op: "stop" } | { op: "start" } | { op: "close" };

const { redisUrl, token } = workerData as { redisUrl: string; token: string };
let upstash: UpstashLocal | null = await startUpstashLocal({ redisUrl, token });
const port = upstash.port;
const origin = await startDemoOrigin(0);
const parent = parentPort!;
parent.postMessage({ upstashUrl: upstash.url, originUrl: origin.url });

async function handle(m: ServicesRequest): Promise<object> {
  if (m.op === "stop") {
    // As on SIGTERM: no new connections, requests in flight get up to 2 s, then every connection is cut.
    await upstash?.close();
    upstash = null;
  } else if (m.op === "start") {
    upstash ??= await startUpstashLocal({ redisUrl, token, port });
  } else {
    await upstash?.close();
    await origin.close();
  }
  return { ok: true };
}

parent.on("message", (m: ServicesRequest) => {
  handle(m).then(
    (v) => parent.postMessage(v),
    (err: unknown) => parent.postMessage({ error: String(err) }),
  );
});
