// Worker thread of the live benchmark: the local Upstash server and the demo origin, kept off the thread that runs
// autocannon so the load generator does not compete with them for one event loop.
import { parentPort, workerData } from "node:worker_threads";
import { startDemoOrigin } from "../../tools/demo-origin.ts";
import { startUpstashLocal } from "../../tools/upstash-local/server.ts";

export type ServicesRequest = { op: "reset" } | { op: "snapshot" } | { op: "close" };

const { redisUrl, token } = workerData as { redisUrl: string; token: string };
const upstash = await startUpstashLocal({ redisUrl, token });
const origin = await startDemoOrigin(0);
const port = parentPort!;
port.postMessage({ upstashUrl: upstash.url, originUrl: origin.url });
port.on("message", (m: ServicesRequest) => {
  const answer = async () => {
    if (m.op === "reset") {
      upstash.resetStats();
      return { ok: true, originRequests: origin.requests() };
    }
    if (m.op === "snapshot") return { ...(await upstash.snapshot()), originRequests: origin.requests() };
    await upstash.close();
    await origin.close();
    return { ok: true };
  };
  answer().then(
    (v) => port.postMessage(v),
    (err: unknown) => port.postMessage({ error: String(err) }),
  );
});
